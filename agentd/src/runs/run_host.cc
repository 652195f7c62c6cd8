#include "runs/run_host.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "log.h"
#include "runs/grounding_requests.h"
#include "runs/plan_values.h"
#include "script_services.h"
#include "tools/json_schema.h"
#include "engine/json_nesting.h"

namespace agentd::runs {
namespace {

using agentd::v1::Run;
using agentd::v1::RunEvent;
using agentd::v1::Step;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using google::protobuf::util::TimeUtil;

void AddUsage(agentd::v1::Usage* into, uint64_t prompt, uint64_t completion) {
  into->set_prompt_tokens(into->prompt_tokens() + prompt);
  into->set_completion_tokens(into->completion_tokens() + completion);
}

const Step* FindStep(const Run& run, const std::string& name) {
  for (const Step& step : run.steps()) {
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

}  // namespace

engine::Engine* RunHost::loaded_engine() const { return journal_->options().engine; }

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
  const Step* step = FindStep(run_->record.run(), name);
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
    // Cancel holds the mutex while it ends the run (two synced writes): a step that began in
    // that time must not reopen the ended record (stored CANCELLED with a RUNNING step).
    if (run_->cancelled) return StopReason();
    Step* step = run_->ChangeStep(name);
    if (step == nullptr) {
      step = run_->record.mutable_run()->add_steps();
      step->set_name(name);
      run_->changed_steps.insert(run_->record.run().steps_size() - 1);
    }
    step->set_state(agentd::v1::STEP_STATE_RUNNING);
    step->set_attempts(step->attempts() + 1);
    step->clear_error();
    step->clear_finished_at();
    *step->mutable_started_at() = TimeUtil::GetCurrentTime();
    absl::Status stored = journal_->Persist(*run_);
    if (!stored.ok()) return stored;
    RunEvent event;
    event.mutable_step_started()->set_step(name);
    event.mutable_step_started()->set_attempt(step->attempts());
    journal_->Emit(*run_, std::move(event));
  }
  journal_->Notify(run_->record.run().run_id());
  return absl::OkStatus();
}

void RunHost::ReportStepEnded(const Step& step, bool succeeded) const {
  const auto& observer = journal_->options().on_step_ended;
  if (!observer) return;
  const double seconds =
      static_cast<double>(TimeUtil::DurationToMilliseconds(step.finished_at() - step.started_at())) / 1000.0;
  observer(std::max(0.0, seconds), succeeded);
}

absl::Status RunHost::StepFinished(const std::string& name, const std::string& output_json) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  std::string output = ValidUtf8(output_json);
  absl::Status failed;
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    if (run_->cancelled) return StopReason();  // as in StepStarted
    Step* step = run_->ChangeStep(name);
    if (step == nullptr) return absl::InternalError(absl::StrCat("step ", name, " finished without starting"));
    if (!output_bytes_) {
      size_t held = 0;
      for (const Step& s : run_->record.run().steps()) held += s.output_json().size();
      output_bytes_ = held;
    }
    const size_t size = output.size();
    if (*output_bytes_ + size > kMaxStepOutputBytes) {
      failed = absl::ResourceExhaustedError(absl::StrCat("ctx.step: step '", name, "' returned ", size,
                                                         " bytes; the run's step outputs hold at most ",
                                                         kMaxStepOutputBytes >> 20, " MiB, and ", *output_bytes_,
                                                         " bytes are taken"));
    } else {
      step->set_state(agentd::v1::STEP_STATE_SUCCEEDED);
      step->set_output_json(std::move(output));
      *step->mutable_finished_at() = TimeUtil::GetCurrentTime();
      // The checkpoint is durable before the plan moves on; a step whose checkpoint is not has
      // not finished.
      failed = journal_->Persist(*run_);
      if (failed.ok()) {
        *output_bytes_ += size;
        ReportStepEnded(*step, true);
        RunEvent event;
        agentd::v1::StepFinished* finished = event.mutable_step_finished();
        finished->set_step(name);
        finished->set_state(agentd::v1::STEP_STATE_SUCCEEDED);
        *finished->mutable_usage() = step->usage();
        journal_->Emit(*run_, std::move(event));
      } else {
        step->clear_output_json();
      }
    }
  }
  if (!failed.ok()) {
    // Failed here, as the plan's own errors are: ctx.step raises this past the step's pcall.
    StepFailed(name, std::string(failed.message()));
    return failed;
  }
  journal_->Notify(run_->record.run().run_id());
  return absl::OkStatus();
}

