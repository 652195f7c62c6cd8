// libFuzzer target: the bytes as a tenant's plan (`agentctl run --plan-file`, a plans directory),
// run to its end by the plan runtime as the daemon runs one: plan{...}, ctx.step's checkpoints,
// ctx.map's coroutines with their calls on threads of their own (host.submit / host.wait),
// ctx.llm / ctx.memory / ctx.tools / ctx.agent, under small sandbox limits. The host answers
// every call at once with JSON built from the request, as a daemon would with real results.
// Whatever the script does, RunPlan returns a value or a status: no crash, no sanitizer report,
// no thread left running, no hang past the limits (libFuzzer's -timeout).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "nlohmann/json.hpp"
#include "runs/plan_runtime.h"
#include "runs/plan_values.h"

namespace {

using Json = nlohmann::json;

// In memory, as RunHost keeps steps in the run store, with RunHost's bounds on step names and
// outputs; calls may come from several threads. Some names end the run as a daemon would: a step
// or tool named "cancel", "deadline" or "budget" answers CANCELLED, DEADLINE_EXCEEDED or
// RESOURCE_EXHAUSTED, which the runtime must carry to the end of the plan whatever it catches.
class EchoHost : public agentd::runs::PlanHost {
 public:
  std::optional<std::string> FinishedStepOutput(const std::string& step) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = finished_.find(step);
    if (it == finished_.end()) return std::nullopt;
    return it->second;
  }
  absl::Status StepStarted(const std::string& step) override {
    if (step.empty() || step.size() > 256) return absl::InvalidArgumentError("ctx.step: the step name must be 1 to 256 bytes");
    return Stop(step);
  }
  absl::Status StepFinished(const std::string& step, const std::string& output_json) override {
    // The runtime hands over JSON it encoded itself; a step's output must parse back.
    if (Json::parse(output_json, nullptr, false).is_discarded()) __builtin_trap();
    std::lock_guard<std::mutex> lock(mutex_);
    if (output_bytes_ + output_json.size() > agentd::runs::kMaxStepOutputBytes) {
      return absl::ResourceExhaustedError("ctx.step: the run's step outputs are full");
    }
    output_bytes_ += output_json.size();
    finished_[step] = output_json;
    return absl::OkStatus();
  }
  void StepFailed(const std::string&, const std::string&) override {}
  absl::StatusOr<Json> Model(const std::string& step, const std::string& kind, const Json& request) override {
    // A reply that calls the first tool it was offered, so that ctx.agent's loop runs too.
    Json reply = {{"text", kind + " in " + step}, {"finish_reason", "stop"}, {"prompt_tokens", 1},
                  {"completion_tokens", 1}};
    if (request.is_object() && request.contains("tools") && request["tools"].is_array() && !request["tools"].empty()) {
      reply["tool_calls"] = Json::array({{{"id", "call-1"}, {"name", request["tools"][0]}, {"arguments", {{"q", 1}}}}});
    }
    return reply;
  }
  absl::StatusOr<Json> Retrieve(const std::string&, const Json& request) override {
    return Json{{"hits", Json::array({{{"text", request.dump().substr(0, 200)}, {"score", 0.5}, {"document", "d"},
                                       {"offsets", {0, 3}}, {"title", "t"}, {"source", "s"}, {"chunk_id", 0}}})}};
  }
  absl::StatusOr<Json> Sentences(const std::string&, const Json&) override {
    return Json{{"sentences", Json::array()}, {"headings", Json::array()}};
  }
  absl::StatusOr<Json> Tool(const std::string&, const std::string& name, const Json& arguments) override {
    if (name == "fails") return absl::InvalidArgumentError("tool fails: refused");
    if (absl::Status stop = Stop(name); !stop.ok()) return stop;
    // What examples/tools/research.lua's word count answers, so that brief.lua reaches its end.
    return Json{{"tool", name}, {"arguments", arguments}, {"words", 3}, {"cjk_characters", 2}};
  }
  int ContextLength() override { return 4096; }
  int CountTokens(const std::string& text) override { return static_cast<int>(text.size() / 4); }
  Json ModelInfo() override { return Json{{"loaded", false}}; }
  Json ListTools() override {
    return Json::array({{{"name", "echo"}, {"description", "echoes"}, {"parameters", {{"type", "object"}}}}});
  }
  void Warn(const std::string&, const std::string&) override {}
  void Log(const std::string&, const std::string&) override {}

 private:
  static absl::Status Stop(const std::string& name) {
    if (name == "cancel") return absl::CancelledError("run cancelled");
    if (name == "deadline") return absl::DeadlineExceededError("run deadline exceeded");
    if (name == "budget") return absl::ResourceExhaustedError("run budget spent");
    return absl::OkStatus();
  }

  std::mutex mutex_;
  std::map<std::string, std::string> finished_;
  size_t output_bytes_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  EchoHost host;
  agentd::runs::PlanRunOptions options;
  options.source.assign(reinterpret_cast<const char*>(data), size);
  options.chunk_name = "fuzz.lua";
  // What the seeds read (examples/plans/brief.lua, bench/steps/steps.lua, every_call.lua).
  options.inputs = {{"topic", "batteries"}, {"n", 3}, {"items", {1, 2, 3, 4, 5}}, {"collection", "c"},
                    {"questions", {"How much?", "When?"}}};
  options.run_id = "run-fuzz";
  options.limits.max_instructions = 5'000'000;
  options.limits.max_memory_bytes = 32ull << 20;
  options.limits.timeout_seconds = 3;
  options.host = &host;
  absl::StatusOr<Json> artifact = agentd::runs::RunPlan(options);
  // AGENTD_FUZZ_PRINT=1 build-fuzz/bin/fuzz_plan_runtime SEED: what a seed comes to.
  static const bool print = std::getenv("AGENTD_FUZZ_PRINT") != nullptr;
  if (print) {
    std::fprintf(stderr, "%s\n", artifact.ok() ? artifact->dump().c_str() : artifact.status().ToString().c_str());
  }
  return 0;
}
