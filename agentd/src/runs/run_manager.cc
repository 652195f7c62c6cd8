#include "runs/run_manager.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "log.h"
#include "memory/content_hash.h"
#include "runs/plan_runtime.h"
#include "runs/grounding_requests.h"
#include "runs/plan_values.h"
#include "script_services.h"
#include "tools/json_schema.h"

namespace agentd::runs {
namespace {

// Executions a run may begin without ending before it is failed instead of resumed.
constexpr uint32_t kMaxUncleanStarts = 3;

namespace fs = std::filesystem;
using agentd::internal::RunRecord;
using agentd::v1::Run;
using agentd::v1::RunEvent;
using agentd::v1::Step;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using google::protobuf::util::TimeUtil;

bool IsTerminal(agentd::v1::RunState state) {
  return state == agentd::v1::RUN_STATE_SUCCEEDED || state == agentd::v1::RUN_STATE_FAILED ||
         state == agentd::v1::RUN_STATE_CANCELLED;
}

bool ValidPlanName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  }) && name.find("..") == std::string::npos;
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void AddUsage(agentd::v1::Usage* into, uint64_t prompt, uint64_t completion) {
  into->set_prompt_tokens(into->prompt_tokens() + prompt);
  into->set_completion_tokens(into->completion_tokens() + completion);
}

Step* FindStep(Run* run, const std::string& name) {
  for (Step& step : *run->mutable_steps()) {
    if (step.name() == name) return &step;
  }
  return nullptr;
}

engine::ChatMessage::Role RoleFrom(const std::string& role) {
  if (role == "system") return engine::ChatMessage::Role::kSystem;
  if (role == "assistant") return engine::ChatMessage::Role::kAssistant;
  if (role == "tool") return engine::ChatMessage::Role::kTool;
  return engine::ChatMessage::Role::kUser;
}

// The run as clients see it: transcripts only when asked, the artifact's content not in lists.
Run PublicView(const RunRecord& record, uint64_t last_sequence, bool include_transcripts, bool include_content = true) {
  Run run = record.run();
  run.set_last_sequence(last_sequence);
  if (!include_transcripts) {
    for (Step& step : *run.mutable_steps()) step.clear_transcript();
  }
  if (!include_content) {
    run.mutable_artifact()->clear_content();
    for (Step& step : *run.mutable_steps()) step.clear_output_json();
  }
  return run;
}

struct ActiveRun {
  std::mutex mutex;
  RunRecord record;
  uint64_t last_sequence = 0;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> interrupted{false};
  // cancelled || interrupted, for the sandbox to poll.
  std::atomic<bool> stop_requested{false};
  bool resumed = false;
  bool queued = false;
};

class RunManagerImpl;

// What one executing plan calls; lives for one attempt of one run.
class RunHost final : public PlanHost {
 public:
  RunHost(RunManagerImpl* manager, std::shared_ptr<ActiveRun> run, Clock::time_point deadline)
      : manager_(manager), run_(std::move(run)), deadline_(deadline) {}

  std::optional<std::string> FinishedStepOutput(const std::string& step) override;
  absl::Status StepStarted(const std::string& step) override;
  absl::Status StepFinished(const std::string& step, const std::string& output_json) override;
  void StepFailed(const std::string& step, const std::string& error) override;
  absl::StatusOr<Json> Model(const std::string& step, const std::string& kind, const Json& request) override;
  absl::StatusOr<Json> Retrieve(const std::string& step, const Json& request) override;
  absl::StatusOr<Json> Sentences(const std::string& step, const Json& request) override;
  absl::StatusOr<Json> Tool(const std::string& step, const std::string& name, const Json& arguments) override;
  Json ListTools() override;
  int ContextLength() override {
    engine::Engine* engine = manager_options_engine();
    return engine == nullptr ? 0 : engine->info().context_length;
  }
  Json ModelInfo() override {
    engine::Engine* engine = manager_options_engine();
    if (engine == nullptr) return {{"loaded", false}};
    const engine::EngineInfo& info = engine->info();
    return {{"loaded", true}, {"name", info.name}, {"context_length", info.context_length},
            {"writing_style", info.writing_style}, {"has_mtp", info.has_mtp}};
  }
  int CountTokens(const std::string& text) override {
    engine::Engine* engine = manager_options_engine();
    return engine == nullptr ? 0 : static_cast<int>(engine->tokenizer().Encode(text).size());
  }
  void Warn(const std::string& step, const std::string& message) override;
  void Log(const std::string& level, const std::string& message) override;

  // Why the run must stop now, if it must.
  absl::Status StopReason() const;

 private:
  engine::Engine* manager_options_engine() const;
  void AddTranscript(const std::string& step, agentd::v1::TranscriptEntry::Kind kind, const std::string& request,
                     const std::string& response);

  RunManagerImpl* manager_;
  std::shared_ptr<ActiveRun> run_;
  Clock::time_point deadline_;
  std::atomic<int> tool_call_counter_{0};
};

class RunManagerImpl final : public RunManager {
 public:
  explicit RunManagerImpl(const RunManagerOptions& options) : options_(options) {}
  ~RunManagerImpl() override { Shutdown(); }

  absl::Status Init() {
    absl::StatusOr<std::vector<RunRecord>> unfinished = options_.store->Unfinished();
    if (!unfinished.ok()) return unfinished.status();
    for (RunRecord& record : *unfinished) {
      auto run = std::make_shared<ActiveRun>();
      absl::StatusOr<uint64_t> last = options_.store->LastSequence(record.run().run_id());
      if (!last.ok()) return last.status();
      run->last_sequence = *last;
      run->resumed = record.run().state() == agentd::v1::RUN_STATE_RUNNING;
      run->record = std::move(record);
      if (run->record.unclean_starts() >= kMaxUncleanStarts) {
        const std::string error = absl::StrCat("the run crashed the daemon ", run->record.unclean_starts(),
                                               " times; it is not resumed again");
        log::Error("run not resumed", {{"run_id", run->record.run().run_id()}, {"error", error}});
        std::lock_guard<std::mutex> lock(run->mutex);
        for (Step& step : *run->record.mutable_run()->mutable_steps()) {
          if (step.state() == agentd::v1::STEP_STATE_RUNNING) step.set_state(agentd::v1::STEP_STATE_FAILED);
        }
        Finish(*run, agentd::v1::RUN_STATE_FAILED, error);
        continue;
      }
      log::Info("resuming run", {{"run_id", run->record.run().run_id()}, {"tenant", run->record.run().tenant()},
                                  {"plan", run->record.run().plan()}});
      Enqueue(run);
    }
    const int workers = std::max(1, options_.workers);
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
    return absl::OkStatus();
  }

