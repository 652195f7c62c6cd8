#include "call_pool.h"

#include <algorithm>
#include <exception>

#include "absl/strings/str_cat.h"
#include "log.h"

namespace agentd::services {

CallPool::CallPool(const CallPoolOptions& options) : options_(options) {
  const int threads = std::max(1, options_.threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

CallPool::~CallPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

absl::Status CallPool::Submit(const std::string& tenant, std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Tenant& mine = tenants_[tenant];
    if (static_cast<int>(mine.waiting.size()) >= options_.max_waiting_per_tenant) {
      if (mine.waiting.empty() && mine.running == 0) tenants_.erase(tenant);
      return absl::ResourceExhaustedError(absl::StrCat("tenant ", tenant, " already has ", options_.max_waiting_per_tenant,
                                                       " calls waiting for a thread; retry once some have ended"));
    }
    if (waiting_ >= options_.max_waiting) {
      if (mine.waiting.empty() && mine.running == 0) tenants_.erase(tenant);
      return absl::ResourceExhaustedError(
          absl::StrCat("the daemon already has ", options_.max_waiting, " calls waiting for a thread; retry shortly"));
    }
    mine.waiting.push_back(std::move(work));
    ++waiting_;
  }
  wake_.notify_one();
  return absl::OkStatus();
}

int CallPool::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

int CallPool::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_;
}

std::map<std::string, CallPool::Tenant>::iterator CallPool::NextLocked() {
  const int cap = std::max(1, options_.max_running_per_tenant);
  auto ready = [cap](const Tenant& t) { return !t.waiting.empty() && t.running < cap; };
  // Round robin: the tenants after the one served last, then from the first.
  for (auto it = tenants_.upper_bound(last_served_); it != tenants_.end(); ++it) {
    if (ready(it->second)) return it;
  }
  for (auto it = tenants_.begin(); it != tenants_.end() && it->first <= last_served_; ++it) {
    if (ready(it->second)) return it;
  }
  return tenants_.end();
}

void CallPool::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    auto next = tenants_.end();
    wake_.wait(lock, [&] {
      next = NextLocked();
      return next != tenants_.end() || (stopping_ && waiting_ == 0);
    });
    if (next == tenants_.end()) return;  // stopping, and nothing waits
    const std::string tenant = next->first;
    std::function<void()> work = std::move(next->second.waiting.front());
    next->second.waiting.pop_front();
    ++next->second.running;
    --waiting_;
    ++running_;
    last_served_ = tenant;
    lock.unlock();
    try {
      work();
    } catch (const std::exception& e) {
      // A call's work finishes its own call; what escapes it must not end the daemon.
      log::Error("call failed with an exception", {{"tenant", tenant}, {"error", e.what()}});
    }
    work = nullptr;  // the call's captures go before the slot is given back
    lock.lock();
    --running_;
    auto it = tenants_.find(tenant);
    if (--it->second.running == 0 && it->second.waiting.empty()) tenants_.erase(it);
    // A tenant at its cap may now run its next call on any thread.
    wake_.notify_all();
  }
}

}  // namespace agentd::services
