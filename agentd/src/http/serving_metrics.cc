#include "http/serving_metrics.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace agentd::http {
namespace {

void Header(absl::string_view name, absl::string_view type, absl::string_view help, std::string* out) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

// Counts are written whole (StrCat keeps six significant digits of a double: a counter past a
// million would stop moving).
void Sample(absl::string_view name, absl::string_view labels, double value, std::string* out) {
  const std::string number = value == static_cast<double>(static_cast<int64_t>(value)) && std::abs(value) < 9e15
                                 ? absl::StrCat(static_cast<int64_t>(value))
                                 : absl::StrFormat("%.17g", value);
  absl::StrAppend(out, name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ", number, "\n");
}

// A counter family with one label: a sample per entry of `counts` (label value → what `count`
// picks from the entry).
template <typename Map, typename Pick>
void CounterFamily(absl::string_view name, absl::string_view help, absl::string_view label, const Map& counts,
                   const Pick& count, std::string* out) {
  Header(name, "counter", help, out);
  for (const auto& [value, entry] : counts) {
    Sample(name, absl::StrCat(label, "=\"", value, "\""), static_cast<double>(count(entry)), out);
  }
}

}  // namespace

void Histogram::Observe(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) ++buckets_[i];
  }
  ++count_;
  sum_ += seconds;
}

void Histogram::Render(absl::string_view name, absl::string_view help, std::string* out) const {
  Header(name, "histogram", help, out);
  RenderSeries(name, "", out);
}

void Histogram::RenderSeries(absl::string_view name, absl::string_view labels, std::string* out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string prefix = labels.empty() ? "" : absl::StrCat(labels, ",");
  for (size_t i = 0; i < kBounds.size(); ++i) {
    Sample(absl::StrCat(name, "_bucket"), absl::StrCat(prefix, "le=\"", kBounds[i], "\""), static_cast<double>(buckets_[i]), out);
  }
  Sample(absl::StrCat(name, "_bucket"), absl::StrCat(prefix, "le=\"+Inf\""), static_cast<double>(count_), out);
  Sample(absl::StrCat(name, "_sum"), labels, sum_, out);
  Sample(absl::StrCat(name, "_count"), labels, static_cast<double>(count_), out);
}

void LabeledHistograms::Observe(absl::string_view value, double seconds) {
  Histogram* histogram;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = histograms_.find(value);
    if (found == histograms_.end()) found = histograms_.emplace(std::string(value), std::make_unique<Histogram>()).first;
    histogram = found->second.get();  // never removed: the pointer stays valid
  }
  histogram->Observe(seconds);
}

void LabeledHistograms::Render(absl::string_view name, absl::string_view help, absl::string_view label, std::string* out) const {
  Header(name, "histogram", help, out);
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [value, histogram] : histograms_) {
    histogram->RenderSeries(name, absl::StrCat(label, "=\"", value, "\""), out);
  }
}

namespace {

// An origin as a label: only the values the daemon sets.
absl::string_view OriginLabel(std::string_view origin) {
  for (const char* known : {"grpc", "http", "plan", "tool"}) {
    if (origin == known) return known;
  }
  return "other";
}

}  // namespace

void ServingMetrics::OnFirstToken(std::string_view origin, double seconds) {
  time_to_first_token_.Observe(OriginLabel(origin), seconds);
}

void ServingMetrics::OnTokens(std::string_view origin, int tokens, double seconds_per_token) {
  const absl::string_view label = OriginLabel(origin);
  for (int i = 0; i < tokens; ++i) inter_token_latency_.Observe(label, seconds_per_token);
}