void RunHost::StepFailed(const std::string& name, const std::string& error) {
  // Interrupted steps stay RUNNING (resumed later); cancelled ones were marked by Cancel.
  if (run_->interrupted || run_->cancelled) return;
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    if (run_->interrupted || run_->cancelled) return;  // as above, should either come meanwhile
    Step* step = run_->ChangeStep(name);
    if (step == nullptr) return;
    step->set_state(agentd::v1::STEP_STATE_FAILED);
    step->set_error(ValidUtf8(error));
    BoundText(step->mutable_error());
    *step->mutable_finished_at() = TimeUtil::GetCurrentTime();
    ReportStepEnded(*step, false);
    absl::Status stored = journal_->Persist(*run_);
    if (!stored.ok()) log::Error("step state not stored", {{"step", name}, {"error", stored.ToString()}});
    RunEvent event;
    agentd::v1::StepFinished* finished = event.mutable_step_finished();
    finished->set_step(name);
    finished->set_state(agentd::v1::STEP_STATE_FAILED);
    finished->set_error(ValidUtf8(error));
    *finished->mutable_usage() = step->usage();
    journal_->Emit(*run_, std::move(event));
  }
  journal_->Notify(run_->record.run().run_id());
}

void RunHost::AddTranscript(const std::string& name, agentd::v1::TranscriptEntry::Kind kind, const std::string& request,
                            const std::string& response) {
  if (FindStep(run_->record.run(), name) == nullptr) return;
  if (!transcript_bytes_) {
    size_t held = 0;
    for (const Step& s : run_->record.run().steps()) {
      for (const agentd::v1::TranscriptEntry& e : s.transcript()) held += e.request().size() + e.response().size();
    }
    transcript_bytes_ = held;
  }
  const size_t size = request.size() + response.size();
  if (*transcript_bytes_ + size > kMaxTranscriptBytes) {
    if (transcript_full_noted_) return;
    transcript_full_noted_ = true;
    agentd::v1::TranscriptEntry* entry = run_->ChangeStep(name)->add_transcript();
    entry->set_kind(kind);
    entry->set_request(absl::StrCat("{\"clipped_bytes\": ", size, ", \"note\": \"the run's transcripts hold ",
                                    kMaxTranscriptBytes >> 20, " MiB; this call and later ones are not recorded\"}"));
    *entry->mutable_time() = TimeUtil::GetCurrentTime();
    return;
  }
  *transcript_bytes_ += size;
  agentd::v1::TranscriptEntry* entry = run_->ChangeStep(name)->add_transcript();
  entry->set_kind(kind);
  entry->set_request(request);
  entry->set_response(response);
  *entry->mutable_time() = TimeUtil::GetCurrentTime();
}

absl::StatusOr<Json> RunHost::Model(const std::string& step, const std::string& kind, const Json& request) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  engine::Engine* engine = journal_->options().engine;
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
  options.origin = "plan";
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
      if (run_->cancelled) {
        pending.clear();
        return;
      }
      RunEvent event;
      event.mutable_token_delta()->set_step(step);
      event.mutable_token_delta()->set_text(pending);
      journal_->Emit(*run_, std::move(event));
    }
    pending.clear();
    last_flush = Clock::now();
    journal_->Notify(run_->record.run().run_id());
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
      const std::vector<tools::ToolInfo> available = journal_->options().tools->List();
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
        Json arguments = engine::JsonNestedTooDeeply(call.arguments_json) ? Json(Json::value_t::discarded)
                                                                           : Json::parse(call.arguments_json, nullptr, false);
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
    Json parsed = engine::JsonNestedTooDeeply(text) ? Json(Json::value_t::discarded) : Json::parse(text, nullptr, false);
    // The mask enforces the schema's structure; value bounds (minimum, maximum, ...) are checked
    // here, and a reply that breaks one comes back as json_error instead of json.
    // Only schemas with such bounds are validated again: everything else the mask enforced
    // already, and counting characters of the invalid UTF-8 a small model may write is not
    // the validator's business.
    absl::Status valid = absl::OkStatus();
    if (!parsed.is_discarded() && request.contains("json_schema")) {
      const Json& schema = request["json_schema"];
      const Json schema_json = !schema.is_string()                                  ? schema
                               : engine::JsonNestedTooDeeply(schema.get<std::string>()) ? Json(Json::value_t::discarded)
                                                                                      : Json::parse(schema.get<std::string>(), nullptr, false);
      if (!schema_json.is_discarded() && tools::HasValueBounds(schema_json)) valid = tools::ValidateJson(schema_json, parsed, "json");
    }
    if (!parsed.is_discarded() && valid.ok()) response["json"] = parsed;
    if (!valid.ok()) response["json_error"] = std::string(valid.message());
  }
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    if (run_->cancelled) return StopReason();
    Run* r = run_->record.mutable_run();
    AddUsage(r->mutable_usage(), generation->prompt_tokens, generation->completion_tokens);
    if (Step* s = run_->ChangeStep(step)) AddUsage(s->mutable_usage(), generation->prompt_tokens, generation->completion_tokens);
    AddTranscript(step, agentd::v1::TranscriptEntry::KIND_MODEL_CALL, DumpJson(request), text);
  }
  return response;
}

