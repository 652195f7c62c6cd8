// Runs one plan — a Lua script in the sandbox — against a PlanHost that checkpoints its steps
// and carries out its model calls, retrievals and tool calls.
//
// A plan file calls `plan{...}` once:
//
//   plan{
//     name = "echo",
//     description = "Answers with the topic.",
//     run = function(ctx, inputs)
//       local outline = ctx.step("outline", function()
//         return ctx.llm.chat{messages = {{role = "user", content = inputs.topic}},
//                             json_schema = {type = "object", ...}}
//       end)
//       local drafts = ctx.map("draft", outline.sections, function(section, i) ... end)
//       return {media_type = "text/markdown", content = "...", references = {...}}
//     end,
//   }
//
// Durability comes from replay: ctx.step(name, fn) returns the checkpointed output of a step that
// already finished (fn does not run again) and otherwise runs fn and checkpoints its result
// before returning it. Model, memory and tool calls are only allowed inside a step, so a plan
// resumed after a crash takes the same path up to the first unfinished step. The code between
// steps must therefore be deterministic (no os.time/math.random decisions outside steps).
//
// ctx.map(prefix, items, fn[, {concurrency = 4, parallel = true}]) fans out: each item's step
// runs in a coroutine, and while one waits for a model, memory or tool call (carried out on a
// thread of its own) the others proceed. Host methods may therefore be called from several
// threads at once.
#ifndef AGENTD_RUNS_PLAN_RUNTIME_H_
#define AGENTD_RUNS_PLAN_RUNTIME_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "scripting/sandbox.h"

namespace agentd::runs {

// What a running plan asks of the daemon. Step bookkeeping comes from the plan's thread; Model,
// Retrieve and Tool may also come, concurrently, from the threads ctx.map's tasks use. A call that
// returns an error status raises a Lua error in the plan (which fails the run unless the plan
// catches it); CANCELLED and DEADLINE_EXCEEDED also stop the plan.
class PlanHost {
 public:
  virtual ~PlanHost() = default;
  // The checkpointed output (JSON text) of a step that finished in an earlier attempt.
  virtual std::optional<std::string> FinishedStepOutput(const std::string& step) = 0;
  virtual absl::Status StepStarted(const std::string& step) = 0;
  // Checkpoints the step's output; returns only once it is durable.
  virtual absl::Status StepFinished(const std::string& step, const std::string& output_json) = 0;
  virtual void StepFailed(const std::string& step, const std::string& error) = 0;
  // kind "chat" or "generate"; request/response as in ctx.llm.chat below.
  virtual absl::StatusOr<nlohmann::json> Model(const std::string& step, const std::string& kind,
                                               const nlohmann::json& request) = 0;
  virtual absl::StatusOr<nlohmann::json> Retrieve(const std::string& step, const nlohmann::json& request) = 0;
  // ctx.memory.sentences: the sentences of the given passages that best answer a query, and
  // the headings found in them (memory/sentence_ranker.h).
  virtual absl::StatusOr<nlohmann::json> Sentences(const std::string& step, const nlohmann::json& request) = 0;
  virtual absl::StatusOr<nlohmann::json> Tool(const std::string& step, const std::string& name,
                                              const nlohmann::json& arguments) = 0;
  // The loaded model's context length and the token count of a text (0 and 0 without a model),
  // so plans can fit their prompts.
  virtual int ContextLength() = 0;
  virtual int CountTokens(const std::string& text) = 0;
  // ctx.llm.info(): {name, context_length, writing_style, has_mtp} of the loaded model, or
  // {loaded = false}.
  virtual nlohmann::json ModelInfo() = 0;
  // The specs ({name, description, parameters}) of the tools a plan may call.
  virtual nlohmann::json ListTools() = 0;
  virtual void Warn(const std::string& step, const std::string& message) = 0;
  virtual void Log(const std::string& level, const std::string& message) = 0;
};

struct PlanRunOptions {
  // The plan's Lua source and the name its errors carry ("report.lua"). Required.
  std::string source;
  std::string chunk_name;
  // Directory `require` may load helper modules from; empty disables require. Modules without
  // a '.' are also looked for in shared_scripts_dir (see SandboxOptions).
  std::string scripts_dir;
  std::string shared_scripts_dir;
  // The run's inputs, a JSON object.
  nlohmann::json inputs = nlohmann::json::object();
  std::string run_id;
  // Limits for the plan's own Lua execution (the host enforces the run's deadline and budgets
  // on model and tool calls).
  scripting::SandboxLimits limits;
  // Set to stop the plan's Lua code between host calls (cancellation, shutdown). Optional.
  const std::atomic<bool>* interrupt = nullptr;
  // Required; outlives the call.
  PlanHost* host = nullptr;
};

// Runs the plan to its end and returns what its run function returned (the artifact, a JSON
// object). Errors: INVALID_ARGUMENT for a plan that does not load (syntax error, no plan{...},
// bad definition) or fails (messages start with "file:line:"), RESOURCE_EXHAUSTED /
// DEADLINE_EXCEEDED for spent sandbox limits, and whatever the host returned to stop the plan.
absl::StatusOr<nlohmann::json> RunPlan(const PlanRunOptions& options);

// Loads a plan without running it and returns its name and description; for listing plans and
// refusing broken ones early.
struct PlanInfo {
  std::string name;
  std::string description;
  // plan{inputs = ...}: a JSON Schema the run's inputs must satisfy (checked before a run is
  // created); null when the plan declares none.
  nlohmann::json inputs_schema;
};
// Runs the file's top level (which calls plan{...}) without running the plan, for its
// declaration; errors are the ones a run would fail with at its start (syntax, plan{} misuse,
// an inputs schema that is not one). Modules are required from `scripts_dir` and
// `shared_scripts_dir` as in a run.
absl::StatusOr<PlanInfo> InspectPlan(const std::string& source, const std::string& chunk_name,
                                     const std::string& scripts_dir = "", const std::string& shared_scripts_dir = "");

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_PLAN_RUNTIME_H_
