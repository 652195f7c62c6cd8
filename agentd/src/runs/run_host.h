// The host of one executing plan (plan_runtime.h's PlanHost): what ctx.step, ctx.llm,
// ctx.memory, ctx.tools and ctx.warn do for one attempt of one run — checkpoints, model calls
// under the run's budgets, retrieval, tool calls, transcripts and events — written through the
// run manager's RunJournal.
#ifndef AGENTD_RUNS_RUN_HOST_H_
#define AGENTD_RUNS_RUN_HOST_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "nlohmann/json.hpp"
#include "runs/active_run.h"
#include "runs/plan_runtime.h"

namespace agentd::runs {

// What one executing plan calls; lives for one attempt of one run.
class RunHost final : public PlanHost {
 public:
  RunHost(RunJournal* journal, std::shared_ptr<ActiveRun> run, std::chrono::steady_clock::time_point deadline)
      : journal_(journal), run_(std::move(run)), deadline_(deadline) {}

  std::optional<std::string> FinishedStepOutput(const std::string& step) override;
  absl::Status StepStarted(const std::string& step) override;
  absl::Status StepFinished(const std::string& step, const std::string& output_json) override;
  void StepFailed(const std::string& step, const std::string& error) override;
  absl::StatusOr<nlohmann::json> Model(const std::string& step, const std::string& kind, const nlohmann::json& request) override;
  absl::StatusOr<nlohmann::json> Retrieve(const std::string& step, const nlohmann::json& request) override;
  absl::StatusOr<nlohmann::json> Sentences(const std::string& step, const nlohmann::json& request) override;
  absl::StatusOr<nlohmann::json> Tool(const std::string& step, const std::string& name, const nlohmann::json& arguments) override;
  nlohmann::json ListTools() override;
  int ContextLength() override {
    engine::Engine* engine = loaded_engine();
    return engine == nullptr ? 0 : engine->info().context_length;
  }
  nlohmann::json ModelInfo() override {
    engine::Engine* engine = loaded_engine();
    if (engine == nullptr) return {{"loaded", false}};
    const engine::EngineInfo& info = engine->info();
    return {{"loaded", true}, {"name", info.name}, {"context_length", info.context_length},
            {"writing_style", info.writing_style}, {"has_mtp", info.has_mtp}};
  }
  // As ctx.llm.chat will read the text in a message: literal, a chat token's spelling as the
  // several ordinary tokens it becomes there (counted as one, a passage full of them sized a
  // prompt past the context).
  int CountTokens(const std::string& text) override {
    engine::Engine* engine = loaded_engine();
    if (engine == nullptr) return 0;
    const engine::TextRange all{0, text.size()};
    return static_cast<int>(engine->tokenizer().EncodeWithLiteralRanges(text, {&all, 1}).size());
  }
  void Warn(const std::string& step, const std::string& message) override;
  void Log(const std::string& level, const std::string& message) override;

  // Why the run must stop now, if it must.
  absl::Status StopReason() const;

 private:
  // Tells the daemon's metrics (RunManagerOptions::on_step_ended) how long the step took.
  void ReportStepEnded(const agentd::v1::Step& step, bool succeeded) const;
  engine::Engine* loaded_engine() const;
  // Appends to the step's transcript while the run's transcripts hold less than
  // kMaxTranscriptBytes (plan_values.h); after that, one entry says so and later calls go
  // unrecorded. The caller holds run_->mutex.
  void AddTranscript(const std::string& step, agentd::v1::TranscriptEntry::Kind kind, const std::string& request,
                     const std::string& response);

  RunJournal* journal_;
  std::shared_ptr<ActiveRun> run_;
  std::chrono::steady_clock::time_point deadline_;
  std::atomic<int> tool_call_counter_{0};
  // Bytes of transcript text the run's record holds (counted from the record at the first
  // entry of this attempt); guarded by run_->mutex, as AddTranscript's callers hold it.
  std::optional<size_t> transcript_bytes_;
  bool transcript_full_noted_ = false;
  // Bytes of step output the run's record holds (kMaxStepOutputBytes), counted likewise at the
  // first step to finish in this attempt; guarded by run_->mutex.
  std::optional<size_t> output_bytes_;
};

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_RUN_HOST_H_
