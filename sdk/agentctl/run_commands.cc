#include "run_commands.h"

#include "input_file.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "terminal_text.h"
#include "engine/json_nesting.h"

namespace agentctl {
namespace {

using namespace agentd::v1;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "agentctl: %s\n", std::string(status.message()).c_str());
  return 1;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "agentctl: %s\n", message.c_str());
  return 2;
}

// "SUCCEEDED" rather than "RUN_STATE_SUCCEEDED".
std::string ShortName(const std::string& name, const std::string& prefix) {
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}
std::string StateName(RunState state) { return ShortName(RunState_Name(state), "RUN_STATE_"); }
std::string StepStateName(StepState state) { return ShortName(StepState_Name(state), "STEP_STATE_"); }

// Every line of `text` behind `prefix`.
std::string Indent(const std::string& text, const std::string& prefix) {
  std::string out = prefix;
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  char buffer[32];
  std::time_t seconds = static_cast<std::time_t>(t.seconds());
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

Json UsageJson(const agentd::v1::Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens()}, {"completion_tokens", usage.completion_tokens()}};
}

Json ReferenceJson(const Reference& r) {
  return {{"number", r.number()},           {"collection", r.collection()}, {"document", r.document_id()},
          {"chunk_id", r.chunk_id()},       {"title", r.title()},           {"source", r.source()},
          {"offsets", {r.span().start(), r.span().end()}}};
}

Json RunJson(const Run& run) {
  Json steps = Json::array();
  for (const Step& s : run.steps()) {
    Json step = {{"name", s.name()},
                 {"state", StepStateName(s.state())},
                 {"attempts", s.attempts()},
                 {"started_at", Time(s.started_at())},
                 {"finished_at", Time(s.finished_at())},
                 {"usage", UsageJson(s.usage())}};
    if (!s.error().empty()) step["error"] = s.error();
    if (!s.output_json().empty()) step["output"] = Json::parse(s.output_json(), nullptr, false);
    if (s.transcript_size() > 0) {
      Json transcript = Json::array();
      for (const TranscriptEntry& e : s.transcript()) {
        transcript.push_back({{"kind", ShortName(TranscriptEntry::Kind_Name(e.kind()), "KIND_")},
                              {"request", e.request()},
                              {"response", e.response()}});
      }
      step["transcript"] = transcript;
    }
    steps.push_back(step);
  }
  Json references = Json::array();
  for (const Reference& r : run.artifact().references()) references.push_back(ReferenceJson(r));
  Json labels = Json::object();
  for (const auto& [k, v] : run.labels()) labels[k] = v;
  return {{"run_id", run.run_id()},
          {"plan", run.plan()},
          {"plan_sha256", run.plan_sha256()},
          {"state", StateName(run.state())},
          {"error", run.error()},
          {"inputs", Json::parse(run.inputs_json().empty() ? "{}" : run.inputs_json(), nullptr, false)},
          {"labels", labels},
          {"steps", steps},
          {"artifact",
           {{"media_type", run.artifact().media_type()}, {"content", run.artifact().content()}, {"references", references}}},
          {"usage", UsageJson(run.usage())},
          {"tool_calls", run.tool_calls()},
          {"created_at", Time(run.created_at())},
          {"finished_at", Time(run.finished_at())},
          {"last_sequence", run.last_sequence()}};
}

