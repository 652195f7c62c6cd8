// The serving layer on a real checkpoint (default: the shipped default model), each figure with
// its reference measured in the same run:
//   1. continuous batching: N concurrent greedy requests through the scheduler, against the
//      same N requests run one after another without it;
//   2. prefix caching: requests sharing a long prompt prefix, with and without the cache;
//   3. speculative decoding on the report plan's revise step (requests recorded from real runs,
//      bench/data/revise_requests.jsonl, replayed with their constraint and penalty): none,
//      n-gram and MTP drafting;
//   4. KV memory pressure: concurrent requests with a KV pool holding about half of their
//      contexts (preemption by recompute) against an ample pool.
//
//   serving --model engine/models/agentd-default --requests bench/data/revise_requests.jsonl
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "engine/engine.h"
#include "engine/generation.h"
#include "engine/model.h"
#include "engine/scheduler.h"
#include "engine/tokenizer.h"
#include "nlohmann/json.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using engine::SpeculationConfig;

double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

int Fail(const std::string& message) {
  std::fprintf(stderr, "serving: %s\n", message.c_str());
  return 1;
}

const char* kTexts[] = {
    "The report examines how battery supply chains",
    "新能源汽车的渗透率在过去三年",
    "Large language models are trained on",
    "半导体设备国产化的主要瓶颈",
    "The central bank raised interest rates because",
    "人工智能算力需求的增长带动了",
    "Cloud providers compete on price and",
    "光伏产业链的价格在二季度",
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Continuous batching, prefix caching and speculative decoding on a real checkpoint"};
  std::string model_dir = "engine/models/agentd-default", requests_path = "bench/data/revise_requests.jsonl";
  int max_tokens = 64, threads = 0;
  std::vector<int> batch_sizes = {1, 4, 8, 16};
  bool batched_first = false;
  app.add_option("--model", model_dir, "model directory");
  app.add_option("--requests", requests_path, "recorded revise-step requests (JSON lines)");
  app.add_option("--max-tokens", max_tokens, "tokens per request in the batching test");
  app.add_option("--threads", threads, "OpenMP threads (default: all cores)");
  app.add_option("--batch-sizes", batch_sizes, "concurrent requests to measure (default 1 4 8 16)");
  app.add_flag("--batched-first", batched_first, "run the batched side of each comparison first");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) omp_set_num_threads(threads);

  auto model = engine::Model::Load({.model_dir = model_dir});
  if (!model.ok()) return Fail(std::string(model.status().message()));
  auto tokenizer = engine::Tokenizer::Load(model_dir);
  if (!tokenizer.ok()) return Fail(std::string(tokenizer.status().message()));
  std::printf("model %s: %.1fM parameters, %d threads\n\n", model_dir.c_str(), (*model)->parameter_count() / 1e6,
              omp_get_max_threads());

  // 1. Continuous batching.
  std::printf("1. continuous batching: N greedy requests of %d tokens\n", max_tokens);
  std::printf("| N | one after another, tokens/s | batched, tokens/s | speed-up | mean batch |\n|---|---|---|---|---|\n");
  for (int n : batch_sizes) {
    std::vector<engine::GenerationRequest> requests;
    for (int i = 0; i < n; ++i) {
      engine::GenerationRequest r;
      r.prompt = (*tokenizer)->Encode(kTexts[i % 8] + std::string(i >= 8 ? " and" : ""));
      r.max_tokens = max_tokens;
      r.ignore_eos = true;
      requests.push_back(r);
    }
    auto created = engine::Scheduler::Create(**model, **tokenizer, {.prefix_caching = false});
    if (!created.ok()) return Fail(std::string(created.status().message()));
    engine::Scheduler* scheduler = created->get();
    // The reference goes through the same scheduler, one request at a time, so both sides run
    // on the same thread and OpenMP team and differ only in batching.
    auto run_serial = [&]() -> double {
      auto start = Clock::now();
      for (const auto& r : requests) {
        auto result = scheduler->Generate(r, {}, nullptr);
        if (!result.ok()) std::fprintf(stderr, "%s\n", std::string(result.status().message()).c_str());
      }
      return n * max_tokens / Seconds(start);
    };
    auto run_batched = [&]() -> double {
      auto start = Clock::now();
      std::vector<std::thread> callers;
      for (const auto& r : requests) {
        callers.emplace_back([&, r] {
          auto result = scheduler->Generate(r, {}, nullptr);
          if (!result.ok()) std::fprintf(stderr, "%s\n", std::string(result.status().message()).c_str());
        });
      }
      for (auto& c : callers) c.join();
      return n * max_tokens / Seconds(start);
    };
    // Warm up, then the best of three of each (this machine's timings vary by tens of percent).
    (void)run_serial();
    double serial = 0, batched = 0;
    double mean_batch = 0;
    for (int repeat = 0; repeat < 3; ++repeat) {
      if (!batched_first) serial = std::max(serial, run_serial());
      const engine::SchedulerStats before = scheduler->stats();
      const double rate = run_batched();
      const engine::SchedulerStats after = scheduler->stats();
      if (rate > batched) {
        batched = rate;
        mean_batch = static_cast<double>(after.batched_sequences - before.batched_sequences) /
                     static_cast<double>(after.iterations - before.iterations);
      }
      if (batched_first) serial = std::max(serial, run_serial());
    }
    std::printf("| %d | %.0f | %.0f | %.2fx | %.1f |\n", n, serial, batched, batched / serial, mean_batch);
  }

  // 2. Prefix caching: a report-sized shared prefix, then a short question each time.
  std::string shared = "You are a careful research analyst. Sources:\n";
  for (int i = 0; i < 12; ++i) shared += std::string("[") + std::to_string(i + 1) + "] " + kTexts[i % 8] + " " + kTexts[(i + 3) % 8] + ".\n";
  std::printf("\n2. prefix caching: 8 requests sharing a %zu-token prefix, 16 tokens each\n",
              (*tokenizer)->Encode(shared).size());
  std::printf("| prefix cache | mean time to first token, ms | prompt tokens run | served from cache |\n|---|---|---|---|\n");
  for (bool caching : {false, true}) {
    auto scheduler = engine::Scheduler::Create(**model, **tokenizer, {.prefix_caching = caching});
    if (!scheduler.ok()) return Fail(std::string(scheduler.status().message()));
    double ttft = 0;
    for (int i = 0; i < 8; ++i) {
      engine::GenerationRequest r;
      r.prompt = (*tokenizer)->Encode(shared + "Question: " + kTexts[i]);
      r.max_tokens = 16;
      r.ignore_eos = true;
      auto result = (*scheduler)->Generate(r, {}, nullptr);
      if (!result.ok()) return Fail(std::string(result.status().message()));
      ttft += result->time_to_first_token_ms;
    }
    const engine::SchedulerStats stats = (*scheduler)->stats();
    std::printf("| %s | %.1f | %lld | %lld |\n", caching ? "on" : "off", ttft / 8,
                static_cast<long long>(stats.prefill_tokens), static_cast<long long>(stats.prefix_hit_tokens));
  }

  // 3. Speculative decoding on recorded revise-step requests.
  std::ifstream in(requests_path);
  if (!in) return Fail("cannot read " + requests_path);
  std::vector<Json> recorded;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) recorded.push_back(Json::parse(line)["request"]);
  }
  auto eng = engine::Engine::Load({.model_dir = model_dir});
  if (!eng.ok()) return Fail(std::string(eng.status().message()));
  std::printf("\n3. speculative decoding on %zu recorded revise-step requests (greedy, repetition penalty as recorded)\n",
              recorded.size());
  std::printf("| drafting | tokens/s | speed-up | drafted | accepted | acceptance | tokens per forward pass | same tokens as none |\n"
              "|---|---|---|---|---|---|---|---|\n");
  struct Mode {
    const char* name;
    SpeculationConfig config;
  };
  const std::vector<Mode> modes = {
      {"none", {}},
      {"n-gram k=4", {.mode = SpeculationConfig::Mode::kNgram, .num_draft_tokens = 4}},
      {"MTP k=1", {.mode = SpeculationConfig::Mode::kMtp, .num_draft_tokens = 1}},
      {"MTP k=2", {.mode = SpeculationConfig::Mode::kMtp, .num_draft_tokens = 2}},
      {"MTP k=3", {.mode = SpeculationConfig::Mode::kMtp, .num_draft_tokens = 3}},
  };
  double base_rate = 0;
  std::vector<std::vector<int32_t>> baseline;
  for (const Mode& mode : modes) {
    int64_t tokens = 0, drafted = 0, accepted = 0, passes = 0;
    bool same = true;
    auto start = Clock::now();
    for (size_t i = 0; i < recorded.size(); ++i) {
      const Json& r = recorded[i];
      std::vector<engine::ChatMessage> messages;
      for (const Json& m : r["messages"]) {
        messages.push_back({.role = m["role"] == "system" ? engine::ChatMessage::Role::kSystem : engine::ChatMessage::Role::kUser,
                            .content = m["content"]});
      }
      engine::CompletionOptions options;
      options.max_tokens = r.value("max_tokens", 256);
      options.sampling.repetition_penalty = r.value("repetition_penalty", 1.0f);
      if (r.contains("cite")) {
        options.constraint = {.kind = engine::ResponseConstraint::Kind::kCitedText, .max_citation = r["cite"].get<int>()};
      }
      options.speculation = mode.config;
      auto result = (*eng)->Chat(messages, {}, options, nullptr);
      if (!result.ok()) return Fail(std::string(result.status().message()));
      const engine::GenerationResult& g = result->generation;
      tokens += g.completion_tokens;
      drafted += g.draft_tokens_proposed;
      accepted += g.draft_tokens_accepted;
      passes += g.completion_tokens - g.draft_tokens_accepted;  // each pass yields one token plus accepted drafts
      if (mode.config.mode == SpeculationConfig::Mode::kNone) {
        baseline.push_back(g.tokens);
      } else {
        same = same && baseline[i] == g.tokens;
      }
    }
    const double rate = tokens / Seconds(start);
    if (mode.config.mode == SpeculationConfig::Mode::kNone) base_rate = rate;
    std::printf("| %s | %.0f | %.2fx | %lld | %lld | %.2f | %.2f | %s |\n", mode.name, rate, rate / base_rate,
                static_cast<long long>(drafted), static_cast<long long>(accepted),
                drafted > 0 ? static_cast<double>(accepted) / drafted : 0.0,
                static_cast<double>(tokens) / std::max<int64_t>(1, passes), same ? "yes" : "NO");
  }

  // 4. KV memory pressure: the same concurrent requests with memory for all of them, and with
  // a pool that holds about half their contexts, where the newest are preempted and recomputed.
  {
    const int n = 16, tokens_each = 192;
    std::vector<engine::GenerationRequest> requests;
    int64_t positions = 0;
    for (int i = 0; i < n; ++i) {
      engine::GenerationRequest r;
      r.prompt = (*tokenizer)->Encode(kTexts[i % 8] + std::string(i >= 8 ? " and" : ""));
      r.max_tokens = tokens_each;
      r.ignore_eos = true;
      positions += static_cast<int64_t>(r.prompt.size()) + tokens_each;
      requests.push_back(r);
    }
    const int block_size = 16;
    const uint64_t block_bytes =
        (*model)->NewBlockPool({.block_size = block_size, .store_hidden = (*model)->has_mtp()})->block_bytes();
    const int64_t tight_blocks = std::max<int64_t>(64, positions / block_size / 2);
    std::printf("\n4. KV memory pressure: %d concurrent greedy requests of %d tokens (%lld positions in all)\n", n,
                tokens_each, static_cast<long long>(positions));
    std::printf("| KV pool, blocks of %d | tokens/s | preemptions | prompt tokens run | same tokens as ample |\n"
                "|---|---|---|---|---|\n", block_size);
    std::vector<std::vector<int32_t>> ample_tokens;
    double ample_rate = 0;
    for (int64_t blocks : {int64_t{0}, tight_blocks}) {
      engine::SchedulerOptions options{.block_size = block_size};
      if (blocks > 0) options.kv_cache_bytes = static_cast<uint64_t>(blocks) * block_bytes;
      auto scheduler = engine::Scheduler::Create(**model, **tokenizer, options);
      if (!scheduler.ok()) return Fail(std::string(scheduler.status().message()));
      std::vector<std::vector<int32_t>> got(n);
      std::atomic<bool> failed{false};
      auto start = Clock::now();
      std::vector<std::thread> callers;
      for (int i = 0; i < n; ++i) {
        callers.emplace_back([&, i] {
          auto result = (*scheduler)->Generate(requests[i], {}, nullptr);
          if (!result.ok()) {
            std::fprintf(stderr, "%s\n", std::string(result.status().message()).c_str());
            failed.store(true);
            return;
          }
          got[i] = result->tokens;
        });
      }
      for (auto& c : callers) c.join();
      if (failed) return Fail("a request failed under KV memory pressure");
      const double rate = n * tokens_each / Seconds(start);
      const engine::SchedulerStats stats = (*scheduler)->stats();
      if (blocks == 0) {
        ample_tokens = got;
        ample_rate = rate;
      }
      std::printf("| %s | %.0f (%.2fx) | %lld | %lld | %s |\n",
                  blocks == 0 ? "ample (2 GiB)" : (std::to_string(stats.kv_blocks_total) + " (" +
                                                   std::to_string(stats.kv_blocks_total * block_size) + " positions)")
                                                      .c_str(),
                  rate, rate / ample_rate, static_cast<long long>(stats.preemptions),
                  static_cast<long long>(stats.prefill_tokens), got == ample_tokens ? "yes" : "NO");
    }
  }
  return 0;
}
