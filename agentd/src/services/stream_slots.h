// A fixed number of slots for calls that hold a thread while they run (streaming generation).
// A call takes a slot before its thread starts and gives it back when the call is done; when
// none is free the call is refused at once (RESOURCE_EXHAUSTED) instead of queueing a thread.
// A tenant may hold at most `per_tenant` of them, so one tenant's streams cannot refuse every
// other tenant's generation calls (the slots are the whole daemon's: gRPC and the HTTP side
// share them).
//
//   StreamSlots slots(256, 64);
//   absl::StatusOr<StreamSlots::Slot> slot = slots.TryTake("acme");
//   if (!slot.ok()) return ResourceExhausted(...);   // 256 calls, or 64 of acme's, are streaming
//   ... the slot moves into the call and is released with it.
#ifndef AGENTD_SERVICES_STREAM_SLOTS_H_
#define AGENTD_SERVICES_STREAM_SLOTS_H_

#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace agentd::services {

class StreamSlots {
 public:
  class Slot {
   public:
    Slot(Slot&& other) noexcept : owner_(other.owner_), tenant_(std::move(other.tenant_)) { other.owner_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        Release();
        owner_ = other.owner_;
        tenant_ = std::move(other.tenant_);
        other.owner_ = nullptr;
      }
      return *this;
    }
    Slot(const Slot&) = delete;
    ~Slot() { Release(); }

   private:
    friend class StreamSlots;
    Slot(StreamSlots* owner, std::string tenant) : owner_(owner), tenant_(std::move(tenant)) {}
    void Release() {
      if (owner_ != nullptr) owner_->Give(tenant_);
      owner_ = nullptr;
    }
    StreamSlots* owner_;
    std::string tenant_;
  };

  // `per_tenant` of 0 or above `capacity` means `capacity` (no share of its own).
  explicit StreamSlots(uint64_t capacity, uint64_t per_tenant = 0)
      : capacity_(capacity), per_tenant_(per_tenant == 0 || per_tenant > capacity ? capacity : per_tenant) {}

  // A slot for `tenant`, or RESOURCE_EXHAUSTED saying which bound is reached: all `capacity`
  // are taken (engine.max_streams), or `per_tenant` are `tenant`'s
  // (engine.max_streams_per_tenant).
  absl::StatusOr<Slot> TryTake(const std::string& tenant) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_tenant_.find(tenant);
    const uint64_t mine = it == by_tenant_.end() ? 0 : it->second;
    if (mine >= per_tenant_) {
      return absl::ResourceExhaustedError(absl::StrCat("tenant ", tenant, " already has ", mine,
                                                       " generation calls streaming, its share "
                                                       "(engine.max_streams_per_tenant)"));
    }
    if (in_use_ >= capacity_) {
      return absl::ResourceExhaustedError(
          absl::StrCat(capacity_, " generation calls are streaming already (engine.max_streams)"));
    }
    ++in_use_;
    ++by_tenant_[tenant];
    return Slot(this, tenant);
  }

  uint64_t capacity() const { return capacity_; }
  uint64_t per_tenant() const { return per_tenant_; }
  uint64_t in_use() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_use_;
  }

 private:
  void Give(const std::string& tenant) {
    std::lock_guard<std::mutex> lock(mutex_);
    --in_use_;
    auto it = by_tenant_.find(tenant);
    if (it != by_tenant_.end() && --it->second == 0) by_tenant_.erase(it);
  }

  const uint64_t capacity_;
  const uint64_t per_tenant_;
  mutable std::mutex mutex_;
  uint64_t in_use_ = 0;
  std::map<std::string, uint64_t> by_tenant_;  // tenants holding slots now
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_STREAM_SLOTS_H_
