// CallPool: one tenant's calls never take every thread, tenants are served in turn, and the
// waiting lines are bounded. Calls block on a gate the test opens, so what is counted does not
// depend on timing.
#include "services/call_pool.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

namespace agentd::services {
namespace {

class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // Waits (a minute at most, a guard against hangs) until `count` calls wait at the gate.
  bool AwaitWaiting(int count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::minutes(1), [&] { return waiting_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(CallPoolTest, ATenantTakesAtMostItsShareAndOthersAreServedMeanwhile) {
  Gate acme_gate, globex_gate;
  {
    CallPool pool({.threads = 4, .max_running_per_tenant = 2, .max_waiting_per_tenant = 3, .max_waiting = 100});
    // Two running before three more wait: submitted at once, the calls could all still be
    // waiting for the threads to start, and the fourth was refused (it was, after a RocksDB
    // test in the same binary).
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(pool.Submit("acme", [&] { acme_gate.Wait(); }).ok());
    ASSERT_TRUE(acme_gate.AwaitWaiting(2));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.Submit("acme", [&] { acme_gate.Wait(); }).ok());
    EXPECT_EQ(pool.running(), 2);  // two threads stay free although acme has three more
    EXPECT_EQ(pool.waiting(), 3);
    absl::Status refused = pool.Submit("acme", [] {});
    EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(refused.message(), "tenant acme already has 3 calls waiting for a thread; retry once some have ended");

    // Another tenant runs at once, while acme's calls hold their threads.
    ASSERT_TRUE(pool.Submit("globex", [&] { globex_gate.Wait(); }).ok());
    ASSERT_TRUE(globex_gate.AwaitWaiting(1));
    EXPECT_EQ(pool.running(), 3);
    acme_gate.Open();
    globex_gate.Open();
  }  // the destructor runs what waits, then joins
}

TEST(CallPoolTest, EveryoneWaitingIsBoundedAndWhatWaitsRunsBeforeThePoolGoes) {
  Gate gate;
  int ran = 0;
  {
    CallPool pool({.threads = 1, .max_running_per_tenant = 1, .max_waiting_per_tenant = 10, .max_waiting = 2});
    ASSERT_TRUE(pool.Submit("a", [&] { gate.Wait(); }).ok());
    ASSERT_TRUE(gate.AwaitWaiting(1));
    ASSERT_TRUE(pool.Submit("b", [&] { ++ran; }).ok());
    ASSERT_TRUE(pool.Submit("c", [&] { ++ran; }).ok());
    EXPECT_EQ(pool.Submit("d", [&] { ++ran; }).code(), absl::StatusCode::kResourceExhausted);
    gate.Open();
  }
  EXPECT_EQ(ran, 2);
}

}  // namespace
}  // namespace agentd::services
