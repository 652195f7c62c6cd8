// Threads for the unary calls that may take long: a plan's top level at StartRun (up to 2 s),
// Ingest and Embed (the model), Search, Tokenize, InvokeTool (up to the tool's timeout).
//
// gRPC 1.51 runs every callback handler, of every service and tenant, on a few threads of its
// own (two on a 2-core machine, at most 16). A handler that took long held one of them, so a
// tenant's few slow calls at once held up every call of every tenant: 16 StartRuns whose plans
// spin at their top level kept another client's ListRuns waiting 14.6 s. Such handlers now
// authenticate and validate on gRPC's thread and do their work here, tenant by tenant in turn,
// no tenant on more than half the threads, so the others always find one free.
//
//   CallPool pool(CallPoolOptions{});
//   if (!pool.Submit(tenant, [=] { reactor->Finish(DoTheWork()); })) reactor->Finish(busy);
#ifndef AGENTD_SERVICES_CALL_POOL_H_
#define AGENTD_SERVICES_CALL_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace agentd::services {

struct CallPoolOptions {
  // Threads that run calls. Default 8.
  int threads = 8;
  // Calls of one tenant running at once; its others wait their turn. Default 4 (half the
  // threads: one tenant cannot take them all).
  int max_running_per_tenant = 4;
  // Calls of one tenant waiting for a thread; one more is refused. Default 256.
  int max_waiting_per_tenant = 256;
  // Calls waiting for a thread, all tenants together; one more is refused. Default 4096.
  int max_waiting = 4096;
};

class CallPool {
 public:
  explicit CallPool(const CallPoolOptions& options);
  // Runs what is still waiting, then joins the threads.
  ~CallPool();
  CallPool(const CallPool&) = delete;
  CallPool& operator=(const CallPool&) = delete;

  // Queues `work` for `tenant`. RESOURCE_EXHAUSTED (naming what is full) when the tenant's
  // waiting calls or everyone's are at their limit; `work` is then not run.
  absl::Status Submit(const std::string& tenant, std::function<void()> work);

  // For tests and metrics.
  int running() const;
  int waiting() const;

 private:
  struct Tenant {
    std::deque<std::function<void()>> waiting;
    int running = 0;
  };
  void Loop();
  // The next tenant, after the one served last, with work waiting and a thread to spare; end()
  // when none. Requires mutex_.
  std::map<std::string, Tenant>::iterator NextLocked();

  const CallPoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Tenant> tenants_;
  std::string last_served_;
  int waiting_ = 0;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_CALL_POOL_H_
