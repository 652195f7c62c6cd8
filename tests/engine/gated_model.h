// A Model that lets the scheduler's forward passes through one at a time when the test says
// so, so scheduler tests can drive the batch step by step instead of guessing with sleeps what
// the scheduler thread has done. Everything but ForwardBatch goes straight to the wrapped model.
//
//   GatedModel gated(*model_);                 // closed: the first pass waits
//   auto scheduler = Scheduler::Create(gated, *tokenizer_, {});
//   ... start Generate calls on their threads ...
//   gated.WaitUntilHeldAfter(0);               // the first pass waits at the gate
//   gated.Allow(1); gated.WaitUntilHeldAfter(1);
//   gated.Open();                              // from here on, passes run freely
//
// While the scheduler is held at the gate it is inside a pass: it admits no request and changes
// no sequence until the pass is allowed, so what the test sees of its state then is stable.
#ifndef AGENTD_TESTS_ENGINE_GATED_MODEL_H_
#define AGENTD_TESTS_ENGINE_GATED_MODEL_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include <gtest/gtest.h>

#include "engine/model.h"

namespace engine {

class GatedModel final : public Model {
 public:
  // `inner` is borrowed and must outlive this.
  explicit GatedModel(Model& inner) : inner_(inner) {}
  using Model::ForwardMtp;
  using Model::NewCache;

  // Lets `passes` more forward passes through.
  void Allow(int64_t passes) {
    std::lock_guard<std::mutex> lock(mutex_);
    allowed_ += passes;
    changed_.notify_all();
  }
  // Lets every pass through from now on.
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // Blocks until `passes` passes have completed and the next one waits at the gate. Fails the
  // test (instead of hanging to the ctest timeout) when that does not happen within a minute.
  void WaitUntilHeldAfter(int64_t passes) {
    std::unique_lock<std::mutex> lock(mutex_);
    const bool reached = changed_.wait_for(lock, std::chrono::minutes(1),
                                           [&] { return completed_ == passes && held_; });
    ASSERT_TRUE(reached) << "the scheduler did not reach the gate after pass " << passes << " (completed "
                         << completed_ << ", held " << held_ << ")";
  }
  int64_t completed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return completed_;
  }

  absl::Status ForwardBatch(std::span<const BatchEntry> batch) override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      held_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_ || allowed_ > completed_; });
      held_ = false;
    }
    absl::Status status = inner_.ForwardBatch(batch);
    std::lock_guard<std::mutex> lock(mutex_);
    ++completed_;
    changed_.notify_all();
    return status;
  }

  const ModelConfig& config() const override { return inner_.config(); }
  std::shared_ptr<KvBlockPool> NewBlockPool(const KvBlockPoolOptions& options) const override {
    return inner_.NewBlockPool(options);
  }
  std::unique_ptr<KvCache> NewCache(std::shared_ptr<KvBlockPool> pool) const override {
    return inner_.NewCache(std::move(pool));
  }
  absl::StatusOr<std::vector<float>> CachedHidden(KvCache* cache, int64_t from, int64_t to) const override {
    return inner_.CachedHidden(cache, from, to);
  }
  bool has_mtp() const override { return inner_.has_mtp(); }
  std::unique_ptr<KvCache> NewMtpCache() const override { return inner_.NewMtpCache(); }
  absl::Status ForwardMtp(std::span<const float> hidden, std::span<const int32_t> next_tokens, KvCache* mtp_cache,
                          const ForwardOptions& options, ForwardResult* result) override {
    return inner_.ForwardMtp(hidden, next_tokens, mtp_cache, options, result);
  }
  uint64_t parameter_count() const override { return inner_.parameter_count(); }
  uint64_t active_parameter_count() const override { return inner_.active_parameter_count(); }
  uint64_t active_weight_bytes() const override { return inner_.active_weight_bytes(); }
  std::string weight_dtype() const override { return inner_.weight_dtype(); }

 private:
  Model& inner_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int64_t allowed_ = 0;
  int64_t completed_ = 0;
  bool held_ = false;
  bool open_ = false;
};

}  // namespace engine

#endif  // AGENTD_TESTS_ENGINE_GATED_MODEL_H_
