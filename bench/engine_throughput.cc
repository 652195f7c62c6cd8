// Prefill and decode throughput of the CPU engine on random-weight checkpoints of real model
// shapes, against the memory-bandwidth floor measured in the same run: decoding one token must
// stream every active weight from memory once, so
//   floor tokens/s = measured read bandwidth / active weight bytes per token.
//
//   engine_throughput --shape bench/shapes/qwen3_moe_cpu_bench.json --threads 2
//   engine_throughput --shape ... --prompt 128,512,2048 --sequences 4,16 --tokenizer DIR --json
//   engine_throughput --model model.gguf ...     (an existing checkpoint directory or GGUF file)
//
// Prefill: each prompt length on an empty KV cache, best of 3. Decode: greedy steps after the
// first prompt, one sequence. Aggregate decode (--sequences): S requests through the serving
// scheduler at once, prompts already in the prefix cache (a first round put them there), so the
// time is their decode steps batched together. The random checkpoint is written once to
// --cache-dir and reused.
// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <vector>

#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "engine/model.h"
#include "engine/random_checkpoint.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "engine/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Best-of-N parallel read bandwidth over a buffer far larger than the caches, in bytes/s: the
// fastest the weights could stream, read with the widest loads the CPU has, so the floor it
// gives is a real floor.
__attribute__((target("avx512f"))) double ReadPassAvx512(const float* p, size_t floats, int threads) {
  auto start = Clock::now();
  float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    const size_t per_thread = floats / omp_get_num_threads();
    const float* q = p + per_thread * omp_get_thread_num();
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 64 <= per_thread; i += 64) {
      a0 = _mm512_add_ps(a0, _mm512_loadu_ps(q + i));
      a1 = _mm512_add_ps(a1, _mm512_loadu_ps(q + i + 16));
      a2 = _mm512_add_ps(a2, _mm512_loadu_ps(q + i + 32));
      a3 = _mm512_add_ps(a3, _mm512_loadu_ps(q + i + 48));
    }
    total += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  }
  const double seconds = Seconds(start, Clock::now());
  volatile float sink = total;
  (void)sink;
  return floats * sizeof(float) / seconds;
}

// The bf16 dot-product peak of this CPU in flop/s: vdpbf16ps (32 bf16 products summed into 16
// float32 lanes, 64 flops) on 12 independent chains per thread, enough to cover its latency on
// every core type. 0 when the CPU lacks AVX512-BF16.
__attribute__((target("avx512f,avx512bf16"))) double Bf16DotPeak(int threads) {
  if (!__builtin_cpu_supports("avx512bf16")) return 0;
  constexpr int kChains = 12;
  constexpr int64_t kIterations = 20'000'000;
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    auto start = Clock::now();
    float total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80);  // 1.0
      const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3c00);  // 2^-7
      __m512 acc[kChains];
      for (auto& v : acc) v = _mm512_setzero_ps();
      for (int64_t i = 0; i < kIterations; ++i) {
#pragma GCC unroll 12
        for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
      }
      for (auto& v : acc) total += _mm512_reduce_add_ps(v);
    }
    const double seconds = Seconds(start, Clock::now());
    volatile float sink = total;
    (void)sink;
    best = std::max(best, threads * kIterations * kChains * 64.0 / seconds);
  }
  return best;
}

double MeasureReadBandwidth(int threads, size_t bytes) {
  std::vector<float> buffer(bytes / sizeof(float), 1.0f);
  double best = 0;
  for (int round = 0; round < 8; ++round) best = std::max(best, ReadPassAvx512(buffer.data(), buffer.size(), threads));
  return best;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// `n` token ids in [0, vocab) from a 32-bit xorshift seeded with `seed`: a generator simple
// enough to write the same in JavaScript, so both engines of the peer benchmark read one prompt.
std::vector<int32_t> BenchPrompt(int n, int32_t vocab, uint32_t seed) {
  uint32_t state = 2463534242u ^ seed;
  std::vector<int32_t> ids(n);
  for (auto& id : ids) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    id = static_cast<int32_t>(state % static_cast<uint32_t>(vocab));
  }
  return ids;
}

