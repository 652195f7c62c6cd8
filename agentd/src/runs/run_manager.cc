#include "runs/run_manager.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/json_schema.h"
#include "log.h"
#include "memory/content_hash.h"
#include "runs/active_run.h"
#include "runs/plan_runtime.h"
#include "runs/run_host.h"
#include "runs/plan_values.h"
#include "scripting/script_file.h"
#include "engine/json_nesting.h"

namespace agentd::runs {
namespace {

// Executions a run may begin without ending before it is failed instead of resumed.
constexpr uint32_t kMaxUncleanStarts = 3;

// "SUCCEEDED" rather than "RUN_STATE_SUCCEEDED", as agentctl and the docs name states.
std::string ShortStateName(agentd::v1::RunState state) {
  const std::string name = agentd::v1::RunState_Name(state);
  constexpr std::string_view kPrefix = "RUN_STATE_";
  return name.rfind(kPrefix, 0) == 0 ? name.substr(kPrefix.size()) : name;
}

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



constexpr char kStoredBytesSetting[] = "runs.max_stored_bytes_per_tenant";

class RunManagerImpl final : public RunManager, public RunJournal {
 public:
  explicit RunManagerImpl(const RunManagerOptions& options) : options_(options) {}
  ~RunManagerImpl() override { Shutdown(); }