Json EventJson(const RunEvent& e) {
  Json out = {{"sequence", e.sequence()}, {"time", Time(e.time())}};
  switch (e.event_case()) {
    case RunEvent::kRunStarted:
      out["type"] = "run_started";
      out["resumed"] = e.run_started().resumed();
      break;
    case RunEvent::kStepStarted:
      out["type"] = "step_started";
      out["step"] = e.step_started().step();
      out["attempt"] = e.step_started().attempt();
      break;
    case RunEvent::kStepFinished:
      out["type"] = "step_finished";
      out["step"] = e.step_finished().step();
      out["state"] = StepStateName(e.step_finished().state());
      if (!e.step_finished().error().empty()) out["error"] = e.step_finished().error();
      out["usage"] = UsageJson(e.step_finished().usage());
      break;
    case RunEvent::kTokenDelta:
      out["type"] = "token_delta";
      out["step"] = e.token_delta().step();
      out["text"] = e.token_delta().text();
      break;
    case RunEvent::kToolCalled:
      out["type"] = "tool_called";
      out["step"] = e.tool_called().step();
      out["tool"] = e.tool_called().tool();
      out["arguments"] = Json::parse(e.tool_called().arguments_json(), nullptr, false);
      break;
    case RunEvent::kToolReturned:
      out["type"] = "tool_returned";
      out["step"] = e.tool_returned().step();
      if (!e.tool_returned().error().empty()) out["error"] = e.tool_returned().error();
      break;
    case RunEvent::kRetrievalHits: {
      out["type"] = "retrieval_hits";
      out["step"] = e.retrieval_hits().step();
      out["query"] = e.retrieval_hits().query();
      Json hits = Json::array();
      for (const Reference& r : e.retrieval_hits().hits()) hits.push_back(ReferenceJson(r));
      out["hits"] = hits;
      break;
    }
    case RunEvent::kWarning:
      out["type"] = "warning";
      out["step"] = e.warning().step();
      out["message"] = e.warning().message();
      break;
    case RunEvent::kRunEnded:
      out["type"] = "run_ended";
      out["state"] = StateName(e.run_ended().state());
      if (!e.run_ended().error().empty()) out["error"] = e.run_ended().error();
      out["usage"] = UsageJson(e.run_ended().usage());
      break;
    default:
      out["type"] = "unknown";
  }
  return out;
}

// One line of what an event says, for `runs events` without --json: the step, and what
// happened in it — states, errors, warnings, queries and tools — so that a failed run's reason
// is on the screen, not only in the JSON.
std::string EventDetails(const Json& j) {
  std::string out = Clip(j.value("step", ""), 200);
  auto add = [&](const std::string& text) {
    if (text.empty()) return;
    if (!out.empty()) out += "  ";
    out += Clip(text, 400);
  };
  const std::string type = j["type"];
  if (type == "step_started" && j.value("attempt", 1) > 1) add(absl::StrCat("attempt ", j.value("attempt", 1)));
  if (type == "step_finished" || type == "run_ended") add(j.value("state", ""));
  if (type == "retrieval_hits") add(absl::StrCat("\"", Clip(j.value("query", ""), 80), "\" → ", j["hits"].size(), " passages"));
  if (type == "tool_called") add(j.value("tool", ""));
  if (type == "warning") add(j.value("message", ""));
  if (type == "token_delta") add(j.value("text", ""));
  if (j.contains("error")) add(absl::StrCat("error: ", j["error"].get<std::string>()));
  return out;
}