void ServingMetrics::OnFinished(std::string_view origin, const engine::GenerationResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string label(OriginLabel(origin));
  ++generations_[label];
  auto& counts = generated_[label];
  counts.first += static_cast<uint64_t>(std::max<int64_t>(result.prompt_tokens, 0));
  counts.second += static_cast<uint64_t>(std::max<int64_t>(result.completion_tokens, 0));
  if (result.speculated) {
    const char* mode = result.speculation_mode == engine::SpeculationConfig::Mode::kNgram  ? "ngram"
                       : result.speculation_mode == engine::SpeculationConfig::Mode::kMtp  ? "mtp"
                                                                                           : "draft_model";
    auto& drafted = speculation_[mode];
    drafted.first += static_cast<uint64_t>(std::max<int64_t>(result.draft_tokens_proposed, 0));
    drafted.second += static_cast<uint64_t>(std::max<int64_t>(result.draft_tokens_accepted, 0));
  }
}

void ServingMetrics::CountGrpcCall(absl::string_view method, absl::string_view code, double seconds) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++grpc_calls_[{std::string(method), std::string(code)}];
  }
  grpc_durations_.Observe(method, seconds);
}

void ServingMetrics::CountRequest(absl::string_view endpoint, int http_status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{std::string(endpoint), http_status}];
}

void ServingMetrics::CountTokens(absl::string_view endpoint, int64_t prompt, int64_t completion) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& counts = tokens_[std::string(endpoint)];
  counts.first += static_cast<uint64_t>(std::max<int64_t>(prompt, 0));
  counts.second += static_cast<uint64_t>(std::max<int64_t>(completion, 0));
}

void ServingMetrics::CountRunEnded(absl::string_view state) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++runs_ended_[std::string(state)];
}

void ServingMetrics::ObserveStep(double seconds, bool succeeded) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++steps_ended_[succeeded ? "SUCCEEDED" : "FAILED"];
  }
  step_duration_.Observe(seconds);
}

void ServingMetrics::CountToolCall(absl::string_view tool, bool ok, double seconds) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++tool_calls_[{std::string(tool), ok}];
  }
  tool_duration_.Observe(seconds);
}