absl::StatusOr<Json> RunHost::Retrieve(const std::string& step, const Json& request) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  absl::StatusOr<memory::SearchQuery> parsed = SearchQueryFromJson(request, "ctx.memory.search", run_->record.run().tenant());
  if (!parsed.ok()) return parsed.status();
  const memory::SearchQuery& query = *parsed;
  auto hits = journal_->options().memory->Search(query);
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
    if (run_->cancelled) return StopReason();
    AddTranscript(step, agentd::v1::TranscriptEntry::KIND_RETRIEVAL, DumpJson(request), DumpJson(response));
    journal_->Emit(*run_, std::move(event));
  }
  journal_->Notify(run_->record.run().run_id());
  return response;
}

absl::StatusOr<Json> RunHost::Sentences(const std::string& step, const Json& request) {
  absl::Status stop = StopReason();
  if (!stop.ok()) return stop;
  absl::StatusOr<SentencesRequest> parsed = ParseSentencesRequest(request);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<memory::RankedSentences> ranked =
      memory::RankSentences(journal_->options().embedder, parsed->query, parsed->passages, parsed->options);
  if (!ranked.ok()) return ranked.status();
  Json response = SentencesResponse(*ranked);
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    if (run_->cancelled) return StopReason();
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
    if (run_->cancelled) return StopReason();
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
    journal_->Emit(*run_, std::move(event));
  }
  journal_->Notify(run_->record.run().run_id());
  const double seconds_left = std::chrono::duration<double>(deadline_ - Clock::now()).count();
  scripting::ScriptServices services;
  if (journal_->options().services_for) services = journal_->options().services_for(run_->record.run().tenant());
  absl::StatusOr<tools::ToolResult> result = journal_->options().tools->Invoke(
      name, arguments,
      {.timeout_seconds = std::max(0.1, seconds_left), .services = &services, .interrupt = &run_->stop_requested});
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    // A run cancelled meanwhile has ended: nothing more is recorded of it; one a shutdown
    // interrupted reruns this step when it resumes.
    if (run_->cancelled || run_->interrupted) return StopReason();
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
    journal_->Emit(*run_, std::move(event));
  }
  journal_->Notify(run_->record.run().run_id());
  if (!result.ok()) return result.status();
  return result->result;
}

Json RunHost::ListTools() {
  Json out = Json::array();
  for (const tools::ToolInfo& tool : journal_->options().tools->List()) {
    out.push_back({{"name", tool.name}, {"description", tool.description}, {"parameters", tool.parameters}});
  }
  return out;
}

void RunHost::Warn(const std::string& step, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(run_->mutex);
    if (run_->cancelled) return;
    RunEvent event;
    event.mutable_warning()->set_step(step);
    event.mutable_warning()->set_message(ValidUtf8(message));
    journal_->Emit(*run_, std::move(event));
  }
  journal_->Notify(run_->record.run().run_id());
}

void RunHost::Log(const std::string& level, const std::string& message) {
  log::Info("plan log", {{"run_id", run_->record.run().run_id()}, {"level", level}, {"message", message}});
}

}  // namespace agentd::runs