// Renders a run's events as they arrive: a line per step, the sources each retrieval found,
// warnings, and (on a terminal) a status line with a progress bar and the token rate.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}

  void OnEvent(const RunEvent& e) {
    if (quiet_) return;
    switch (e.event_case()) {
      case RunEvent::kRunStarted:
        Line(absl::StrCat(e.run_started().resumed() ? "resumed" : "started", " plan ", e.run_started().plan()));
        break;
      case RunEvent::kStepStarted:
        started_.insert(e.step_started().step());
        step_start_[e.step_started().step()] = Clock::now();
        current_ = e.step_started().step();
        Line(absl::StrCat("▶ ", e.step_started().step(),
                          e.step_started().attempt() > 1 ? absl::StrCat(" (attempt ", e.step_started().attempt(), ")") : ""));
        break;
      case RunEvent::kStepFinished: {
        const auto& f = e.step_finished();
        finished_.insert(f.step());
        const double seconds =
            std::chrono::duration<double>(Clock::now() - step_start_[f.step()]).count();
        tokens_ += f.usage().completion_tokens();
        Line(absl::StrCat(f.state() == STEP_STATE_SUCCEEDED ? "✓ " : "✗ ", f.step(), "  ", Round(seconds), " s, ",
                          f.usage().completion_tokens(), " tokens",
                          f.error().empty() ? "" : absl::StrCat("  error: ", Printable(f.error()))));
        break;
      }
      case RunEvent::kTokenDelta:
        live_tokens_chars_ += e.token_delta().text().size();
        Status();
        break;
      case RunEvent::kRetrievalHits: {
        std::string titles;
        std::set<std::string> seen;
        for (const Reference& r : e.retrieval_hits().hits()) {
          const std::string name = r.title().empty() ? r.document_id() : r.title();
          if (!seen.insert(name).second) continue;
          if (!titles.empty()) titles += "; ";
          titles += name;
        }
        Line(absl::StrCat("  ⌕ \"", Clip(e.retrieval_hits().query(), 80), "\" → ", e.retrieval_hits().hits_size(),
                          " passages", titles.empty() ? "" : absl::StrCat(" (", Clip(titles, 120), ")")));
        break;
      }
      case RunEvent::kToolCalled:
        Line(absl::StrCat("  ⚙ ", Clip(e.tool_called().tool(), 64), " ", Clip(e.tool_called().arguments_json(), 120)));
        break;
      case RunEvent::kWarning:
        Line(absl::StrCat("  ! ", Clip(e.warning().message(), 200)));
        break;
      case RunEvent::kRunEnded:
        Line(absl::StrCat("run ", StateName(e.run_ended().state()),
                          e.run_ended().error().empty() ? "" : absl::StrCat(": ", Printable(e.run_ended().error())), " (",
                          e.run_ended().usage().prompt_tokens(), " prompt + ", e.run_ended().usage().completion_tokens(),
                          " completion tokens, ", Round(Elapsed()), " s)"));
        break;
      default:
        break;
    }
  }

 private:
  static std::string Round(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", v);
    return buffer;
  }
  double Elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  void Line(const std::string& text) {
    if (tty_ && status_shown_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "%s\n", text.c_str());
    status_shown_ = false;
    Status();
  }

  // A one-line status on terminals: [#####.....] finished/started steps, the step running,
  // and the completion-token rate so far.
  void Status() {
    if (!tty_) return;
    const size_t total = std::max<size_t>(started_.size(), 1);
    const size_t done = finished_.size();
    const int width = 20;
    const int filled = static_cast<int>(width * done / total);
    std::string bar(filled, '#');
    bar += std::string(width - filled, '.');
    const double rate = Elapsed() > 0 ? tokens_ / Elapsed() : 0;
    std::fprintf(stderr, "\r\033[K[%s] %zu/%zu steps  %s  %.1f tok/s", bar.c_str(), done, total, current_.c_str(), rate);
    std::fflush(stderr);
    status_shown_ = true;
  }

  bool quiet_;
  bool tty_;
  bool status_shown_ = false;
  Clock::time_point start_ = Clock::now();
  std::set<std::string> started_, finished_;
  std::map<std::string, Clock::time_point> step_start_;
  std::string current_;
  uint64_t tokens_ = 0;
  uint64_t live_tokens_chars_ = 0;
};


struct RunFlags {
  std::string plan;
  std::string plan_file;
  std::string topic;
  std::string collection;
  std::vector<std::string> inputs;  // key=value
  std::string inputs_json;
  std::string out;
  std::string idempotency_key;
  uint32_t deadline_seconds = 0;
  uint64_t max_tokens = 0;
  bool detach = false;
  bool json = false;
  bool quiet = false;
};

int WriteArtifact(const Run& run, const std::string& out) {
  if (out.empty()) {
    const std::string content = ForStream(run.artifact().content(), stdout);
    std::fwrite(content.data(), 1, content.size(), stdout);
    return 0;
  }
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << run.artifact().content();
  if (!file.flush()) return Fail(absl::PermissionDeniedError(absl::StrCat("--out ", out, ": cannot write")));
  std::fprintf(stderr, "report written to %s (%zu bytes, %d references)\n", out.c_str(), run.artifact().content().size(),
               run.artifact().references_size());
  return 0;
}

int FollowToEnd(sdk::Client& client, const std::string& run_id, uint64_t after, bool quiet, bool json_result,
                const std::string& out) {
  ProgressPrinter printer(quiet);
  absl::Status followed = client.FollowRun(run_id, after, /*include_tokens=*/!quiet, [&](const RunEvent& e) {
    printer.OnEvent(e);
    return true;
  });
  if (!followed.ok()) return Fail(followed);
  absl::StatusOr<Run> run = client.GetRun(run_id);
  if (!run.ok()) return Fail(run.status());
  if (json_result) {
    std::printf("%s\n", RunJson(*run).dump(2).c_str());
    return run->state() == RUN_STATE_SUCCEEDED ? 0 : 1;
  }
  if (run->state() != RUN_STATE_SUCCEEDED) {
    std::fprintf(stderr, "agentctl: run %s %s: %s\n", run_id.c_str(), StateName(run->state()).c_str(), Printable(run->error()).c_str());
    return 1;
  }
  return WriteArtifact(*run, out);
}

