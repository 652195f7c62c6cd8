// The run manager: starts, executes, checkpoints, cancels and resumes agent runs, and hands out
// their event streams.
//
// A run is recorded (PENDING) before StartRun answers, then a worker thread executes its plan
// (plan_runtime.h) with a PlanHost that checkpoints each step and appends an event for
// everything that happens. At Create, runs a crash or shutdown left PENDING or RUNNING are
// queued again and resume from their last checkpoint. Shutdown() interrupts running plans
// without marking them failed, so the next daemon resumes them.
#ifndef AGENTD_RUNS_RUN_MANAGER_H_
#define AGENTD_RUNS_RUN_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agentd/v1/agent.pb.h"
#include "engine/engine.h"
#include "memory/memory_store.h"
#include "runs/run_store.h"
#include "tools/tool_registry.h"

namespace agentd::runs {

// Budgets a run gets when its request leaves them 0.
struct RunDefaults {
  // Default 1800 s.
  uint32_t deadline_seconds = 1800;
  // Default 200000.
  uint64_t max_tokens = 200000;
  // Default 200.
  uint32_t max_tool_calls = 200;
};

struct RunManagerOptions {
  // Required; outlive the manager.
  RunStore* store = nullptr;
  memory::MemoryStore* memory = nullptr;
  tools::ToolRegistry* tools = nullptr;
  // Ranks sentences for quote-grounded writing (ctx.memory.sentences); may be null (lexical
  // ranking alone).
  memory::Embedder* embedder = nullptr;
  // May be null: plans then fail at their first model call with "no model loaded".
  engine::Engine* engine = nullptr;
  // Memory and model access for Lua tools a run calls, scoped to the run's tenant. Optional.
  std::function<scripting::ScriptServices(const std::string& tenant)> services_for;
  // Plans that ship with the daemon: name → Lua source.
  std::map<std::string, std::string> builtin_plans;
  // Directory of installed plans: NAME.lua for every tenant, TENANT/NAME.lua for one tenant.
  // Empty: built-in plans and inline sources only.
  std::string plans_dir;
  // Runs executing at once. Default 4.
  int workers = 4;
  RunDefaults defaults;
  // PENDING + RUNNING runs one tenant may have; StartRun beyond it is RESOURCE_EXHAUSTED.
  // Default 16.
  int max_active_runs_per_tenant = 16;
  // Runs one tenant may keep stored, ended ones included; StartRun beyond it is
  // RESOURCE_EXHAUSTED until the tenant deletes some. 0 (the default): no limit.
  uint64_t max_stored_runs_per_tenant = 0;
  // Bytes one tenant's stored runs may take (records and events, as serialised); a checkpoint
  // that would pass it fails its run (RESOURCE_EXHAUSTED naming the setting: the run ends FAILED
  // without the outputs that did not fit), and StartRun past it is refused. 0 (the default): no
  // limit.
  uint64_t max_stored_bytes_per_tenant = 0;
  // Observers for the daemon's metrics (optional): a run reaching its final state ("SUCCEEDED",
  // "FAILED", "CANCELLED"), and a step ending, with its duration in seconds and whether it
  // succeeded.
  std::function<void(const std::string& state)> on_run_ended;
  std::function<void(double seconds, bool succeeded)> on_step_ended;
};

class RunManager {
 public:
  static absl::StatusOr<std::unique_ptr<RunManager>> Create(const RunManagerOptions& options);
  virtual ~RunManager() = default;

  // Records and queues a run. With an idempotency key already used by the tenant, returns that
  // run instead (`*existing` set true).
  virtual absl::StatusOr<agentd::v1::Run> Start(const std::string& tenant, const agentd::v1::StartRunRequest& request,
                                                bool* existing) = 0;
  virtual absl::StatusOr<agentd::v1::Run> Get(const std::string& tenant, const std::string& run_id,
                                              bool include_transcripts) = 0;
  virtual absl::StatusOr<agentd::v1::ListRunsResponse> List(const std::string& tenant,
                                                            const agentd::v1::ListRunsRequest& request) = 0;
  virtual absl::StatusOr<agentd::v1::Run> Cancel(const std::string& tenant, const std::string& run_id,
                                                 const std::string& reason) = 0;
  virtual absl::StatusOr<agentd::v1::Run> Resume(const std::string& tenant, const std::string& run_id) = 0;
  // Removes an ended run with its steps, events and idempotency key. FAILED_PRECONDITION for a
  // run that is PENDING, RUNNING or still stopping; NOT_FOUND for one the tenant does not have.
  virtual absl::Status Delete(const std::string& tenant, const std::string& run_id) = 0;

  // Events after `after_sequence` (at most `limit`, and past the first at most `max_bytes` of
  // them), and whether the run has ended with no events left after these.
  struct EventBatch {
    std::vector<agentd::v1::RunEvent> events;
    bool ended = false;
    // The daemon is shutting down and these are the last events this process will store for
    // the run (it resumes at the next start): a stream has nothing more to wait for.
    bool interrupted = false;
  };
  virtual absl::StatusOr<EventBatch> ReadEvents(const std::string& tenant, const std::string& run_id,
                                                uint64_t after_sequence, size_t limit, size_t max_bytes) = 0;
  // `notify` runs (on a manager thread, briefly) whenever the run appends an event. Returns a
  // token for Unsubscribe.
  virtual uint64_t Subscribe(const std::string& run_id, std::function<void()> notify) = 0;
  virtual void Unsubscribe(const std::string& run_id, uint64_t token) = 0;

  // Interrupts running plans (they stay RUNNING in the store and resume at the next start) and
  // joins the workers. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_RUN_MANAGER_H_