  absl::StatusOr<Run> Start(const std::string& tenant, const agentd::v1::StartRunRequest& request,
                            bool* existing) override {
    *existing = false;
    std::lock_guard<std::mutex> start_lock(start_mutex_);  // idempotency check and insert as one
    if (!request.idempotency_key().empty()) {
      auto found = options_.store->FindByIdempotencyKey(tenant, request.idempotency_key());
      if (!found.ok()) return found.status();
      if (found->has_value()) {
        *existing = true;
        return Get(tenant, **found, false);
      }
    }
    Json inputs = Json::object();
    if (!request.inputs_json().empty()) {
      inputs = Json::parse(request.inputs_json(), nullptr, false);
      if (inputs.is_discarded() || !inputs.is_object()) {
        return absl::InvalidArgumentError("inputs_json: must be a JSON object");
      }
    }
    std::string source;
    std::string chunk_name;
    if (!request.plan_source().empty()) {
      source = request.plan_source();
      chunk_name = absl::StrCat("inline plan '", request.plan(), "'");
    } else {
      absl::StatusOr<std::string> found = FindPlan(tenant, request.plan());
      if (!found.ok()) return found.status();
      source = *found;
      chunk_name = request.plan() + ".lua";
    }
    // A client may ask for less than the daemon's budgets, never for more.
    const agentd::v1::RunLimits& asked = request.limits();
    for (auto [field, value, cap, key] :
         {std::tuple{"limits.deadline_seconds", static_cast<uint64_t>(asked.deadline_seconds()),
                     static_cast<uint64_t>(options_.defaults.deadline_seconds), "runs.deadline_seconds"},
          std::tuple{"limits.max_tokens", static_cast<uint64_t>(asked.max_tokens()), static_cast<uint64_t>(options_.defaults.max_tokens),
                     "runs.max_tokens"},
          std::tuple{"limits.max_tool_calls", static_cast<uint64_t>(asked.max_tool_calls()),
                     static_cast<uint64_t>(options_.defaults.max_tool_calls), "runs.max_tool_calls"}}) {
      if (value > cap) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", cap, " (the daemon's ", key, ")"));
      }
    }
    if (ActiveRunsOf(tenant) >= options_.max_active_runs_per_tenant) {
      return absl::ResourceExhaustedError(absl::StrCat("tenant ", tenant, " already has ", options_.max_active_runs_per_tenant,
                                                       " active runs (the limit); wait for one to end or cancel one"));
    }

    auto run = std::make_shared<ActiveRun>();
    RunRecord& record = run->record;
    Run* r = record.mutable_run();
    r->set_run_id(RunStore::NewRunId());
    r->set_tenant(tenant);
    r->set_plan(request.plan());
    r->set_plan_sha256(memory::Sha256Hex(source));
    r->set_state(agentd::v1::RUN_STATE_PENDING);
    r->set_inputs_json(DumpJson(inputs));
    agentd::v1::RunLimits* limits = r->mutable_limits();
    limits->set_deadline_seconds(request.limits().deadline_seconds() ? request.limits().deadline_seconds()
                                                                     : options_.defaults.deadline_seconds);
    limits->set_max_tokens(request.limits().max_tokens() ? request.limits().max_tokens() : options_.defaults.max_tokens);
    limits->set_max_tool_calls(request.limits().max_tool_calls() ? request.limits().max_tool_calls()
                                                                 : options_.defaults.max_tool_calls);
    for (const auto& [key, value] : request.labels()) (*r->mutable_labels())[key] = value;
    *r->mutable_created_at() = TimeUtil::GetCurrentTime();
    *r->mutable_updated_at() = r->created_at();
    record.set_plan_source(source);
    record.set_plan_chunk_name(chunk_name);
    record.set_idempotency_key(request.idempotency_key());
    absl::Status stored = options_.store->Put(record, request.idempotency_key());
    if (!stored.ok()) return stored;
    log::Info("run started", {{"run_id", r->run_id()}, {"tenant", tenant}, {"plan", r->plan()}});
    Run view = PublicView(record, 0, false);
    Enqueue(run);
    return view;
  }

  absl::StatusOr<Run> Get(const std::string& tenant, const std::string& run_id, bool include_transcripts) override {
    if (std::shared_ptr<ActiveRun> run = FindActive(tenant, run_id)) {
      std::lock_guard<std::mutex> lock(run->mutex);
      return PublicView(run->record, run->last_sequence, include_transcripts);
    }
    absl::StatusOr<RunRecord> record = options_.store->Get(tenant, run_id);
    if (!record.ok()) return record.status();
    absl::StatusOr<uint64_t> last = options_.store->LastSequence(run_id);
    if (!last.ok()) return last.status();
    return PublicView(*record, *last, include_transcripts);
  }