int StartAndFollow(sdk::Client& client, const RunFlags& flags) {
  StartRunRequest request;
  request.set_plan(flags.plan);
  if (!flags.plan_file.empty()) {
    // An inline plan holds at most 1 MiB (StartRunRequest.plan_source).
    absl::StatusOr<std::string> source = ReadInputFile(flags.plan_file, 1u << 20, "a plan");
    if (!source.ok()) return Fail(source.status());
    request.set_plan_source(*source);
    // Errors then name the file the person wrote, not the run's label.
    request.set_plan_source_name(std::filesystem::path(flags.plan_file).filename().string());
  }
  Json inputs = Json::object();
  if (!flags.inputs_json.empty()) {
    if (engine::JsonNestedTooDeeply(flags.inputs_json)) {
      return UsageError(absl::StrCat("--inputs-json: nested more than ", engine::kMaxJsonNesting, " levels deep"));
    }
    inputs = Json::parse(flags.inputs_json, nullptr, false);
    if (inputs.is_discarded() || !inputs.is_object()) return UsageError("--inputs-json: must be a JSON object");
  }
  if (!flags.topic.empty()) inputs["topic"] = flags.topic;
  if (!flags.collection.empty()) inputs["collection"] = flags.collection;
  for (const std::string& kv : flags.inputs) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return UsageError(absl::StrCat("--input ", kv, ": expected KEY=VALUE"));
    // Values that parse as JSON (numbers, booleans, lists) keep their type.
    if (engine::JsonNestedTooDeeply(kv.substr(eq + 1))) {
      return UsageError(absl::StrCat("--input ", kv.substr(0, eq), ": nested more than ", engine::kMaxJsonNesting, " levels deep"));
    }
    Json value = Json::parse(kv.substr(eq + 1), nullptr, false);
    inputs[kv.substr(0, eq)] = value.is_discarded() ? Json(kv.substr(eq + 1)) : value;
  }
  request.set_inputs_json(inputs.dump());
  request.set_idempotency_key(flags.idempotency_key);
  request.mutable_limits()->set_deadline_seconds(flags.deadline_seconds);
  request.mutable_limits()->set_max_tokens(flags.max_tokens);
  absl::StatusOr<Run> run = client.StartRun(request);
  if (!run.ok()) return Fail(run.status());
  if (flags.detach) {
    if (flags.json) {
      std::printf("%s\n", Json{{"run_id", run->run_id()}, {"state", StateName(run->state())}}.dump().c_str());
    } else {
      std::printf("%s\n", run->run_id().c_str());
    }
    return 0;
  }
  if (!flags.quiet) std::fprintf(stderr, "run %s\n", run->run_id().c_str());
  return FollowToEnd(client, run->run_id(), 0, flags.quiet, flags.json, flags.out);
}

}  // namespace

