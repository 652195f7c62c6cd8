// What the daemon counts for operators, written in the Prometheus text format for GET /metrics:
// gRPC calls by method and code with their durations; HTTP requests by endpoint and status and
// their tokens by endpoint; every generation's tokens, time to first token and inter-token
// latency by origin (grpc, http, plan, tool) and speculation by mode; runs, steps, tool calls
// and memory searches; and — read from the engine when rendered — the scheduler's batches,
// queue, KV blocks, prefix-cache hits and preemptions. Labels are names the daemon defines and
// status codes only: no tenant, prompt or prefix ever appears in one.
//
//   ServingMetrics metrics;            // also the engine's GenerationObserver
//   metrics.CountRequest("chat_completions", 200);
//   std::string text = metrics.Render(&engine->scheduler_stats());
#ifndef AGENTD_HTTP_SERVING_METRICS_H_
#define AGENTD_HTTP_SERVING_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include "engine/generation_observer.h"
#include "engine/scheduler.h"

namespace agentd::http {

// A cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,    1,     2.5,  10,    30,   120};
  void Observe(double seconds);
  // HELP/TYPE lines and the _bucket, _sum and _count series.
  void Render(absl::string_view name, absl::string_view help, std::string* out) const;
  // Only the series, each with `labels` (`method="..."`) before its own.
  void RenderSeries(absl::string_view name, absl::string_view labels, std::string* out) const;

 private:
  mutable std::mutex mutex_;
  std::array<uint64_t, kBounds.size()> buckets_ = {};
  uint64_t count_ = 0;
  double sum_ = 0;
};

// One histogram per value of a label (a method, an origin): created on first use, never removed.
class LabeledHistograms {
 public:
  void Observe(absl::string_view value, double seconds);
  // HELP/TYPE lines, then each value's series with `label="value"`.
  void Render(absl::string_view name, absl::string_view help, absl::string_view label, std::string* out) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> histograms_;
};

// Also the engine's GenerationObserver: every generation, whoever asked, is counted by origin
// (grpc, http, plan, tool; anything else as "other").
class ServingMetrics : public engine::GenerationObserver {
 public:
  void OnFirstToken(std::string_view origin, double seconds) override;
  void OnTokens(std::string_view origin, int tokens, double seconds_per_token) override;
  void OnFinished(std::string_view origin, const engine::GenerationResult& result) override;

  void CountRequest(absl::string_view endpoint, int http_status);
  void CountTokens(absl::string_view endpoint, int64_t prompt, int64_t completion);
  // Runs reaching a final state ("SUCCEEDED", ...), steps ending, tool calls by tool (names the
  // operator's tool files define, never a caller's), memory searches.
  void CountRunEnded(absl::string_view state);
  void ObserveStep(double seconds, bool succeeded);
  void CountToolCall(absl::string_view tool, bool ok, double seconds);
  void ObserveMemorySearch(double seconds) { memory_search_.Observe(seconds); }
  // A gRPC call ended: its method (one the daemon defines, or "unknown"), status code name and
  // duration.
  void CountGrpcCall(absl::string_view method, absl::string_view code, double seconds);

  // Everything above, then the scheduler's figures when `scheduler` is given.
  std::string Render(const engine::SchedulerStats* scheduler) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> tokens_;       // endpoint → prompt, completion
  std::map<std::string, std::pair<uint64_t, uint64_t>> generated_;    // origin → prompt, completion
  std::map<std::string, uint64_t> generations_;                       // origin → generations
  std::map<std::string, std::pair<uint64_t, uint64_t>> speculation_;  // mode → proposed, accepted
  std::map<std::string, uint64_t> runs_ended_;                        // state → runs
  std::map<std::string, uint64_t> steps_ended_;                       // state → steps
  std::map<std::pair<std::string, bool>, uint64_t> tool_calls_;       // (tool, ok) → calls
  LabeledHistograms time_to_first_token_;  // by origin
  LabeledHistograms inter_token_latency_;  // by origin
  Histogram step_duration_;
  Histogram tool_duration_;
  Histogram memory_search_;
  std::map<std::pair<std::string, std::string>, uint64_t> grpc_calls_;  // (method, code) → calls
  LabeledHistograms grpc_durations_;                                    // by method
};

}  // namespace agentd::http

#endif  // AGENTD_HTTP_SERVING_METRICS_H_