  absl::StatusOr<agentd::v1::ListRunsResponse> List(const std::string& tenant,
                                                    const agentd::v1::ListRunsRequest& request) override {
    RunListQuery query;
    query.tenant = tenant;
    query.page_size = request.page_size() == 0 ? 50 : request.page_size();
    if (query.page_size > 1000) return absl::InvalidArgumentError("page_size: at most 1000");
    query.after_run_id = request.page_token();
    for (int state : request.states()) query.states.push_back(static_cast<agentd::v1::RunState>(state));
    query.plan = request.plan();
    absl::StatusOr<RunListPage> page = options_.store->List(query);
    if (!page.ok()) return page.status();
    agentd::v1::ListRunsResponse response;
    for (const RunRecord& stored : page->runs) {
      std::shared_ptr<ActiveRun> active = FindActive(tenant, stored.run().run_id());
      if (active) {
        std::lock_guard<std::mutex> lock(active->mutex);
        *response.add_runs() = PublicView(active->record, active->last_sequence, false, false);
      } else {
        absl::StatusOr<uint64_t> last = options_.store->LastSequence(stored.run().run_id());
        *response.add_runs() = PublicView(stored, last.ok() ? *last : 0, false, false);
      }
    }
    response.set_next_page_token(page->next_after_run_id);
    return response;
  }