// The next token as the engine picks it greedily (outside the timed step, as a server's
// sampling is).
int32_t Greedy(std::vector<float>& logits, int64_t vocab) {
  engine::Sampler sampler(engine::SamplingParams{});
  return sampler.Sample(std::span(logits).first(static_cast<size_t>(vocab)), engine::TokenHistory{});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"engine_throughput: CPU prefill/decode tokens/s vs the memory-bandwidth floor"};
  std::string shape_path, cache_dir = "/tmp/agentd-bench-models";
  int threads = 2, decode_tokens = 64;
  std::vector<int> prompt_lengths = {128}, sequence_counts;
  std::string tokenizer_dir, quantize;
  bool json = false;
  std::string model_path;
  auto* shape_option = app.add_option("--shape", shape_path, "config.json of the shape to benchmark (a random checkpoint)");
  app.add_option("--model", model_path,
                 "an existing model instead: a checkpoint directory or a GGUF file (the peer benchmark runs "
                 "llama.cpp's file)")
      ->excludes(shape_option);
  app.add_option("--threads", threads, "threads (default 2)");
  app.add_option("--prompt", prompt_lengths, "prefill lengths, comma-separated (default 128)")->delimiter(',');
  app.add_option("--decode", decode_tokens, "tokens to decode (default 64)");
  app.add_option("--sequences", sequence_counts, "aggregate decode at these numbers of concurrent sequences")
      ->delimiter(',');
  app.add_option("--tokenizer", tokenizer_dir, "tokenizer directory (needed by --sequences)");
  app.add_flag("--json", json, "also print the figures as one JSON line");
  app.add_option("--quantize", quantize, "quantise the weights at load: q8, q4 (output head at 8 bits) or q4-pure (default: as stored)");
  app.add_option("--cache-dir", cache_dir, "where random checkpoints are kept");
  std::string checkpoint_dtype = "bf16";
  app.add_option("--checkpoint-dtype", checkpoint_dtype,
                 "dtype of the random checkpoint: bf16 (default) or fp8 (DeepSeek-V3's block-scaled E4M3, for "
                 "shapes too big for the disk in bf16; quantise them with --quantize)")
      ->check(CLI::IsMember({"bf16", "fp8"}));
  float stddev = 0.02f;
  app.add_option("--stddev", stddev,
                 "spread of the random weights (default 0.02, as HF initialises; logits of such a model are "
                 "near ties, so bench/peer/agreement.sh uses 0.25 to compare engines' choices)")
      ->check(CLI::Range(1e-4, 10.0));
  CLI11_PARSE(app, argc, argv);
  if (prompt_lengths.empty() || *std::min_element(prompt_lengths.begin(), prompt_lengths.end()) < 1) {
    std::fprintf(stderr, "--prompt: lengths must be positive\n");
    return 1;
  }
  if (!sequence_counts.empty() && tokenizer_dir.empty()) {
    std::fprintf(stderr, "--sequences needs --tokenizer\n");
    return 1;
  }
  omp_set_num_threads(threads);

  std::string name, dir;
  if (!model_path.empty()) {
    name = std::filesystem::path(model_path).filename().string();
    dir = model_path;
  } else if (shape_path.empty()) {
    std::fprintf(stderr, "give --shape or --model\n");
    return 1;
  } else {
    const std::string config_json = ReadFile(shape_path);
    if (config_json.empty()) {
      std::fprintf(stderr, "cannot read %s\n", shape_path.c_str());
      return 1;
    }
    name = std::filesystem::path(shape_path).stem().string();
    dir = cache_dir + "/" + name + (checkpoint_dtype == "fp8" ? "-fp8" : "") +
          (stddev != 0.02f ? absl::StrCat("-stddev", stddev) : "");
    if (!std::filesystem::exists(dir + "/model.safetensors") || ReadFile(dir + "/config.json") != config_json) {
      std::fprintf(stderr, "writing random %s checkpoint to %s ...\n", checkpoint_dtype.c_str(), dir.c_str());
      absl::Status status = engine::WriteRandomCheckpoint(
          config_json, dir,
          {.dtype = checkpoint_dtype == "fp8" ? engine::DType::kF8E4M3 : engine::DType::kBF16, .stddev = stddev});
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        return 1;
      }
    }
  }
  const auto load_start = Clock::now();
  // Quantised weights are saved beside the checkpoint's cache, so a second run maps them.
  auto model = engine::Model::Load(
      {.model_dir = dir, .quantize = quantize, .quantized_copy_dir = (std::filesystem::path(cache_dir) / "quantized").string()});
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  const double load_seconds = Seconds(load_start, Clock::now());
  if (!(*model)->quantized_copy_note().empty()) std::fprintf(stderr, "%s\n", (*model)->quantized_copy_note().c_str());
  const engine::ModelConfig& config = (*model)->config();
  // Measured again after the timed runs, the best of both: on a shared VM a neighbour's burst
  // during one measurement halved the floor (and doubled the share of it reached).
  double bandwidth = MeasureReadBandwidth(threads, size_t{1} << 30);
  const double active_bytes = static_cast<double>((*model)->active_weight_bytes());
  const double bf16_peak = Bf16DotPeak(threads);

  // Touch every weight once so page faults of the memory map are not timed.
  {
    auto cache = (*model)->NewCache();
    engine::ForwardResult warm;
    std::vector<int32_t> ids(64);
    std::mt19937 rng(7);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % config.vocab_size);
    (void)(*model)->Forward(ids, cache.get(), {}, &warm);
  }

  // Token ids: the same generator and seed as bench/peer/llamacpp_bench.mjs, so llama.cpp
  // reads the same prompts (ids below Qwen3's first special token).
  const int32_t prompt_vocab = static_cast<int32_t>(std::min<int64_t>(config.vocab_size, 151643));
  std::vector<double> best_prefill(prompt_lengths.size(), 1e9);
  std::vector<double> decode_times;
  for (size_t p = 0; p < prompt_lengths.size(); ++p) {
    const std::vector<int32_t> prompt = BenchPrompt(prompt_lengths[p], prompt_vocab, 1);
    for (int round = 0; round < 3; ++round) {
      auto cache = (*model)->NewCache();
      engine::ForwardResult result;
      auto start = Clock::now();
      absl::Status status = (*model)->Forward(prompt, cache.get(), {}, &result);
      best_prefill[p] = std::min(best_prefill[p], Seconds(start, Clock::now()));
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        return 1;
      }
      if (round > 0 || p > 0) continue;
      int32_t next = Greedy(result.logits, config.vocab_size);
      for (int t = 0; t < decode_tokens; ++t) {
        auto step = Clock::now();
        (void)(*model)->Forward(std::span(&next, 1), cache.get(), {}, &result);
        decode_times.push_back(Seconds(step, Clock::now()));
        next = Greedy(result.logits, config.vocab_size);
      }
    }
  }
  std::vector<double> aggregate_tps;
  if (!sequence_counts.empty()) {
    auto tokenizer = engine::Tokenizer::Load(tokenizer_dir);
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "%s\n", tokenizer.status().ToString().c_str());
      return 1;
    }
    for (int sequences : sequence_counts) {
      auto scheduler = engine::Scheduler::Create(**model, **tokenizer, {.max_running = std::max(16, sequences)});
      if (!scheduler.ok()) {
        std::fprintf(stderr, "%s\n", scheduler.status().ToString().c_str());
        return 1;
      }
      auto run_all = [&](int max_tokens) {
        std::vector<std::thread> callers;
        for (int s = 0; s < sequences; ++s) {
          callers.emplace_back([&, s] {
            engine::GenerationRequest request;
            request.prompt = BenchPrompt(prompt_lengths[0], prompt_vocab, 100 + s);
            request.max_tokens = max_tokens;
            request.ignore_eos = true;
            auto result = (*scheduler)->Generate(request, {}, nullptr);
            if (!result.ok()) std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
          });
        }
        for (auto& c : callers) c.join();
      };
      run_all(1);  // the prompts into the prefix cache
      const auto start = Clock::now();
      run_all(decode_tokens);
      aggregate_tps.push_back(static_cast<double>(sequences) * decode_tokens / Seconds(start, Clock::now()));
    }
  }
  std::vector<double> sorted = decode_times;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double mean = std::accumulate(decode_times.begin(), decode_times.end(), 0.0) / decode_times.size();
  const double decode_tps = 1.0 / mean;
  bandwidth = std::max(bandwidth, MeasureReadBandwidth(threads, size_t{1} << 30));
  const double floor_tps = bandwidth / active_bytes;

  std::printf("shape %s: %.0fM parameters, %.0fM active per token (%.0f MB of weights), %s\n", name.c_str(),
              (*model)->parameter_count() / 1e6, (*model)->active_parameter_count() / 1e6, active_bytes / 1e6,
              (*model)->weight_dtype().c_str());
  std::printf("loaded in %.1f s\n", load_seconds);
  std::printf("threads %d, read bandwidth %.1f GB/s -> floor %.1f tokens/s; bf16 dot-product peak %.0f GFLOP/s\n",
              threads, bandwidth / 1e9, floor_tps, bf16_peak / 1e9);
  std::string prefill_json;
  for (size_t p = 0; p < prompt_lengths.size(); ++p) {
    std::printf("prefill %d tokens: %.1f tokens/s (%.0f ms)\n", prompt_lengths[p], prompt_lengths[p] / best_prefill[p],
                best_prefill[p] * 1e3);
    prefill_json += (p ? ", \"" : "\"") + std::to_string(prompt_lengths[p]) + "\": " +
                    std::to_string(prompt_lengths[p] / best_prefill[p]);
  }
  // The share of the floor from the median step: a few steps slowed by the machine's neighbours
  // say nothing about the engine.
  std::printf("decode %d tokens: %.1f tokens/s (median step %.1f ms = %.0f%% of the floor)\n", decode_tokens,
              decode_tps, median * 1e3, 100.0 / (median * floor_tps));
  std::string aggregate_json;
  for (size_t i = 0; i < aggregate_tps.size(); ++i) {
    std::printf("aggregate decode, %d sequences: %.1f tokens/s\n", sequence_counts[i], aggregate_tps[i]);
    aggregate_json += (i ? ", \"" : "\"") + std::to_string(sequence_counts[i]) + "\": " + std::to_string(aggregate_tps[i]);
  }
  if (json) {
    std::printf("{\"engine\": \"agentd\", \"threads\": %d, \"read_bandwidth_gbs\": %.2f, \"floor_tps\": %.2f, "
                "\"bf16_peak_gflops\": %.1f, \"active_bytes\": %.0f, \"prefill_tps\": {%s}, \"decode_tps\": %.2f, "
                "\"aggregate_tps\": {%s}}\n",
                threads, bandwidth / 1e9, floor_tps, bf16_peak / 1e9, active_bytes, prefill_json.c_str(), decode_tps,
                aggregate_json.c_str());
  }
  return 0;
}