std::function<int(sdk::Client&)> AddRunCommands(CLI::App* app) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run = app->add_subcommand("run", "start a run of a plan (e.g. report) and follow it to the end");
  run->footer("Examples:\n"
              "  agentctl run report --topic \"中国AI Agent市场规模与增长\" --collection reports --out report.md\n"
              "  agentctl run hello --plan-file examples/plans/hello.lua --input name=Ada\n"
              "  agentctl run brief --collection reports --inputs-json '{\"questions\": [\"...\"]}' --detach\n"
              "Plans and their API: docs/plans.md");
  run->add_option("plan", flags->plan, "plan name: a built-in one (report), one in the daemon's plans directory, "
                                        "or a label for --plan-file")->required();
  run->add_option("--topic", flags->topic, "inputs.topic");
  run->add_option("--collection", flags->collection, "inputs.collection");
  run->add_option("--input", flags->inputs, "another input as KEY=VALUE (repeatable; JSON values keep their type)");
  run->add_option("--inputs-json", flags->inputs_json, "all inputs as a JSON object (the flags above add to it)");
  run->add_option("--plan-file", flags->plan_file, "run this Lua plan file instead of an installed plan");
  run->add_option("--out", flags->out, "write the report here instead of standard output");
  run->add_option("--idempotency-key", flags->idempotency_key, "starting twice with one key starts one run");
  run->add_option("--deadline", flags->deadline_seconds, "seconds the run may take (default: the daemon's)");
  run->add_option("--max-tokens", flags->max_tokens, "model tokens the run may use (default: the daemon's)");
  run->add_flag("--detach", flags->detach, "print the run id and return without following");
  run->add_flag("--json", flags->json, "machine-readable output: {\"run_id\"} with --detach, else the finished run");
  run->add_flag("--quiet", flags->quiet, "no progress on standard error");

  CLI::App* runs = app->add_subcommand("runs", "list and manage runs");
  runs->footer("Examples:\n  agentctl runs list --state FAILED\n  agentctl runs events RUN_ID\n"
               "  agentctl runs show RUN_ID --transcripts\n  agentctl runs resume RUN_ID --follow");
  runs->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto states = std::make_shared<std::vector<std::string>>();
  auto plan = std::make_shared<std::string>();
  auto limit = std::make_shared<uint32_t>(50);
  CLI::App* list = runs->add_subcommand("list", "the tenant's runs, newest first");
  list->add_option("--state", *states, "only runs in these states (PENDING RUNNING SUCCEEDED FAILED CANCELLED)");
  list->add_option("--plan", *plan, "only runs of this plan");
  list->add_option("--limit", *limit, "at most this many (default 50)")->check(CLI::Range(1, 1000));
  list->add_flag("--json", *json, "print JSON");
  CLI::App* show = runs->add_subcommand("show", "one run with its steps and artifact");
  show->add_option("run_id", *id, "run id")->required();
  show->add_flag("--json", *json, "print JSON (state, steps with name/state/attempts, artifact, ...)");
  auto transcripts = std::make_shared<bool>(false);
  show->add_flag("--transcripts", *transcripts, "include each step's model and tool transcripts");
  CLI::App* cancel = runs->add_subcommand("cancel", "cancel a pending or running run");
  cancel->add_option("run_id", *id, "run id")->required();
  auto reason = std::make_shared<std::string>();
  cancel->add_option("--reason", *reason, "recorded with the run");
  cancel->add_flag("--json", *json, "print the run as JSON");
  CLI::App* resume = runs->add_subcommand("resume", "resume a failed or cancelled run from its last checkpoint");
  resume->add_option("run_id", *id, "run id")->required();
  auto follow = std::make_shared<bool>(false);
  auto resume_quiet = std::make_shared<bool>(false);
  resume->add_flag("--follow", *follow, "follow it to the end and print the report");
  resume->add_flag("--json", *json, "print the run as JSON");
  resume->add_flag("--quiet", *resume_quiet, "with --follow: no progress on standard error (as for run)");
  CLI::App* remove = runs->add_subcommand("delete", "delete ended runs with their events and reports");
  auto remove_ids = std::make_shared<std::vector<std::string>>();
  remove->add_option("run_ids", *remove_ids, "run ids")->required();
  CLI::App* events = runs->add_subcommand("events", "a run's events (until it ends)");
  events->add_option("run_id", *id, "run id")->required();
  auto after = std::make_shared<uint64_t>(0);
  auto tokens = std::make_shared<bool>(false);
  events->add_option("--after", *after, "only events after this sequence number");
  events->add_flag("--tokens", *tokens, "include token deltas");
  events->add_flag("--json", *json, "one JSON object per line");

  return [=](sdk::Client& client) -> int {
    if (run->parsed()) return StartAndFollow(client, *flags);
    if (list->parsed()) {
      ListRunsRequest request;
      request.set_page_size(*limit);
      request.set_plan(*plan);
      for (const std::string& s : *states) {
        RunState state;
        if (!RunState_Parse("RUN_STATE_" + s, &state) || state == RUN_STATE_UNSPECIFIED) {
          return UsageError(absl::StrCat("--state ", s, ": not one of PENDING RUNNING SUCCEEDED FAILED CANCELLED"));
        }
        request.add_states(state);
      }
      ListRunsResponse response;
      grpc::Status status = client.agents().ListRuns(client.NewContext().get(), request, &response);
      if (!status.ok()) return Fail(sdk::FromGrpcStatus(status, client.address()));
      if (*json) {
        Json out = Json::array();
        for (const Run& r : response.runs()) out.push_back(RunJson(r));
        std::printf("%s\n", Json{{"runs", out}}.dump(2).c_str());
        return 0;
      }
      for (const Run& r : response.runs()) {
        int done = 0;
        for (const Step& s : r.steps()) done += s.state() == STEP_STATE_SUCCEEDED;
        std::printf("%-36s %-10s %-9s %s  %d/%d steps  %s\n", r.run_id().c_str(), r.plan().c_str(),
                    StateName(r.state()).c_str(), Time(r.created_at()).c_str(), done, r.steps_size(), Printable(r.error()).c_str());
      }
      return 0;
    }
    if (show->parsed()) {
      absl::StatusOr<Run> r = client.GetRun(*id, *transcripts);
      if (!r.ok()) return Fail(r.status());
      if (*json) {
        std::printf("%s\n", RunJson(*r).dump(2).c_str());
        return 0;
      }
      std::printf("run %s  plan %s  %s%s\n", r->run_id().c_str(), r->plan().c_str(), StateName(r->state()).c_str(),
                  r->error().empty() ? "" : ("  error: " + Printable(r->error())).c_str());
      std::printf("tokens %llu prompt + %llu completion, %u tool calls\n",
                  static_cast<unsigned long long>(r->usage().prompt_tokens()),
                  static_cast<unsigned long long>(r->usage().completion_tokens()), r->tool_calls());
      for (const Step& s : r->steps()) {
        std::printf("  %-16s %-9s attempts %u%s\n", s.name().c_str(), StepStateName(s.state()).c_str(), s.attempts(),
                    s.error().empty() ? "" : ("  " + Printable(s.error())).c_str());
        // --transcripts: what the step asked and got back, each entry under its step.
        for (const TranscriptEntry& t : s.transcript()) {
          const char* kind = t.kind() == TranscriptEntry::KIND_MODEL_CALL  ? "model"
                             : t.kind() == TranscriptEntry::KIND_TOOL_CALL ? "tool"
                             : t.kind() == TranscriptEntry::KIND_RETRIEVAL ? "retrieval"
                                                                           : "entry";
          std::printf("    ── %s call, %s\n    request:\n%s\n    response:\n%s\n", kind, Time(t.time()).c_str(),
                      Indent(Printable(t.request(), true), "      ").c_str(),
                      Indent(Printable(t.response(), true), "      ").c_str());
        }
      }
      if (!r->artifact().content().empty()) std::printf("\n%s", ForStream(r->artifact().content(), stdout).c_str());
      return 0;
    }
    if (cancel->parsed()) {
      absl::StatusOr<Run> r = client.CancelRun(*id, *reason);
      if (!r.ok()) return Fail(r.status());
      if (*json) {
        std::printf("%s\n", RunJson(*r).dump(2).c_str());
      } else {
        std::printf("%s %s\n", r->run_id().c_str(), StateName(r->state()).c_str());
      }
      return 0;
    }
    if (resume->parsed()) {
      absl::StatusOr<Run> r = client.ResumeRun(*id);
      if (!r.ok()) return Fail(r.status());
      if (*follow) return FollowToEnd(client, *id, r->last_sequence(), *resume_quiet, *json, "");
      if (*json) {
        std::printf("%s\n", RunJson(*r).dump(2).c_str());
      } else {
        std::printf("%s %s\n", r->run_id().c_str(), StateName(r->state()).c_str());
      }
      return 0;
    }
    if (remove->parsed()) {
      // Each id on its own: one that cannot go is named, and the others are still deleted.
      int failed = 0;
      for (const std::string& run_id : *remove_ids) {
        absl::Status deleted = client.DeleteRun(run_id);
        if (deleted.ok()) {
          std::printf("%s deleted\n", run_id.c_str());
        } else {
          ++failed;
          Fail(deleted);
        }
      }
      return failed == 0 ? 0 : 1;
    }
    if (events->parsed()) {
      absl::Status followed = client.FollowRun(*id, *after, *tokens, [&](const RunEvent& e) {
        Json j = EventJson(e);
        if (*json) {
          std::printf("%s\n", j.dump().c_str());
        } else {
          std::printf("%6llu %-15s %s\n", static_cast<unsigned long long>(e.sequence()), j["type"].get<std::string>().c_str(),
                      EventDetails(j).c_str());
        }
        std::fflush(stdout);
        return true;
      });
      if (!followed.ok()) return Fail(followed);
      return 0;
    }
    return -1;
  };
}

}  // namespace agentctl