  absl::StatusOr<Run> Cancel(const std::string& tenant, const std::string& run_id, const std::string& reason) override {
    std::shared_ptr<ActiveRun> run = FindActive(tenant, run_id);
    if (!run) {
      absl::StatusOr<RunRecord> record = options_.store->Get(tenant, run_id);
      if (!record.ok()) return record.status();
      return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " has already ended (",
                                                        agentd::v1::RunState_Name(record->run().state()), ")"));
    }
    {
      std::lock_guard<std::mutex> lock(run->mutex);
      if (IsTerminal(run->record.run().state())) {
        return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " has already ended (",
                                                          agentd::v1::RunState_Name(run->record.run().state()), ")"));
      }
      run->cancelled = true;
      run->stop_requested = true;
      Run* r = run->record.mutable_run();
      for (Step& step : *r->mutable_steps()) {
        if (step.state() == agentd::v1::STEP_STATE_RUNNING || step.state() == agentd::v1::STEP_STATE_PENDING) {
          step.set_state(agentd::v1::STEP_STATE_SKIPPED);
          *step.mutable_finished_at() = TimeUtil::GetCurrentTime();
        }
      }
      Finish(*run, agentd::v1::RUN_STATE_CANCELLED, reason.empty() ? "cancelled" : absl::StrCat("cancelled: ", reason));
    }
    log::Info("run cancelled", {{"run_id", run_id}, {"reason", reason}});
    Notify(run_id);
    return Get(tenant, run_id, false);
  }

  absl::StatusOr<Run> Resume(const std::string& tenant, const std::string& run_id) override {
    std::lock_guard<std::mutex> start_lock(start_mutex_);
    if (std::shared_ptr<ActiveRun> active = FindActive(tenant, run_id)) {
      std::lock_guard<std::mutex> lock(active->mutex);
      if (!IsTerminal(active->record.run().state())) {
        return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " is ",
                                                          agentd::v1::RunState_Name(active->record.run().state()),
                                                          "; only FAILED or CANCELLED runs can be resumed"));
      }
      // Cancelled, but its worker has not let go yet: a second execution would collide with it
      // (event sequence numbers, the active-run entry).
      return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " is still stopping; resume it once it has stopped"));
    }
    absl::StatusOr<RunRecord> record = options_.store->Get(tenant, run_id);
    if (!record.ok()) return record.status();
    const auto state = record->run().state();
    if (state == agentd::v1::RUN_STATE_SUCCEEDED) {
      return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " has SUCCEEDED; there is nothing to resume"));
    }
    if (!IsTerminal(state)) {
      return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " is ", agentd::v1::RunState_Name(state),
                                                        "; only FAILED or CANCELLED runs can be resumed"));
    }
    auto run = std::make_shared<ActiveRun>();
    absl::StatusOr<uint64_t> last = options_.store->LastSequence(run_id);
    if (!last.ok()) return last.status();
    run->last_sequence = *last;
    run->resumed = true;
    run->record = std::move(*record);
    Run* r = run->record.mutable_run();
    r->set_state(agentd::v1::RUN_STATE_PENDING);
    r->clear_error();
    r->clear_finished_at();
    // An explicit resume grants a fresh deadline and forgets earlier crashes; token and tool
    // budgets keep counting.
    run->record.set_elapsed_seconds(0);
    run->record.set_unclean_starts(0);
    *r->mutable_updated_at() = TimeUtil::GetCurrentTime();
    absl::Status stored = options_.store->Put(run->record);
    if (!stored.ok()) return stored;
    Run view = PublicView(run->record, run->last_sequence, false);
    Enqueue(run);
    return view;
  }

  absl::StatusOr<EventBatch> ReadEvents(const std::string& tenant, const std::string& run_id, uint64_t after_sequence,
                                        size_t limit) override {
    bool ended = false;
    uint64_t last = 0;
    if (std::shared_ptr<ActiveRun> run = FindActive(tenant, run_id)) {
      std::lock_guard<std::mutex> lock(run->mutex);
      ended = IsTerminal(run->record.run().state());
      last = run->last_sequence;
    } else {
      absl::StatusOr<RunRecord> record = options_.store->Get(tenant, run_id);
      if (!record.ok()) return record.status();
      ended = IsTerminal(record->run().state());
      absl::StatusOr<uint64_t> stored_last = options_.store->LastSequence(run_id);
      if (!stored_last.ok()) return stored_last.status();
      last = *stored_last;
    }
    EventBatch batch;
    absl::StatusOr<std::vector<RunEvent>> events = options_.store->ReadEvents(run_id, after_sequence, limit);
    if (!events.ok()) return events.status();
    batch.events = std::move(*events);
    const uint64_t delivered = batch.events.empty() ? after_sequence : batch.events.back().sequence();
    batch.ended = ended && delivered >= last;
    return batch;
  }

  uint64_t Subscribe(const std::string& run_id, std::function<void()> notify) override {
    std::lock_guard<std::mutex> lock(subscribers_mutex_);
    const uint64_t token = ++next_subscription_;
    subscribers_[run_id][token] = std::move(notify);
    return token;
  }

  void Unsubscribe(const std::string& run_id, uint64_t token) override {
    std::lock_guard<std::mutex> lock(subscribers_mutex_);
    auto it = subscribers_.find(run_id);
    if (it == subscribers_.end()) return;
    it->second.erase(token);
    if (it->second.empty()) subscribers_.erase(it);
  }

  void Shutdown() override {
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      if (stopping_) return;
      stopping_ = true;
      for (auto& [id, run] : active_) {
        run->interrupted = true;
        run->stop_requested = true;
      }
    }
    queue_cv_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }

  // --- used by RunHost ---

  // Appends an event (the caller holds run.mutex).
  void Emit(ActiveRun& run, RunEvent event) {
    event.set_sequence(++run.last_sequence);
    event.set_run_id(run.record.run().run_id());
    *event.mutable_time() = TimeUtil::GetCurrentTime();
    absl::Status status = options_.store->AppendEvent(event);
    if (!status.ok()) log::Error("event not stored", {{"run_id", event.run_id()}, {"error", status.ToString()}});
  }

  absl::Status Persist(ActiveRun& run) {
    *run.record.mutable_run()->mutable_updated_at() = TimeUtil::GetCurrentTime();
    return options_.store->Put(run.record);
  }

  void Notify(const std::string& run_id) {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(subscribers_mutex_);
      auto it = subscribers_.find(run_id);
      if (it == subscribers_.end()) return;
      for (auto& [token, callback] : it->second) callbacks.push_back(callback);
    }
    for (auto& callback : callbacks) callback();
  }

  const RunManagerOptions& options() const { return options_; }

 private:
  absl::StatusOr<std::string> FindPlan(const std::string& tenant, const std::string& name) {
    if (!ValidPlanName(name)) {
      return absl::InvalidArgumentError(absl::StrCat("plan: '", name, "' is not a valid plan name (letters, digits, _ - .)"));
    }
    if (!options_.plans_dir.empty()) {
      for (const fs::path& path : {fs::path(options_.plans_dir) / tenant / (name + ".lua"),
                                   fs::path(options_.plans_dir) / (name + ".lua")}) {
        std::error_code ec;
        if (fs::is_regular_file(path, ec)) return ReadFile(path);
      }
    }
    auto builtin = options_.builtin_plans.find(name);
    if (builtin != options_.builtin_plans.end()) return builtin->second;
    return absl::NotFoundError(absl::StrCat("plan: no plan named '", name, "' (built-in or in the plans directory)"));
  }

  int ActiveRunsOf(const std::string& tenant) {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    int count = 0;
    for (auto& [id, run] : active_) {
      if (run->record.run().tenant() == tenant) ++count;
    }
    return count;
  }

  std::shared_ptr<ActiveRun> FindActive(const std::string& tenant, const std::string& run_id) {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    auto it = active_.find(run_id);
    if (it == active_.end() || it->second->record.run().tenant() != tenant) return nullptr;
    return it->second;
  }

  void Enqueue(std::shared_ptr<ActiveRun> run) {
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      active_[run->record.run().run_id()] = run;
      if (stopping_) {
        run->interrupted = true;
        run->stop_requested = true;
        return;
      }
      queue_.push_back(run);
    }
    queue_cv_.notify_one();
  }

  void WorkerLoop() {
    while (true) {
      std::shared_ptr<ActiveRun> run;
      {
        std::unique_lock<std::mutex> lock(queue_mutex_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        run = queue_.front();
        queue_.pop_front();
      }
      Execute(run);
      {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        if (!run->interrupted) active_.erase(run->record.run().run_id());
      }
      Notify(run->record.run().run_id());
    }
  }

  // Sets the final state and emits RunEnded (the caller holds run.mutex).
  void Finish(ActiveRun& run, agentd::v1::RunState state, const std::string& error) {
    Run* r = run.record.mutable_run();
    r->set_state(state);
    r->set_error(ValidUtf8(error));
    *r->mutable_finished_at() = TimeUtil::GetCurrentTime();
    absl::Status stored = Persist(run);
    if (!stored.ok()) log::Error("run state not stored", {{"run_id", r->run_id()}, {"error", stored.ToString()}});
    RunEvent event;
    agentd::v1::RunEnded* ended = event.mutable_run_ended();
    ended->set_state(state);
    ended->set_error(ValidUtf8(error));
    *ended->mutable_usage() = r->usage();
    Emit(run, std::move(event));
  }

  void Execute(const std::shared_ptr<ActiveRun>& run) {
    const std::string run_id = run->record.run().run_id();
    RunRecord snapshot;
    {
      std::lock_guard<std::mutex> lock(run->mutex);
      if (run->cancelled || IsTerminal(run->record.run().state())) return;
      run->record.mutable_run()->set_state(agentd::v1::RUN_STATE_RUNNING);
      run->record.set_unclean_starts(run->record.unclean_starts() + 1);
      absl::Status stored = Persist(*run);
      if (!stored.ok()) log::Error("run state not stored", {{"run_id", run_id}, {"error", stored.ToString()}});
      RunEvent event;
      event.mutable_run_started()->set_plan(run->record.run().plan());
      event.mutable_run_started()->set_resumed(run->resumed);
      Emit(*run, std::move(event));
      snapshot = run->record;
    }
    Notify(run_id);

    const auto started = Clock::now();
    const double budget = snapshot.run().limits().deadline_seconds() - snapshot.elapsed_seconds();
    const auto deadline = started + std::chrono::milliseconds(static_cast<int64_t>(std::max(0.0, budget) * 1000));
    RunHost host(this, run, deadline);
    PlanRunOptions plan;
    plan.source = snapshot.plan_source();
    plan.chunk_name = snapshot.plan_chunk_name();
    if (!options_.plans_dir.empty()) {
      // A tenant's modules come from its own directory, or flat from the shared one: never from
      // another tenant's (require("acme.secret") must not reach plans_dir/acme/secret.lua).
      plan.scripts_dir = (std::filesystem::path(options_.plans_dir) / snapshot.run().tenant()).string();
      plan.shared_scripts_dir = options_.plans_dir;
    }
    plan.inputs = Json::parse(snapshot.run().inputs_json(), nullptr, false);
    plan.run_id = run_id;
    plan.limits.timeout_seconds = std::max(1.0, budget + 5);
    plan.limits.max_instructions = 4'000'000'000ull;
    plan.limits.max_memory_bytes = 256ull << 20;
    plan.host = &host;
    plan.interrupt = &run->stop_requested;
    absl::StatusOr<Json> artifact = absl::InternalError("the plan did not run");
    try {
      artifact = RunPlan(plan);
    } catch (const std::exception& e) {
      // Nothing a plan does may end the daemon: what escaped the host calls' own guards fails
      // this run.
      artifact = absl::InternalError(absl::StrCat("the run stopped on an internal error: ", e.what()));
    }

    std::lock_guard<std::mutex> lock(run->mutex);
    run->record.set_unclean_starts(0);  // persisted below, whichever way the run ends
    run->record.set_elapsed_seconds(run->record.elapsed_seconds() +
                                    std::chrono::duration<double>(Clock::now() - started).count());
    if (run->interrupted) {
      // Left RUNNING: the next daemon resumes it.
      absl::Status stored = Persist(*run);
      if (!stored.ok()) log::Error("run state not stored", {{"run_id", run_id}, {"error", stored.ToString()}});
      log::Info("run interrupted by shutdown", {{"run_id", run_id}});
      return;
    }
    if (run->cancelled || IsTerminal(run->record.run().state())) return;  // Cancel finished it
    if (!artifact.ok()) {
      const absl::Status& status = artifact.status();
      std::string error(status.message());
      if (status.code() == absl::StatusCode::kDeadlineExceeded && !absl::StrContains(error, "deadline")) {
        error = absl::StrCat("deadline exceeded: ", error);
      }
      log::Info("run failed", {{"run_id", run_id}, {"error", error}});
      Finish(*run, agentd::v1::RUN_STATE_FAILED, error);
      return;
    }
    agentd::v1::Artifact* out = run->record.mutable_run()->mutable_artifact();
    absl::Status mapped = ArtifactFromJson(*artifact, out);
    if (!mapped.ok()) {
      out->Clear();
      log::Info("run failed", {{"run_id", run_id}, {"error", std::string(mapped.message())}});
      Finish(*run, agentd::v1::RUN_STATE_FAILED, std::string(mapped.message()));
      return;
    }
    Finish(*run, agentd::v1::RUN_STATE_SUCCEEDED, "");
    log::Info("run succeeded", {{"run_id", run_id}, {"content_bytes", out->content().size()}});
  }

  RunManagerOptions options_;
  std::mutex start_mutex_;
  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<ActiveRun>> queue_;
  std::map<std::string, std::shared_ptr<ActiveRun>> active_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::mutex subscribers_mutex_;
  std::map<std::string, std::map<uint64_t, std::function<void()>>> subscribers_;
  uint64_t next_subscription_ = 0;
};