std::string ServingMetrics::Render(const engine::SchedulerStats* scheduler) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Header("agentd_grpc_requests_total", "counter", "gRPC calls by method and status code.", &out);
    for (const auto& [key, count] : grpc_calls_) {
      Sample("agentd_grpc_requests_total", absl::StrCat("method=\"", key.first, "\",code=\"", key.second, "\""),
             static_cast<double>(count), &out);
    }
    Header("agentd_http_requests_total", "counter", "HTTP API requests by endpoint and status code.", &out);
    for (const auto& [key, count] : requests_) {
      Sample("agentd_http_requests_total", absl::StrCat("endpoint=\"", key.first, "\",code=\"", key.second, "\""),
             static_cast<double>(count), &out);
    }
    auto first = [](const std::pair<uint64_t, uint64_t>& counts) { return counts.first; };
    auto second = [](const std::pair<uint64_t, uint64_t>& counts) { return counts.second; };
    auto itself = [](uint64_t count) { return count; };
    CounterFamily("agentd_http_prompt_tokens_total", "Prompt tokens of HTTP API requests by endpoint.", "endpoint", tokens_, first,
                  &out);
    CounterFamily("agentd_http_completion_tokens_total", "Generated tokens of HTTP API requests by endpoint.", "endpoint", tokens_,
                  second, &out);
    CounterFamily("agentd_generations_total", "Generations the engine ran, by who asked (grpc, http, plan, tool).", "origin",
                  generations_, itself, &out);
    CounterFamily("agentd_prompt_tokens_total", "Prompt tokens of every generation, by who asked.", "origin", generated_, first,
                  &out);
    CounterFamily("agentd_completion_tokens_total", "Generated tokens of every generation, by who asked.", "origin", generated_,
                  second, &out);
    CounterFamily("agentd_speculation_draft_tokens_total", "Draft tokens proposed by speculation mode.", "mode", speculation_,
                  first, &out);
    CounterFamily("agentd_speculation_accepted_tokens_total", "Draft tokens accepted by speculation mode.", "mode",
                  speculation_, second, &out);
    CounterFamily("agentd_runs_ended_total", "Runs that reached a final state, by state.", "state", runs_ended_, itself, &out);
    CounterFamily("agentd_steps_ended_total", "Plan steps that ended, by state.", "state", steps_ended_, itself, &out);
    Header("agentd_tool_calls_total", "counter", "Tool calls by tool and outcome (errors include refused arguments).", &out);
    for (const auto& [key, count] : tool_calls_) {
      Sample("agentd_tool_calls_total", absl::StrCat("tool=\"", key.first, "\",outcome=\"", key.second ? "ok" : "error", "\""),
             static_cast<double>(count), &out);
    }
  }
  step_duration_.Render("agentd_step_duration_seconds", "How long plan steps took.", &out);
  tool_duration_.Render("agentd_tool_call_duration_seconds", "How long tool calls took.", &out);
  memory_search_.Render("agentd_memory_search_seconds", "How long memory searches took.", &out);
  grpc_durations_.Render("agentd_grpc_request_duration_seconds", "How long gRPC calls took, by method (streams: until their status).",
                         "method", &out);
  time_to_first_token_.Render("agentd_time_to_first_token_seconds",
                              "Time from a generation reaching the engine to its first token, by who asked.", "origin", &out);
  inter_token_latency_.Render("agentd_inter_token_latency_seconds", "Time between generated tokens, by who asked.", "origin",
                              &out);
  if (scheduler != nullptr) {
    const engine::SchedulerStats& s = *scheduler;
    auto counter = [&](const char* name, const char* help, int64_t value) {
      Header(name, "counter", help, &out);
      Sample(name, "", static_cast<double>(value), &out);
    };
    auto gauge = [&](const char* name, const char* help, double value) {
      Header(name, "gauge", help, &out);
      Sample(name, "", value, &out);
    };
    counter("agentd_scheduler_requests_total", "Requests the engine's scheduler admitted (gRPC, HTTP and plan steps).", s.requests);
    counter("agentd_scheduler_iterations_total", "Forward passes the scheduler ran.", s.iterations);
    counter("agentd_scheduler_batched_sequences_total", "Sequences summed over iterations (divide by iterations: mean batch).",
            s.batched_sequences);
    counter("agentd_scheduler_batched_tokens_total", "Tokens summed over iterations.", s.batched_tokens);
    gauge("agentd_scheduler_max_batch_sequences", "Largest batch so far.", static_cast<double>(s.max_batch_sequences));
    counter("agentd_prefix_cache_hit_tokens_total", "Prompt tokens served from the prefix cache.", s.prefix_hit_tokens);
    counter("agentd_prefill_tokens_total", "Prompt tokens run through the model.", s.prefill_tokens);
    counter("agentd_kv_evicted_blocks_total", "Cached KV blocks evicted.", s.evicted_blocks);
    counter("agentd_preemptions_total", "Sequences whose KV memory went to older ones.", s.preemptions);
    counter("agentd_queue_rejections_total", "Requests refused because the queue was full.", s.rejected_queue_full);
    gauge("agentd_running_sequences", "Sequences being generated now.", static_cast<double>(s.running));
    gauge("agentd_queue_depth", "Requests waiting for a place in the batch.", static_cast<double>(s.waiting));
    gauge("agentd_preempted_waiting", "Preempted sequences waiting to resume.", static_cast<double>(s.preempted_waiting));
    gauge("agentd_kv_blocks_total", "KV cache blocks.", static_cast<double>(s.kv_blocks_total));
    gauge("agentd_kv_blocks_used", "KV cache blocks in use.", static_cast<double>(s.kv_blocks_used));
    gauge("agentd_kv_blocks_cached", "KV cache blocks holding reusable prefixes.", static_cast<double>(s.kv_blocks_cached));
  }
  return out;
}

}  // namespace agentd::http
