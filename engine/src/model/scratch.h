// Float buffers for the intermediate results of one forward pass, kept from pass to pass.
//
// A pass over 512 tokens needs tens of megabytes of short-lived activations per layer (the
// routed experts' inputs and products above all). Allocated as std::vectors they were zeroed
// and, once freed, handed back to the kernel by malloc's trimming, so every layer of every pass
// page-faulted them in again: a third of a 512-token prefill on a 2-core VM went to clearing
// pages. A Scratch hands out uninitialised spans from chunks it keeps; Reset makes them all
// free again without returning memory (up to a bound), so a steady workload allocates nothing
// per pass.
//
//   ScratchPool pool;
//   ScratchPool::Lease scratch = pool.Acquire();   // one per concurrent pass
//   float* x = scratch->Floats(n * hidden);        // valid until the lease ends
//   Scratch::Mark mark = scratch->GetMark();
//   float* h = scratch->Floats(n * hidden);        // a layer's buffer...
//   scratch->Rewind(mark);                         // ...reused by the next layer
#ifndef AGENTD_ENGINE_MODEL_SCRATCH_H_
#define AGENTD_ENGINE_MODEL_SCRATCH_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace engine::model {

class Scratch {
 public:
  // At most `max_kept_floats` floats stay allocated across Reset; default 2^28 (1 GiB).
  explicit Scratch(size_t max_kept_floats = size_t{1} << 28) : max_kept_floats_(max_kept_floats) {}

  // `n` uninitialised floats, 64-byte aligned, valid until Reset.
  float* Floats(size_t n);
  // `n` zeroed floats.
  float* Zeros(size_t n);

  // Where allocation stands; Rewind(mark) frees every span taken since, for reuse in the same
  // pass (a layer's buffers are dead once the layer has added its output to the residual).
  struct Mark {
    size_t chunk = 0;
    size_t used = 0;
  };
  Mark GetMark() const;
  void Rewind(Mark mark);
  // Every span free again. The memory stays unless it exceeds max_kept_floats.
  void Reset();
  // Floats allocated now.
  size_t capacity() const;

 private:
  struct Free {
    void operator()(float* p) const;
  };
  struct Chunk {
    std::unique_ptr<float, Free> data;
    size_t size = 0;
    size_t used = 0;
  };
  static Chunk NewChunk(size_t floats);  // a multiple of 16 floats

  size_t max_kept_floats_;
  // Spans come from chunks_[current_]; the chunks after it are empty.
  std::vector<Chunk> chunks_;
  size_t current_ = 0;
};

// Scratches for concurrent passes: Acquire takes an idle one (or makes one) and the lease
// resets and returns it.
class ScratchPool {
 public:
  class Lease {
   public:
    Lease(ScratchPool* pool, std::unique_ptr<Scratch> scratch) : pool_(pool), scratch_(std::move(scratch)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (scratch_ != nullptr) pool_->Release(std::move(scratch_));
    }
    Scratch* operator->() const { return scratch_.get(); }
    Scratch& operator*() const { return *scratch_; }

   private:
    ScratchPool* pool_;
    std::unique_ptr<Scratch> scratch_;
  };

  Lease Acquire();

 private:
  void Release(std::unique_ptr<Scratch> scratch);
  std::mutex mutex_;
  std::vector<std::unique_ptr<Scratch>> idle_;
};

}  // namespace engine::model

#endif  // AGENTD_ENGINE_MODEL_SCRATCH_H_