// Whether a JSON Schema anywhere bounds a number's value (what the decoding constraint leaves to
// validation).
bool HasValueBounds(const Json& schema) {
  if (schema.is_array()) {
    for (const Json& item : schema) {
      if (HasValueBounds(item)) return true;
    }
    return false;
  }
  if (!schema.is_object()) return false;
  for (const auto& [key, value] : schema.items()) {
    if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" || key == "exclusiveMaximum" ||
        key == "multipleOf" || HasValueBounds(value)) {
      return true;
    }
  }
  return false;
}

// --- RunHost ---

engine::Engine* RunHost::manager_options_engine() const { return manager_->options().engine; }

absl::Status RunHost::StopReason() const {
  if (run_->interrupted) return absl::UnavailableError("the daemon is shutting down; the run resumes at the next start");
  if (run_->cancelled) return absl::CancelledError("the run was cancelled");
  if (Clock::now() > deadline_) {
    return absl::DeadlineExceededError(absl::StrCat("the run's deadline of ", run_->record.run().limits().deadline_seconds(),
                                                    " s was exceeded"));
  }
  return absl::OkStatus();
}

std::optional<std::string> RunHost::FinishedStepOutput(const std::string& name) {
  std::lock_guard<std::mutex> lock(run_->mutex);
  Step* step = FindStep(run_->record.mutable_run(), name);
  if (step == nullptr || step->state() != agentd::v1::STEP_STATE_SUCCEEDED) return std::nullopt;
  return step->output_json();
}

absl::Status RunHost::StepStarted(const std::string& name) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  // Step names are stored and streamed as protobuf strings.
  if (name.empty() || name.size() > 256 || ValidUtf8(name) != name) {
    return absl::InvalidArgumentError("ctx.step: the step name must be UTF-8 text of 1 to 256 bytes");
  }
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    Step* step = FindStep(run_->record.mutable_run(), name);
    if (step == nullptr) {
      step = run_->record.mutable_run()->add_steps();
      step->set_name(name);
    }
    step->set_state(agentd::v1::STEP_STATE_RUNNING);
    step->set_attempts(step->attempts() + 1);
    step->clear_error();
    step->clear_finished_at();
    *step->mutable_started_at() = TimeUtil::GetCurrentTime();
    absl::Status stored = manager_->Persist(*run_);
    if (!stored.ok()) return stored;
    RunEvent event;
    event.mutable_step_started()->set_step(name);
    event.mutable_step_started()->set_attempt(step->attempts());
    manager_->Emit(*run_, std::move(event));
  }
  manager_->Notify(run_->record.run().run_id());
  return absl::OkStatus();
}

