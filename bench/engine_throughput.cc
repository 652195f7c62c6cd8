// Prefill and decode throughput of the CPU engine on random-weight checkpoints of real model
// shapes, against the memory-bandwidth floor measured in the same run: decoding one token must
// stream every active weight from memory once, so
//   floor tokens/s = measured read bandwidth / active weight bytes per token.
//
//   engine_throughput --shape bench/shapes/qwen3_moe_cpu_bench.json --threads 2
//
// The random checkpoint is written once to --cache-dir and reused.
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

#include "CLI/CLI.hpp"
#include "engine/model.h"
#include "engine/random_checkpoint.h"

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

int32_t ArgMax(const std::vector<float>& v, int64_t n) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.begin() + n) - v.begin());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"engine_throughput: CPU prefill/decode tokens/s vs the memory-bandwidth floor"};
  std::string shape_path, cache_dir = "/tmp/agentd-bench-models";
  int threads = 2, prompt_tokens = 128, decode_tokens = 64;
  app.add_option("--shape", shape_path, "config.json of the shape to benchmark")->required();
  app.add_option("--threads", threads, "threads (default 2)");
  app.add_option("--prompt", prompt_tokens, "prefill length (default 128)");
  app.add_option("--decode", decode_tokens, "tokens to decode (default 64)");
  app.add_option("--cache-dir", cache_dir, "where random checkpoints are kept");
  CLI11_PARSE(app, argc, argv);
  omp_set_num_threads(threads);

  const std::string config_json = ReadFile(shape_path);
  if (config_json.empty()) {
    std::fprintf(stderr, "cannot read %s\n", shape_path.c_str());
    return 1;
  }
  const std::string name = std::filesystem::path(shape_path).stem().string();
  const std::string dir = cache_dir + "/" + name;
  if (!std::filesystem::exists(dir + "/model.safetensors") || ReadFile(dir + "/config.json") != config_json) {
    std::fprintf(stderr, "writing random bf16 checkpoint to %s ...\n", dir.c_str());
    absl::Status status = engine::WriteRandomCheckpoint(config_json, dir);
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
  }
  auto model = engine::Model::Load({.model_dir = dir});
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  const engine::ModelConfig& config = (*model)->config();
  const double bandwidth = MeasureReadBandwidth(threads, size_t{1} << 30);
  const double active_bytes = static_cast<double>((*model)->active_weight_bytes());
  const double floor_tps = bandwidth / active_bytes;

  // Touch every weight once so page faults of the memory map are not timed.
  {
    auto cache = (*model)->NewCache();
    engine::ForwardResult warm;
    std::vector<int32_t> ids(64);
    std::mt19937 rng(7);
    for (auto& id : ids) id = static_cast<int32_t>(rng() % config.vocab_size);
    (void)(*model)->Forward(ids, cache.get(), {}, &warm);
  }

  std::mt19937 rng(1234);
  std::vector<int32_t> prompt(prompt_tokens);
  for (auto& id : prompt) id = static_cast<int32_t>(rng() % config.vocab_size);
  double best_prefill = 1e9;
  std::vector<double> decode_times;
  for (int round = 0; round < 3; ++round) {
    auto cache = (*model)->NewCache();
    engine::ForwardResult result;
    auto start = Clock::now();
    absl::Status status = (*model)->Forward(prompt, cache.get(), {}, &result);
    best_prefill = std::min(best_prefill, Seconds(start, Clock::now()));
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
    if (round > 0) continue;
    int32_t next = ArgMax(result.logits, config.vocab_size);
    for (int t = 0; t < decode_tokens; ++t) {
      auto step = Clock::now();
      (void)(*model)->Forward(std::span(&next, 1), cache.get(), {}, &result);
      decode_times.push_back(Seconds(step, Clock::now()));
      next = ArgMax(result.logits, config.vocab_size);
    }
  }
  std::vector<double> sorted = decode_times;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double mean = std::accumulate(decode_times.begin(), decode_times.end(), 0.0) / decode_times.size();
  const double decode_tps = 1.0 / mean;

  std::printf("shape %s: %.0fM parameters, %.0fM active per token (%.0f MB of weights), %s\n", name.c_str(),
              (*model)->parameter_count() / 1e6, (*model)->active_parameter_count() / 1e6, active_bytes / 1e6,
              (*model)->weight_dtype().c_str());
  std::printf("threads %d, read bandwidth %.1f GB/s -> floor %.1f tokens/s\n", threads, bandwidth / 1e9, floor_tps);
  std::printf("prefill %d tokens: %.1f tokens/s (%.0f ms)\n", prompt_tokens, prompt_tokens / best_prefill,
              best_prefill * 1e3);
  std::printf("decode %d tokens: %.1f tokens/s (median step %.1f ms) = %.0f%% of the floor\n", decode_tokens,
              decode_tps, median * 1e3, 100.0 * decode_tps / floor_tps);
  return 0;
}