  absl::Status Init() {
    absl::StatusOr<std::map<std::string, RunStore::TenantRuns>> stored = options_.store->CountByTenant();
    if (!stored.ok()) return stored.status();
    stored_ = std::move(*stored);
    absl::StatusOr<std::vector<RunRecord>> unfinished = options_.store->Unfinished();
    if (!unfinished.ok()) return unfinished.status();
    for (RunRecord& record : *unfinished) {
      auto run = std::make_shared<ActiveRun>();
      absl::StatusOr<uint64_t> last = options_.store->LastSequence(record.run().run_id());
      if (!last.ok()) return last.status();
      run->last_sequence = *last;
      run->resumed = record.run().state() == agentd::v1::RUN_STATE_RUNNING;
      run->record = std::move(record);
      run->counted_bytes = CountedBytes(run->record);
      run->event_bytes = run->record.stored_event_bytes();
      if (run->record.unclean_starts() >= kMaxUncleanStarts) {
        const std::string error = absl::StrCat("the run crashed the daemon ", run->record.unclean_starts(),
                                               " times; it is not resumed again");
        log::Error("run not resumed", {{"run_id", run->record.run().run_id()}, {"error", error}});
        std::lock_guard<std::mutex> lock(run->mutex);
        auto* steps = run->record.mutable_run()->mutable_steps();
        for (int i = 0; i < steps->size(); ++i) {
          if ((*steps)[i].state() != agentd::v1::STEP_STATE_RUNNING) continue;
          steps->Mutable(i)->set_state(agentd::v1::STEP_STATE_FAILED);
          run->changed_steps.insert(i);
        }
        Finish(*run, agentd::v1::RUN_STATE_FAILED, error);
        if (run->unsaved) {
          std::lock_guard<std::mutex> lock(queue_mutex_);
          active_[run->record.run().run_id()] = run;
        }
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
    // A start that repeats an earlier one's key returns that run (checked again under the lock
    // below, where the insert happens).
    {
      absl::StatusOr<std::optional<Run>> earlier = RunStartedWithKey(tenant, request.idempotency_key());
      if (!earlier.ok()) return earlier.status();
      if (earlier->has_value()) {
        *existing = true;
        return **earlier;
      }
    }
    Json inputs = Json::object();
    if (!request.inputs_json().empty()) {
      if (engine::JsonNestedTooDeeply(request.inputs_json())) {
        return absl::InvalidArgumentError(absl::StrCat("inputs_json: nested more than ", engine::kMaxJsonNesting, " levels deep"));
      }
      inputs = Json::parse(request.inputs_json(), nullptr, false);
      if (inputs.is_discarded() || !inputs.is_object()) {
        return absl::InvalidArgumentError("inputs_json: must be a JSON object");
      }
    }
    for (unsigned char c : request.plan_source_name()) {
      if (c < 0x20 || c == 0x7f) return absl::InvalidArgumentError("plan_source_name: control characters are not allowed");
    }
    std::string source;
    std::string chunk_name;
    if (!request.plan_source().empty()) {
      source = request.plan_source();
      chunk_name = request.plan_source_name().empty() ? absl::StrCat("inline plan '", request.plan(), "'")
                                                      : request.plan_source_name();
    } else {
      absl::StatusOr<std::string> found = FindPlan(tenant, request.plan());
      if (!found.ok()) return found.status();
      source = *found;
      chunk_name = request.plan() + ".lua";
    }
    // A plan that does not compile or define itself, or inputs its declared schema refuses, are
    // refused before a run exists for them (a run would only fail at its start). Outside the
    // start lock: one tenant's slow top level (up to its 2 s) holds up no one else's start.
    const ModuleDirs modules = ModuleDirsOf(tenant);
    absl::StatusOr<PlanInfo> declared = InspectPlan(source, chunk_name, modules.own, modules.shared);
    if (!declared.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(request.plan_source().empty() ? "plan: " : "plan_source: ",
                                                     declared.status().message()));
    }
    if (!declared->inputs_schema.is_null()) {
      absl::Status valid;
      try {
        valid = tools::ValidateJson(declared->inputs_schema, inputs, "inputs");
      } catch (const std::exception& e) {  // a schema CheckSchema let through and ValidateJson cannot read
        valid = absl::InvalidArgumentError(absl::StrCat("plan: inputs: the schema cannot be applied: ", e.what()));
      }
      if (!valid.ok()) return absl::InvalidArgumentError(valid.message());
    }
    std::lock_guard<std::mutex> start_lock(start_mutex_);  // idempotency check and insert as one
    {
      absl::StatusOr<std::optional<Run>> earlier = RunStartedWithKey(tenant, request.idempotency_key());
      if (!earlier.ok()) return earlier.status();
      if (earlier->has_value()) {
        *existing = true;
        return **earlier;
      }
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
    if (ActiveRunsOf(tenant) >= options_.max_active_runs_per_tenant) return ActiveRunLimitError(tenant);
    if (absl::Status share = StoredShareLeft(tenant, /*new_run=*/true); !share.ok()) return share;

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
    record.set_stored_bytes(record.ByteSizeLong());
    absl::Status stored = options_.store->Put(&record, request.idempotency_key());
    if (!stored.ok()) return stored;
    run->counted_bytes = record.stored_bytes();
    {
      std::lock_guard<std::mutex> lock(stored_mutex_);
      ++stored_[tenant].runs;
      stored_[tenant].bytes += run->counted_bytes;
    }
    log::Info("run started", {{"run_id", r->run_id()}, {"tenant", tenant}, {"plan", r->plan()}});
    Run view = PublicView(record, 0, false);
    Enqueue(run);
    // The store writes again: ends it could not store before go in now.
    StoreUnsaved();
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
                                                        ShortStateName(record->run().state()), ")"));
    }
    {
      std::lock_guard<std::mutex> lock(run->mutex);
      if (IsTerminal(run->record.run().state())) {
        return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " has already ended (",
                                                          ShortStateName(run->record.run().state()), ")"));
      }
      run->cancelled = true;
      run->stop_requested = true;
      auto* steps = run->record.mutable_run()->mutable_steps();
      for (int i = 0; i < steps->size(); ++i) {
        Step& step = *steps->Mutable(i);
        if (step.state() == agentd::v1::STEP_STATE_RUNNING || step.state() == agentd::v1::STEP_STATE_PENDING) {
          step.set_state(agentd::v1::STEP_STATE_SKIPPED);
          *step.mutable_finished_at() = TimeUtil::GetCurrentTime();
          run->changed_steps.insert(i);
        }
      }
      Finish(*run, agentd::v1::RUN_STATE_CANCELLED, reason.empty() ? "cancelled" : absl::StrCat("cancelled: ", reason));
    }
    // A run still waiting for a worker lets go of its place now: queued, it would hold one of
    // the tenant's active runs (and refuse its resume as "still stopping") until a worker came.
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      if (!run->executing) {
        queue_.erase(std::remove(queue_.begin(), queue_.end(), run), queue_.end());
        auto it = active_.find(run_id);
        if (it != active_.end() && it->second == run && !run->unsaved) active_.erase(it);
      }
    }
    log::Info("run cancelled", {{"run_id", run_id}, {"reason", reason}});
    Notify(run_id);
    return Get(tenant, run_id, false);
  }

  absl::StatusOr<Run> Resume(const std::string& tenant, const std::string& run_id) override {
    std::lock_guard<std::mutex> start_lock(start_mutex_);
    StoreUnsaved();
    if (std::shared_ptr<ActiveRun> active = FindActive(tenant, run_id)) {
      std::lock_guard<std::mutex> lock(active->mutex);
      if (active->unsaved) {
        return absl::Status(active->unsaved_error.code(),
                            absl::StrCat("run ", run_id, " has ended, but its final state is not stored yet (",
                                         active->unsaved_error.message(), "); resume it once it is"));
      }
      if (!IsTerminal(active->record.run().state())) {
        return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " is ",
                                                          ShortStateName(active->record.run().state()),
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
      return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " is ", ShortStateName(state),
                                                        "; only FAILED or CANCELLED runs can be resumed"));
    }
    // A resumed run is active again: it counts against the tenant's limit as a started one does.
    if (ActiveRunsOf(tenant) >= options_.max_active_runs_per_tenant) {
      return ActiveRunLimitError(tenant);
    }
    // And it writes again: a tenant past its share of stored bytes resumes nothing until it
    // deletes runs (each resume of a run that fails loudly added its events and error).
    if (absl::Status share = StoredShareLeft(tenant, /*new_run=*/false); !share.ok()) return share;
    auto run = std::make_shared<ActiveRun>();
    absl::StatusOr<uint64_t> last = options_.store->LastSequence(run_id);
    if (!last.ok()) return last.status();
    run->last_sequence = *last;
    run->resumed = true;
    run->record = std::move(*record);
    run->counted_bytes = CountedBytes(run->record);
    run->event_bytes = run->record.stored_event_bytes();
    Run* r = run->record.mutable_run();
    r->set_state(agentd::v1::RUN_STATE_PENDING);
    r->clear_error();
    r->clear_finished_at();
    // An explicit resume grants a fresh deadline and forgets earlier crashes; token and tool
    // budgets keep counting.
    run->record.set_elapsed_seconds(0);
    run->record.set_unclean_starts(0);
    *r->mutable_updated_at() = TimeUtil::GetCurrentTime();
    absl::Status stored = options_.store->Put(&run->record);
    if (!stored.ok()) return stored;
    Run view = PublicView(run->record, run->last_sequence, false);
    Enqueue(run);
    return view;
  }

  absl::Status Delete(const std::string& tenant, const std::string& run_id) override {
    // Under the start lock: no Resume brings the run back while it goes.
    std::lock_guard<std::mutex> start_lock(start_mutex_);
    StoreUnsaved();
    auto not_ended = [&](agentd::v1::RunState state) {
      return absl::FailedPreconditionError(
          absl::StrCat("run ", run_id, " is ", ShortStateName(state), "; cancel it first (only ended runs can be deleted)"));
    };
    if (std::shared_ptr<ActiveRun> active = FindActive(tenant, run_id)) {
      std::lock_guard<std::mutex> lock(active->mutex);
      const auto state = active->record.run().state();
      if (active->unsaved) {
        return absl::Status(active->unsaved_error.code(),
                            absl::StrCat("run ", run_id, " has ended, but its final state is not stored yet (",
                                         active->unsaved_error.message(), "); delete it once it is"));
      }
      if (!IsTerminal(state)) return not_ended(state);
      return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " is still stopping; delete it once it has stopped"));
    }
    // A record too damaged to read (DATA_LOSS) can still be deleted: that is what its owner can
    // do with it.
    absl::StatusOr<RunRecord> header = options_.store->ReadHeader(tenant, run_id);
    if (!header.ok() && header.status().code() == absl::StatusCode::kNotFound) return header.status();
    if (header.ok() && !IsTerminal(header->run().state())) return not_ended(header->run().state());
    absl::Status deleted = options_.store->Delete(tenant, run_id);
    if (!deleted.ok()) return deleted;
    {
      // As CountByTenant counted it (a header that cannot be read: nothing is known of it).
      const uint64_t bytes = header.ok() ? header->stored_bytes() : 0;
      std::lock_guard<std::mutex> lock(stored_mutex_);
      RunStore::TenantRuns& held = stored_[tenant];
      held.runs -= std::min<uint64_t>(held.runs, 1);
      held.bytes -= std::min(held.bytes, bytes);
    }
    log::Info("run deleted", {{"run_id", run_id}, {"tenant", tenant}});
    // A stream following the run finds it gone.
    Notify(run_id);
    return absl::OkStatus();
  }

  absl::StatusOr<EventBatch> ReadEvents(const std::string& tenant, const std::string& run_id, uint64_t after_sequence,
                                        size_t limit, size_t max_bytes) override {
    bool ended = false, interrupted = false;
    uint64_t last = 0;
    if (std::shared_ptr<ActiveRun> run = FindActive(tenant, run_id)) {
      std::lock_guard<std::mutex> lock(run->mutex);
      ended = IsTerminal(run->record.run().state());
      // Set only once its worker has let go (Shutdown joins the workers first): no event follows.
      interrupted = run->interrupted && !run->executing;
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
    absl::StatusOr<std::vector<RunEvent>> events = options_.store->ReadEvents(run_id, after_sequence, limit, max_bytes);
    if (!events.ok()) return events.status();
    batch.events = std::move(*events);
    const uint64_t delivered = batch.events.empty() ? after_sequence : batch.events.back().sequence();
    batch.ended = ended && delivered >= last;
    batch.interrupted = !ended && interrupted && delivered >= last;
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
    StoreUnsaved();
    // Streams following a run that will not end in this process end now (UNAVAILABLE), rather
    // than hold the shutdown for its whole grace period.
    std::vector<std::string> interrupted;
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      for (auto& [id, run] : active_) interrupted.push_back(id);
    }
    for (const std::string& id : interrupted) Notify(id);
  }

  // --- RunJournal, for RunHost ---

  // Appends an event (the caller holds run.mutex).
  bool Emit(ActiveRun& run, RunEvent event) override {
    // Nothing follows a run's end in its log: a stream ends at RunEnded.
    if (IsTerminal(run.record.run().state()) && !event.has_run_ended()) return false;
    BoundEventText(&event);
    if (IsBoundedEvent(event)) {
      if (run.events_dropped) return true;
      const size_t bytes = event.ByteSizeLong();
      if (run.bounded_event_bytes + bytes > kMaxRunEventBytes) {
        run.events_dropped = true;
        const std::string step = event.has_warning() ? event.warning().step() : "";
        event.Clear();
        event.mutable_warning()->set_step(step);
        event.mutable_warning()->set_message(absl::StrCat("this run's events passed ", kMaxRunEventBytes >> 20,
                                                          " MiB; later warnings, token deltas, retrieval hits and "
                                                          "tool calls are not recorded as events"));
      }
      run.bounded_event_bytes += bytes;
    }
    event.set_sequence(++run.last_sequence);
    event.set_run_id(run.record.run().run_id());
    *event.mutable_time() = TimeUtil::GetCurrentTime();
    const uint64_t event_bytes = event.ByteSizeLong();
    absl::Status status = options_.store->AppendEvent(event);
    if (!status.ok()) {
      // A stream ends once it has delivered the run's last sequence number: one that was never
      // stored would keep it waiting for good.
      --run.last_sequence;
      // One line for a run's lost events, not one per token delta while the disk is full.
      if (run.events_not_stored++ == 0) {
        log::Error("run events not stored; they are dropped until the store can write again",
                   {{"run_id", event.run_id()}, {"error", status.ToString()}});
      }
      return false;
    }
    if (run.events_not_stored > 0) {
      log::Info("run events stored again", {{"run_id", event.run_id()}, {"dropped", run.events_not_stored}});
      run.events_not_stored = 0;
    }
    // Counted, not refused: a run's events are bounded (kMaxRunEventBytes an execution), and a
    // refused one would leave its followers without the run's steps. They reach the tenant's
    // count with the next checkpoint, as they reach the stored header: what DeleteRun takes
    // off is what was added.
    run.event_bytes += event_bytes;
    return true;
  }

  absl::Status Persist(ActiveRun& run) override { return Store(run, /*within_share=*/true); }

  // A checkpoint (the caller holds run.mutex). `within_share`: refused, nothing written, when the
  // run would grow its tenant's stored bytes past max_stored_bytes_per_tenant; a run's last
  // record, its outputs dropped (Finish), is stored regardless.
  absl::Status Store(ActiveRun& run, bool within_share) {
    RunRecord& record = run.record;
    *record.mutable_run()->mutable_updated_at() = TimeUtil::GetCurrentTime();
    record.set_stored_event_bytes(run.event_bytes);
    record.set_stored_bytes(0);
    // Its own field is a few bytes of it.
    const uint64_t bytes = record.ByteSizeLong() + run.event_bytes + 10;
    record.set_stored_bytes(bytes);
    const std::string& tenant = record.run().tenant();
    const uint64_t before = run.counted_bytes;
    {
      // Checked and taken under one lock, before the write, so that two runs of the tenant
      // checkpointing at once cannot both pass; given back if the write fails.
      std::lock_guard<std::mutex> lock(stored_mutex_);
      uint64_t& held = stored_[tenant].bytes;
      const uint64_t most = options_.max_stored_bytes_per_tenant;
      if (within_share && most > 0 && bytes > before && held - std::min(held, before) + bytes > most) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the run would take ", bytes, " bytes and tenant ", tenant, "'s runs hold ", held, " of the ", most,
            " they may (", kStoredBytesSetting, "); delete ended runs it no longer needs (DeleteRun, agentctl runs delete)"));
      }
      held = held - std::min(held, before) + bytes;
    }
    absl::Status stored = options_.store->Checkpoint(&record, run.changed_steps);
    if (!stored.ok()) {
      std::lock_guard<std::mutex> lock(stored_mutex_);
      uint64_t& held = stored_[tenant].bytes;
      held = held - std::min(held, bytes) + before;
      return stored;  // the changed steps are kept: the next checkpoint writes them
    }
    run.changed_steps.clear();
    run.counted_bytes = bytes;
    return stored;
  }

  static bool OverStoredShare(const absl::Status& status) {
    return status.code() == absl::StatusCode::kResourceExhausted &&
           absl::StrContains(status.message(), kStoredBytesSetting);
  }

  // What a stored run read back adds to its tenant's count: its stored size, or for a run stored
  // before sizes were kept, its header's (as RunStore::CountByTenant counted it at start).
  uint64_t CountedBytes(const RunRecord& record) const {
    if (record.stored_bytes() > 0) return record.stored_bytes();
    absl::StatusOr<RunRecord> header = options_.store->ReadHeader(record.run().tenant(), record.run().run_id());
    return header.ok() ? header->stored_bytes() : 0;
  }

  // OK, or RESOURCE_EXHAUSTED naming the share of stored runs the tenant has used up: its runs
  // (for a new run) or their bytes.
  absl::Status StoredShareLeft(const std::string& tenant, bool new_run) {
    std::lock_guard<std::mutex> lock(stored_mutex_);
    const RunStore::TenantRuns& held = stored_[tenant];
    if (const uint64_t most = options_.max_stored_runs_per_tenant; new_run && most > 0 && held.runs >= most) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "tenant ", tenant, " has ", held.runs, " stored runs, the most it may keep (runs.max_stored_runs_per_tenant); "
          "delete ended runs it no longer needs (DeleteRun, agentctl runs delete)"));
    }
    if (const uint64_t most = options_.max_stored_bytes_per_tenant; most > 0 && held.bytes >= most) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "tenant ", tenant, "'s runs hold ", held.bytes, " bytes, the most they may (", kStoredBytesSetting,
          "); delete ended runs it no longer needs (DeleteRun, agentctl runs delete)"));
    }
    return absl::OkStatus();
  }

  void Notify(const std::string& run_id) override {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(subscribers_mutex_);
      auto it = subscribers_.find(run_id);
      if (it == subscribers_.end()) return;
      for (auto& [token, callback] : it->second) callbacks.push_back(callback);
    }
    for (auto& callback : callbacks) callback();
  }

  const RunManagerOptions& options() const override { return options_; }

 private:
  // Where a tenant's plans `require` modules from: its own directory, or flat from the shared
  // one — never another tenant's (require("acme.secret") must not reach plans_dir/acme/secret.lua).
  // Both empty without a plans directory.
  struct ModuleDirs {
    std::string own, shared;
  };
  ModuleDirs ModuleDirsOf(const std::string& tenant) const {
    if (options_.plans_dir.empty()) return {};
    return {(std::filesystem::path(options_.plans_dir) / tenant).string(), options_.plans_dir};
  }

  absl::StatusOr<std::string> FindPlan(const std::string& tenant, const std::string& name) {
    if (!ValidPlanName(name)) {
      return absl::InvalidArgumentError(absl::StrCat("plan: '", name, "' is not a valid plan name (letters, digits, _ - .)"));
    }
    if (!options_.plans_dir.empty()) {
      for (const fs::path& path : {fs::path(options_.plans_dir) / tenant / (name + ".lua"),
                                   fs::path(options_.plans_dir) / (name + ".lua")}) {
        std::error_code ec;
        if (!fs::exists(path, ec)) continue;
        // A FIFO or a device in its place is refused unread: reading it would hold StartRun.
        absl::StatusOr<std::string> source = scripting::ReadScriptFile(path.string());
        if (!source.ok()) {
          // The tenant is told which plan, not where the daemon keeps it.
          log::Error("plan file not read", {{"plan", name}, {"error", source.status().ToString()}});
          return absl::Status(source.status().code(),
                              absl::StrCat("plan: ", name, ".lua in the plans directory: ", source.status().message()));
        }
        return source;
      }
    }
    auto builtin = options_.builtin_plans.find(name);
    if (builtin != options_.builtin_plans.end()) return builtin->second;
    return absl::NotFoundError(absl::StrCat("plan: no plan named '", name, "' (built-in or in the plans directory)"));
  }

  // The run an earlier StartRun with this idempotency key made; none when the key is empty,
  // unused, or its run was deleted (the key is free again).
  absl::StatusOr<std::optional<Run>> RunStartedWithKey(const std::string& tenant, const std::string& key) {
    if (key.empty()) return std::nullopt;
    absl::StatusOr<std::optional<std::string>> found = options_.store->FindByIdempotencyKey(tenant, key);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return std::nullopt;
    absl::StatusOr<Run> run = Get(tenant, **found, false);
    if (!run.ok() && run.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
    if (!run.ok()) return run.status();
    return *run;
  }

  absl::Status ActiveRunLimitError(const std::string& tenant) const {
    return absl::ResourceExhaustedError(absl::StrCat("tenant ", tenant, " already has ", options_.max_active_runs_per_tenant,
                                                     " active runs (the limit); wait for one to end or cancel one"));
  }

  int ActiveRunsOf(const std::string& tenant) {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    int count = 0;
    for (auto& [id, run] : active_) {
      // A run kept only because its end is not stored yet has ended.
      if (run->record.run().tenant() == tenant && !run->unsaved) ++count;
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
        // Under the queue's lock: Cancel lets go of a run no worker holds (taken off the queue
        // and not yet executing would be one that both let go of).
        run->executing = true;
      }
      Execute(run);
      {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        run->executing = false;
        auto it = active_.find(run->record.run().run_id());
        // (A resumed run of the same id may be there by now: that one is not this worker's.)
        if (!run->interrupted && !run->unsaved && it != active_.end() && it->second == run) active_.erase(it);
      }
      Notify(run->record.run().run_id());
      StoreUnsaved();
    }
  }

  // Sets the final state and emits RunEnded (the caller holds run.mutex).
  void Finish(ActiveRun& run, agentd::v1::RunState state, const std::string& error) {
    Run* r = run.record.mutable_run();
    r->set_state(state);
    r->set_error(ValidUtf8(error));
    BoundText(r->mutable_error());
    *r->mutable_finished_at() = TimeUtil::GetCurrentTime();
    absl::Status stored = Persist(run);
    if (RunStore::IsValueTooLarge(stored) || OverStoredShare(stored)) {
      // The store refused a part too large to keep (and wrote nothing): left so, the run would
      // stay RUNNING at its last checkpoint and be resumed into the same refusal. What never
      // reached the store — the changed steps' outputs and transcripts, the artifact — is
      // dropped instead, and the run ends FAILED saying why.
      log::Error("run state not stored", {{"run_id", r->run_id()}, {"error", stored.ToString()}});
      const std::string why = absl::StrCat("the run could not be stored: ", stored.message());
      for (int i : run.changed_steps) {
        if (i >= r->steps_size()) continue;
        Step* step = r->mutable_steps(i);
        step->clear_output_json();
        step->clear_transcript();
        if (step->state() == agentd::v1::STEP_STATE_SUCCEEDED || step->state() == agentd::v1::STEP_STATE_RUNNING) {
          step->set_state(agentd::v1::STEP_STATE_FAILED);
          step->set_error(why);
        }
      }
      r->clear_artifact();
      r->set_state(agentd::v1::RUN_STATE_FAILED);
      r->set_error(state == agentd::v1::RUN_STATE_FAILED && !error.empty() ? absl::StrCat(r->error(), "; ", why) : why);
      state = agentd::v1::RUN_STATE_FAILED;
      stored = Store(run, /*within_share=*/false);
    }
    if (!stored.ok()) {
      log::Error("run state not stored; it is kept until the store can write again",
                 {{"run_id", r->run_id()}, {"error", stored.ToString()}});
      run.unsaved_error = stored;
      run.unsaved = true;
    }
    run.ended_event_stored = Emit(run, EndedEvent(*r));
    if (options_.on_run_ended) options_.on_run_ended(ShortStateName(state));
  }

  static RunEvent EndedEvent(const Run& r) {
    RunEvent event;
    agentd::v1::RunEnded* ended = event.mutable_run_ended();
    ended->set_state(r.state());
    ended->set_error(r.error());
    *ended->mutable_usage() = r.usage();
    return event;
  }

  // Stores the final records of runs that ended while the store could not write
  // (ActiveRun::unsaved), with their RunEnded events if those were lost too, and lets go of
  // those no worker holds. Stops at the first that still cannot be stored.
  void StoreUnsaved() {
    std::vector<std::shared_ptr<ActiveRun>> unsaved;
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      for (auto& [id, run] : active_) {
        if (run->unsaved) unsaved.push_back(run);
      }
    }
    for (const std::shared_ptr<ActiveRun>& run : unsaved) {
      const std::string run_id = run->record.run().run_id();
      {
        std::lock_guard<std::mutex> lock(run->mutex);
        if (!run->unsaved) continue;
        absl::Status stored = Store(*run, /*within_share=*/false);
        if (!stored.ok()) return;
        run->unsaved = false;
        run->unsaved_error = absl::OkStatus();
        if (!run->ended_event_stored) run->ended_event_stored = Emit(*run, EndedEvent(run->record.run()));
      }
      log::Info("run state stored", {{"run_id", run_id}});
      {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        auto it = active_.find(run_id);
        if (it != active_.end() && it->second == run && !run->executing && !run->interrupted) active_.erase(it);
      }
      Notify(run_id);
    }
  }

  void Execute(const std::shared_ptr<ActiveRun>& run) {
    const std::string run_id = run->record.run().run_id();
    RunRecord snapshot;
    {
      std::lock_guard<std::mutex> lock(run->mutex);
      if (run->cancelled || IsTerminal(run->record.run().state())) return;
      run->record.mutable_run()->set_state(agentd::v1::RUN_STATE_RUNNING);
      run->record.set_unclean_starts(run->record.unclean_starts() + 1);
      // Whatever the tenant's share: the count of unclean starts guards against a run that
      // crashes the daemon, and the record grows by a few bytes at most.
      absl::Status stored = Store(*run, /*within_share=*/false);
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
    const ModuleDirs modules = ModuleDirsOf(snapshot.run().tenant());
    plan.scripts_dir = modules.own;
    plan.shared_scripts_dir = modules.shared;
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
      // Left RUNNING: the next daemon resumes it (its time spent kept whatever the share).
      absl::Status stored = Store(*run, /*within_share=*/false);
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
      // Name the step the run was in, the one that began last among those not finished.
      const agentd::v1::Step* failed_step = nullptr;
      for (const agentd::v1::Step& step : run->record.run().steps()) {
        if (step.state() == agentd::v1::STEP_STATE_RUNNING || step.state() == agentd::v1::STEP_STATE_FAILED) {
          if (failed_step == nullptr || TimeUtil::TimestampToNanoseconds(step.started_at()) >=
                                            TimeUtil::TimestampToNanoseconds(failed_step->started_at())) {
            failed_step = &step;
          }
        }
      }
      if (failed_step != nullptr && !absl::StrContains(error, absl::StrCat("step '", failed_step->name(), "'"))) {
        error = absl::StrCat("step '", failed_step->name(), "': ", error);
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
    // (Finish fails a run whose artifact the store refused.)
    if (run->record.run().state() == agentd::v1::RUN_STATE_SUCCEEDED) {
      log::Info("run succeeded", {{"run_id", run_id}, {"content_bytes", out->content().size()}});
    }
  }

  RunManagerOptions options_;
  std::mutex start_mutex_;
  // What each tenant has stored (max_stored_runs_per_tenant, max_stored_bytes_per_tenant).
  // Runs are added and removed under start_mutex_ as well, so a check there holds until the
  // insert; bytes change at every checkpoint and event.
  std::mutex stored_mutex_;
  std::map<std::string, RunStore::TenantRuns> stored_;
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