absl::Status RunHost::StepFinished(const std::string& name, const std::string& output_json) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    Step* step = FindStep(run_->record.mutable_run(), name);
    if (step == nullptr) return absl::InternalError(absl::StrCat("step ", name, " finished without starting"));
    step->set_state(agentd::v1::STEP_STATE_SUCCEEDED);
    step->set_output_json(ValidUtf8(output_json));
    *step->mutable_finished_at() = TimeUtil::GetCurrentTime();
    // The checkpoint is durable before the plan moves on.
    absl::Status stored = manager_->Persist(*run_);
    if (!stored.ok()) return stored;
    RunEvent event;
    agentd::v1::StepFinished* finished = event.mutable_step_finished();
    finished->set_step(name);
    finished->set_state(agentd::v1::STEP_STATE_SUCCEEDED);
    *finished->mutable_usage() = step->usage();
    manager_->Emit(*run_, std::move(event));
  }
  manager_->Notify(run_->record.run().run_id());
  return absl::OkStatus();
}

void RunHost::StepFailed(const std::string& name, const std::string& error) {
  // Interrupted steps stay RUNNING (resumed later); cancelled ones were marked by Cancel.
  if (run_->interrupted || run_->cancelled) return;
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    Step* step = FindStep(run_->record.mutable_run(), name);
    if (step == nullptr) return;
    step->set_state(agentd::v1::STEP_STATE_FAILED);
    step->set_error(ValidUtf8(error));
    *step->mutable_finished_at() = TimeUtil::GetCurrentTime();
    absl::Status stored = manager_->Persist(*run_);
    if (!stored.ok()) log::Error("step state not stored", {{"step", name}, {"error", stored.ToString()}});
    RunEvent event;
    agentd::v1::StepFinished* finished = event.mutable_step_finished();
    finished->set_step(name);
    finished->set_state(agentd::v1::STEP_STATE_FAILED);
    finished->set_error(ValidUtf8(error));
    *finished->mutable_usage() = step->usage();
    manager_->Emit(*run_, std::move(event));
  }
  manager_->Notify(run_->record.run().run_id());
}

void RunHost::AddTranscript(const std::string& name, agentd::v1::TranscriptEntry::Kind kind, const std::string& request,
                            const std::string& response) {
  Step* step = FindStep(run_->record.mutable_run(), name);
  if (step == nullptr) return;
  agentd::v1::TranscriptEntry* entry = step->add_transcript();
  entry->set_kind(kind);
  entry->set_request(request);
  entry->set_response(response);
  *entry->mutable_time() = TimeUtil::GetCurrentTime();
}

