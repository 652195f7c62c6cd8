#include "engine/kv_block_pool.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>

namespace engine {

KvBlockPool::KvBlockPool(const KvRowShape& shape, const KvBlockPoolOptions& options)
    : KvBlockPool(shape, options, nullptr) {}

KvBlockPool::KvBlockPool(const KvRowShape& shape, const KvBlockPoolOptions& options,
                         std::unique_ptr<KvBlockStorage> storage)
    : shape_(storage != nullptr ? KvRowShape{shape.layers, shape.a_width, shape.b_width, 0} : shape),
      block_size_(std::bit_ceil(static_cast<unsigned>(std::max(1, options.block_size)))),
      block_shift_(std::countr_zero(static_cast<unsigned>(block_size_))),
      max_blocks_(std::max<int64_t>(0, options.max_blocks)),
      b_start_(static_cast<int64_t>(shape.layers) * block_size_ * shape.a_width),
      hidden_start_(b_start_ + static_cast<int64_t>(shape.layers) * block_size_ * shape.b_width),
      block_floats_(hidden_start_ + block_size_ * shape_.hidden_width),
      storage_owner_(std::move(storage)) {
  if (max_blocks_ > 0) {
    storage_.resize(max_blocks_);
    base_.resize(max_blocks_, nullptr);
    refs_.resize(max_blocks_, 0);
    provided_.resize(max_blocks_, false);
    free_.reserve(max_blocks_);
    // Hand out low ids first: they are allocated lazily, so a pool that is never full never
    // touches the memory of its high blocks.
    for (int64_t i = max_blocks_ - 1; i >= 0; --i) free_.push_back(static_cast<int32_t>(i));
  }
}

int32_t KvBlockPool::Allocate() {
  std::lock_guard<std::mutex> lock(mutex_);
  int32_t block;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else if (max_blocks_ == 0) {
    block = static_cast<int32_t>(base_.size());
    storage_.emplace_back();
    base_.push_back(nullptr);
    refs_.push_back(0);
    provided_.push_back(false);
  } else {
    return -1;
  }
  if (storage_owner_ != nullptr) {
    if (!provided_[block] && !storage_owner_->Provide(block)) {
      free_.push_back(block);  // handed out again once memory is there (a bounded pool's ids stay put)
      return -1;
    }
    provided_[block] = true;
  } else if (storage_[block] == nullptr) {
    storage_[block] = std::make_unique<float[]>(block_floats_);
    base_[block] = storage_[block].get();
  }
  refs_[block] = 1;
  ++in_use_;
  return block;
}

void KvBlockPool::AddRef(int32_t block) {
  std::lock_guard<std::mutex> lock(mutex_);
  assert(refs_[block] > 0);
  ++refs_[block];
}

void KvBlockPool::Release(int32_t block) {
  std::lock_guard<std::mutex> lock(mutex_);
  assert(refs_[block] > 0);
  if (--refs_[block] == 0) {
    free_.push_back(block);
    --in_use_;
  }
}

int KvBlockPool::ref_count(int32_t block) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return refs_[block];
}

int64_t KvBlockPool::blocks_in_use() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}

int64_t KvBlockPool::free_blocks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (max_blocks_ == 0) return std::numeric_limits<int32_t>::max();
  return max_blocks_ - in_use_;
}

uint64_t KvBlockPool::bytes_allocated() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (storage_owner_ != nullptr) return storage_owner_->bytes_allocated();
  uint64_t n = 0;
  for (const auto& block : storage_) n += block != nullptr ? block_bytes() : 0;
  return n;
}

void KvBlockPool::CopyBlock(int32_t from, int32_t to) {
  if (storage_owner_ != nullptr) {
    storage_owner_->CopyBlock(from, to);
    return;
  }
  std::memcpy(base_[to], base_[from], block_bytes());
}

}  // namespace engine
