// A fixed number of slots for calls that hold a thread while they run (streaming generation).
// A call takes a slot before its thread starts and gives it back when the call is done; when
// none is free the call is refused at once (RESOURCE_EXHAUSTED) instead of queueing a thread.
//
//   StreamSlots slots(256);
//   std::optional<StreamSlots::Slot> slot = slots.TryTake();
//   if (!slot) return ResourceExhausted(...);   // 256 calls are streaming
//   ... the slot moves into the call and is released with it.
#ifndef AGENTD_SERVICES_STREAM_SLOTS_H_
#define AGENTD_SERVICES_STREAM_SLOTS_H_

#include <atomic>
#include <cstdint>
#include <optional>

namespace agentd::services {

class StreamSlots {
 public:
  class Slot {
   public:
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        Release();
        owner_ = other.owner_;
        other.owner_ = nullptr;
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    ~Slot() { Release(); }

   private:
    friend class StreamSlots;
    explicit Slot(StreamSlots* owner) : owner_(owner) {}
    void Release() {
      if (owner_ != nullptr) owner_->in_use_.fetch_sub(1);
      owner_ = nullptr;
    }
    StreamSlots* owner_;
  };

  explicit StreamSlots(uint64_t capacity) : capacity_(capacity) {}

  // A slot, or nothing when all `capacity` are taken.
  std::optional<Slot> TryTake() {
    uint64_t used = in_use_.load();
    while (used < capacity_) {
      if (in_use_.compare_exchange_weak(used, used + 1)) return Slot(this);
    }
    return std::nullopt;
  }

  uint64_t capacity() const { return capacity_; }
  uint64_t in_use() const { return in_use_.load(); }

 private:
  const uint64_t capacity_;
  std::atomic<uint64_t> in_use_{0};
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_STREAM_SLOTS_H_