absl::StatusOr<Json> RunHost::Model(const std::string& step, const std::string& kind, const Json& request) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  engine::Engine* engine = manager_->options().engine;
  if (engine == nullptr) return absl::FailedPreconditionError("ctx.llm: no model is loaded (start agentd with --model DIR)");
  uint64_t remaining = 0;
  std::string tenant;
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    const Run& r = run_->record.run();
    tenant = r.tenant();
    const uint64_t used = r.usage().prompt_tokens() + r.usage().completion_tokens();
    if (used >= r.limits().max_tokens()) {
      return absl::ResourceExhaustedError(absl::StrCat("budget: the run's max_tokens (", r.limits().max_tokens(), ") is spent"));
    }
    remaining = r.limits().max_tokens() - used;
  }
  const int requested = request.value("max_tokens", 512);
  if (requested < 1) return absl::InvalidArgumentError("ctx.llm: max_tokens must be at least 1");
  engine::CompletionOptions options = CompletionFromJson(request, engine->info().context_length);
  options.tenant = tenant;
  // Greedy plan steps speculate by prompt lookup unless they say otherwise: drafts and
  // revisions copy their sources, and the output is the same token for token (BENCHMARKS.md,
  // serving). Sampled steps do not by default: the distribution is kept, but a seed would no
  // longer give the sample it gave before.
  const std::string speculation = request.contains("speculation") && request["speculation"].is_string()
                                      ? request["speculation"].get<std::string>()
                                  : options.sampling.temperature <= 0 ? "ngram"
                                                                      : "none";
  if (speculation == "ngram") {
    options.speculation.mode = engine::SpeculationConfig::Mode::kNgram;
  } else if (speculation == "mtp" && engine->info().has_mtp) {
    options.speculation.mode = engine::SpeculationConfig::Mode::kMtp;
  } else if (speculation != "none") {
    return absl::InvalidArgumentError(absl::StrCat("ctx.llm: speculation '", speculation, "' must be none, ngram",
                                                   engine->info().has_mtp ? " or mtp" : " (this model has no MTP layer)"));
  }
  options.max_tokens = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(std::min(requested, engine->info().context_length)), remaining));
  bool wants_json = false;
  if (request.contains("json_schema")) {
    const Json& schema = request["json_schema"];
    options.constraint.kind = engine::ResponseConstraint::Kind::kJsonSchema;
    options.constraint.json_schema = schema.is_string() ? schema.get<std::string>() : DumpJson(schema);
    wants_json = true;
  } else if (request.value("json", false)) {
    options.constraint.kind = engine::ResponseConstraint::Kind::kJsonValue;
    wants_json = true;
  } else if (request.contains("quote")) {
    absl::Status parsed = ParseQuote(request["quote"], &options.constraint);
    if (!parsed.ok()) return parsed;
  } else if (request.contains("cite")) {
    const int passages = request.value("cite", 0);
    if (passages >= 1) {
      options.constraint.kind = engine::ResponseConstraint::Kind::kCitedText;
      options.constraint.max_citation = passages;
    }
  }

  // Token deltas are coalesced to about ten events a second per step.
  std::string pending;
  auto last_flush = Clock::now();
  auto flush = [&] {
    if (pending.empty()) return;
    {
      std::lock_guard<std::mutex> lock(run_->mutex);
      RunEvent event;
      event.mutable_token_delta()->set_step(step);
      event.mutable_token_delta()->set_text(pending);
      manager_->Emit(*run_, std::move(event));
    }
    pending.clear();
    last_flush = Clock::now();
    manager_->Notify(run_->record.run().run_id());
  };
  auto on_delta = [&](const engine::GenerationDelta& delta) {
    pending += delta.text;
    if (Clock::now() - last_flush > std::chrono::milliseconds(100)) flush();
    return StopReason().ok();
  };

  absl::StatusOr<engine::GenerationResult> generation;
  std::string text;
  Json tool_calls = Json::array();
  if (kind == "chat") {
    if (!request.contains("messages") || !request["messages"].is_array() || request["messages"].empty()) {
      return absl::InvalidArgumentError("ctx.llm.chat: messages must be a non-empty list of {role, content}");
    }
    std::vector<engine::ChatMessage> messages;
    for (size_t i = 0; i < request["messages"].size(); ++i) {
      const Json& m = request["messages"][i];
      if (!m.is_object() || !m.contains("content") || !m["content"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat("ctx.llm.chat: messages[", i + 1, "] needs a string content"));
      }
      engine::ChatMessage message;
      message.role = RoleFrom(m.value("role", "user"));
      message.content = m["content"].get<std::string>();
      message.tool_call_id = m.value("tool_call_id", "");
      if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
        for (const Json& call : m["tool_calls"]) {
          if (!call.is_object() || !call.contains("name") || !call["name"].is_string()) continue;
          const Json arguments = call.value("arguments", Json::object());
          message.tool_calls.push_back({call.value("id", ""), call["name"].get<std::string>(),
                                        arguments.is_string() ? arguments.get<std::string>()
                                        : arguments.is_array() && arguments.empty() ? "{}"
                                                                                     : DumpJson(arguments)});
        }
      }
      messages.push_back(std::move(message));
    }
    // tools = {"name", ...}: the registry's tools the model may call, with tool_choice "auto"
    // (default), "required" or "none". Calls are constrained to the tool's schema.
    std::vector<engine::ToolSpec> tool_specs;
    if (request.contains("tools")) {
      if (!request["tools"].is_array()) return absl::InvalidArgumentError("ctx.llm.chat: tools must be a list of tool names");
      const std::vector<tools::ToolInfo> available = manager_->options().tools->List();
      for (const Json& name : request["tools"]) {
        auto found = std::find_if(available.begin(), available.end(), [&](const tools::ToolInfo& t) {
          return name.is_string() && t.name == name.get<std::string>();
        });
        if (found == available.end()) {
          return absl::InvalidArgumentError(absl::StrCat("ctx.llm.chat: tools: no tool named ", DumpJson(name)));
        }
        tool_specs.push_back({found->name, found->description, DumpJson(found->parameters)});
      }
    }
    const std::string choice = request.value("tool_choice", "auto");
    if (choice == "required") {
      options.tool_choice = engine::CompletionOptions::ToolChoice::kRequired;
    } else if (choice == "none") {
      options.tool_choice = engine::CompletionOptions::ToolChoice::kNone;
    } else if (choice != "auto") {
      return absl::InvalidArgumentError("ctx.llm.chat: tool_choice must be \"auto\", \"required\" or \"none\"");
    }
    auto chat = engine->Chat(messages, tool_specs, options, on_delta);
    if (chat.ok()) {
      text = chat->reply.content;
      for (const engine::ToolCall& call : chat->reply.tool_calls) {
        Json arguments = Json::parse(call.arguments_json, nullptr, false);
        tool_calls.push_back({{"id", call.id}, {"name", call.name},
                              {"arguments", arguments.is_discarded() ? Json::object() : arguments}});
      }
      generation = std::move(chat->generation);
    } else {
      generation = chat.status();
    }
  } else {
    if (!request.contains("prompt") || !request["prompt"].is_string()) {
      return absl::InvalidArgumentError("ctx.llm.generate: prompt must be a string");
    }
    generation = engine->Complete(request["prompt"].get<std::string>(), options, on_delta);
    if (generation.ok()) text = generation->text;
  }
  flush();
  stop = StopReason();
  if (!stop.ok()) return stop;
  if (!generation.ok()) return generation.status();

  Json response = {{"text", text},
                   {"finish_reason", engine::FinishReasonName(generation->finish_reason)},
                   {"prompt_tokens", generation->prompt_tokens},
                   {"completion_tokens", generation->completion_tokens}};
  if (!tool_calls.empty()) response["tool_calls"] = tool_calls;
  if (wants_json) {
    // Only a generation cut short (max_tokens) leaves constrained JSON unfinished; then the
    // response has no "json" and the plan decides.
    Json parsed = Json::parse(text, nullptr, false);
    // The mask enforces the schema's structure; value bounds (minimum, maximum, ...) are checked
    // here, and a reply that breaks one comes back as json_error instead of json.
    // Only schemas with such bounds are validated again: everything else the mask enforced
    // already, and counting characters of the invalid UTF-8 a small model may write is not
    // the validator's business.
    absl::Status valid = absl::OkStatus();
    if (!parsed.is_discarded() && request.contains("json_schema")) {
      const Json& schema = request["json_schema"];
      const Json schema_json = schema.is_string() ? Json::parse(schema.get<std::string>(), nullptr, false) : schema;
      if (!schema_json.is_discarded() && HasValueBounds(schema_json)) valid = tools::ValidateJson(schema_json, parsed, "json");
    }
    if (!parsed.is_discarded() && valid.ok()) response["json"] = parsed;
    if (!valid.ok()) response["json_error"] = std::string(valid.message());
  }
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    Run* r = run_->record.mutable_run();
    AddUsage(r->mutable_usage(), generation->prompt_tokens, generation->completion_tokens);
    if (Step* s = FindStep(r, step)) AddUsage(s->mutable_usage(), generation->prompt_tokens, generation->completion_tokens);
    AddTranscript(step, agentd::v1::TranscriptEntry::KIND_MODEL_CALL, DumpJson(request), text);
  }
  return response;
}

