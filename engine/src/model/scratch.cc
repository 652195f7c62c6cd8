#include "model/scratch.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace engine::model {
namespace {

constexpr size_t kAlignFloats = 16;           // 64 bytes
constexpr size_t kMinChunkFloats = 1 << 20;  // 4 MiB

}  // namespace

float* Scratch::Floats(size_t n) {
  n = (std::max<size_t>(n, 1) + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  while (current_ < chunks_.size()) {
    Chunk& chunk = chunks_[current_];
    if (chunk.size - chunk.used >= n) {
      float* p = chunk.data.get() + chunk.used;
      chunk.used += n;
      return p;
    }
    if (current_ + 1 == chunks_.size()) break;
    ++current_;  // the next chunk is empty; too small for n, it is passed over until a rewind
  }
  chunks_.push_back(NewChunk(std::max(n, kMinChunkFloats)));
  current_ = chunks_.size() - 1;
  chunks_.back().used = n;
  return chunks_.back().data.get();
}

Scratch::Mark Scratch::GetMark() const {
  if (chunks_.empty()) return {};
  return {current_, chunks_[current_].used};
}

void Scratch::Rewind(Mark mark) {
  if (chunks_.empty()) return;
  for (size_t i = mark.chunk + 1; i < chunks_.size(); ++i) chunks_[i].used = 0;
  chunks_[mark.chunk].used = mark.used;
  current_ = mark.chunk;
}

Scratch::Chunk Scratch::NewChunk(size_t floats) {
  Chunk chunk;
  chunk.size = floats;
  // Spans are whole 64-byte units from a 64-byte-aligned start, so every span is aligned.
  chunk.data.reset(static_cast<float*>(std::aligned_alloc(kAlignFloats * sizeof(float), floats * sizeof(float))));
  if (chunk.data == nullptr) throw std::bad_alloc();
  return chunk;
}

void Scratch::Free::operator()(float* p) const { std::free(p); }

float* Scratch::Zeros(size_t n) {
  float* p = Floats(n);
  std::fill_n(p, n, 0.0f);
  return p;
}

void Scratch::Reset() {
  // Beyond the bound nothing is kept: a pass that asked for every position's logits over a long
  // prompt (gigabytes) does not pin that memory for good. (Merging the chunks into one was
  // tried: the fresh chunk's pages cost the next pass up to 100 ms of faults on this VM.)
  if (capacity() > max_kept_floats_) chunks_.clear();
  Rewind({});
}

size_t Scratch::capacity() const {
  size_t total = 0;
  for (const Chunk& chunk : chunks_) total += chunk.size;
  return total;
}

ScratchPool::Lease ScratchPool::Acquire() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.empty()) return Lease(this, std::make_unique<Scratch>());
  std::unique_ptr<Scratch> scratch = std::move(idle_.back());
  idle_.pop_back();
  return Lease(this, std::move(scratch));
}

void ScratchPool::Release(std::unique_ptr<Scratch> scratch) {
  scratch->Reset();
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(scratch));
}

}  // namespace engine::model