absl::StatusOr<Json> RunHost::Retrieve(const std::string& step, const Json& request) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  if (!request.contains("collection") || !request["collection"].is_string()) {
    return absl::InvalidArgumentError("ctx.memory.search: collection is required");
  }
  if (!request.contains("query") || !request["query"].is_string()) {
    return absl::InvalidArgumentError("ctx.memory.search: query is required");
  }
  memory::SearchQuery query;
  query.tenant = run_->record.run().tenant();
  query.collection = request["collection"].get<std::string>();
  query.query = request["query"].get<std::string>();
  if (request.contains("k") && !request["k"].is_number_integer()) {
    return absl::InvalidArgumentError("ctx.memory.search: k must be an integer from 1 to 100");
  }
  if (request.contains("mode") && !request["mode"].is_string()) {
    return absl::InvalidArgumentError("ctx.memory.search: mode must be \"hybrid\", \"vector\" or \"lexical\"");
  }
  query.k = static_cast<int>(std::clamp<int64_t>(request.value("k", int64_t{5}), 1, 100));
  const std::string mode = request.value("mode", "hybrid");
  query.mode = mode == "vector" ? memory::SearchMode::kVector
               : mode == "lexical" ? memory::SearchMode::kLexical
                                   : memory::SearchMode::kHybrid;
  auto hits = manager_->options().memory->Search(query);
  if (!hits.ok()) return hits.status();
  Json out = Json::array();
  RunEvent event;
  agentd::v1::RetrievalHits* retrieval = event.mutable_retrieval_hits();
  retrieval->set_step(step);
  retrieval->set_query(ValidUtf8(query.query));
  for (const memory::SearchHit& h : *hits) {
    out.push_back(SearchHitJson(h, query.collection));
    agentd::v1::Reference* ref = retrieval->add_hits();
    ref->set_number(static_cast<uint32_t>(out.size()));
    ref->set_collection(query.collection);
    ref->set_document_id(h.document_id);
    ref->set_chunk_id(std::to_string(h.chunk_id));
    ref->set_title(h.title);
    ref->set_source(h.source);
    ref->mutable_span()->set_start(h.start);
    ref->mutable_span()->set_end(h.end);
  }
  Json response = {{"hits", out}};
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    AddTranscript(step, agentd::v1::TranscriptEntry::KIND_RETRIEVAL, DumpJson(request), DumpJson(response));
    manager_->Emit(*run_, std::move(event));
  }
  manager_->Notify(run_->record.run().run_id());
  return response;
}

absl::StatusOr<Json> RunHost::Sentences(const std::string& step, const Json& request) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  absl::StatusOr<SentencesRequest> parsed = ParseSentencesRequest(request);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<memory::RankedSentences> ranked =
      memory::RankSentences(manager_->options().embedder, parsed->query, parsed->passages, parsed->options);
  if (!ranked.ok()) return ranked.status();
  Json response = SentencesResponse(*ranked);
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    AddTranscript(step, agentd::v1::TranscriptEntry::KIND_RETRIEVAL,
                  DumpJson(Json{{"sentences_for", parsed->query}, {"passages", parsed->passages.size()}}), DumpJson(response));
  }
  return response;
}

absl::StatusOr<Json> RunHost::Tool(const std::string& step, const std::string& name, const Json& arguments) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  std::string call_id;
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    Run* r = run_->record.mutable_run();
    if (r->tool_calls() >= r->limits().max_tool_calls()) {
      return absl::ResourceExhaustedError(absl::StrCat("budget: the run's max_tool_calls (", r->limits().max_tool_calls(), ") is spent"));
    }
    r->set_tool_calls(r->tool_calls() + 1);
    call_id = absl::StrCat(step, "#", ++tool_call_counter_);
    RunEvent event;
    agentd::v1::ToolCalled* called = event.mutable_tool_called();
    called->set_step(step);
    called->set_call_id(call_id);
    called->set_tool(ValidUtf8(name));
    called->set_arguments_json(DumpJson(arguments));
    manager_->Emit(*run_, std::move(event));
  }
  manager_->Notify(run_->record.run().run_id());
  const double seconds_left = std::chrono::duration<double>(deadline_ - Clock::now()).count();
  scripting::ScriptServices services;
  if (manager_->options().services_for) services = manager_->options().services_for(run_->record.run().tenant());
  absl::StatusOr<tools::ToolResult> result =
      manager_->options().tools->Invoke(name, arguments, std::max(0.1, seconds_left), &services);
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    RunEvent event;
    agentd::v1::ToolReturned* returned = event.mutable_tool_returned();
    returned->set_step(step);
    returned->set_call_id(call_id);
    if (result.ok()) {
      returned->set_result_json(DumpJson(result->result));
    } else {
      returned->set_error(ValidUtf8(std::string(result.status().message())));
    }
    AddTranscript(step, agentd::v1::TranscriptEntry::KIND_TOOL_CALL, DumpJson(Json{{"tool", name}, {"arguments", arguments}}),
                  result.ok() ? DumpJson(result->result) : DumpJson(Json{{"error", result.status().message()}}));
    manager_->Emit(*run_, std::move(event));
  }
  manager_->Notify(run_->record.run().run_id());
  if (!result.ok()) return result.status();
  return result->result;
}

Json RunHost::ListTools() {
  Json out = Json::array();
  for (const tools::ToolInfo& tool : manager_->options().tools->List()) {
    out.push_back({{"name", tool.name}, {"description", tool.description}, {"parameters", tool.parameters}});
  }
  return out;
}

void RunHost::Warn(const std::string& step, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    RunEvent event;
    event.mutable_warning()->set_step(step);
    event.mutable_warning()->set_message(ValidUtf8(message));
    manager_->Emit(*run_, std::move(event));
  }
  manager_->Notify(run_->record.run().run_id());
}

void RunHost::Log(const std::string& level, const std::string& message) {
  log::Info("plan log", {{"run_id", run_->record.run().run_id()}, {"level", level}, {"message", message}});
}

}  // namespace

absl::StatusOr<std::unique_ptr<RunManager>> RunManager::Create(const RunManagerOptions& options) {
  if (options.store == nullptr || options.memory == nullptr || options.tools == nullptr) {
    return absl::InvalidArgumentError("RunManager: store, memory and tools are required");
  }
  auto manager = std::make_unique<RunManagerImpl>(options);
  absl::Status status = manager->Init();
  if (!status.ok()) return status;
  return std::unique_ptr<RunManager>(std::move(manager));
}

}  // namespace agentd::runs
