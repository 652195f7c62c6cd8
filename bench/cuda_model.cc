// The whole model on the GPU (CudaModel) with random bf16 weights made on the device, for shapes
// too big to write to disk (bench/shapes/deepseek_v2_lite.json: 15.7B parameters): decode
// tokens/s at several batch sizes, prefill tokens/s, and the copy-bandwidth roofline measured in
// the same run, against which a decode step's floor is the bytes of weights one token reads.
// Prints one JSON object.
//
//   build/bin/cuda_model_bench --shape bench/shapes/deepseek_v2_lite.json [--batches 1,8,16,32,64]
//       [--prompt 128] [--decode 32] [--prefill 512,2048]
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cuda/cuda_model.h"
#include "engine/device.h"
#include "engine/model.h"
#include "engine/model_config.h"
#include "model/kv_cache.h"
#include "nlohmann/json.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

std::vector<int> ParseList(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(std::stoi(item));
  }
  return out;
}

// Read + write bytes per second of a 2 GiB device-to-device copy (median of 10), as the
// roofline's bandwidth.
double CopyBandwidth() {
  const size_t bytes = size_t{2} << 30;
  char *a = nullptr, *b = nullptr;
  if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) return 0;
  cudaMemset(a, 1, bytes);
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<float> times;
  for (int i = 0; i < 11; ++i) {
    cudaEventRecord(start);
    cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    if (i > 0) times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (times[times.size() / 2] * 1e-3);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("The CUDA model on a random checkpoint of a shape, against the copy roofline");
  std::string shape, batches_text = "1,8,16,32,64", prefill_text = "512,2048", long_batches_text = "1,8";
  int prompt = 128, decode = 32, long_context = 4096;
  app.add_option("--shape", shape, "config.json of the shape")->required();
  app.add_option("--batches", batches_text, "decode batch sizes (comma-separated)");
  app.add_option("--prompt", prompt, "each decoded sequence's prompt, prefilled first");
  app.add_option("--decode", decode, "timed decode steps per batch size");
  app.add_option("--prefill", prefill_text, "prompt lengths timed as one prefill each (comma-separated)");
  app.add_option("--long-context", long_context, "cached positions of the long-context decode cases (0: none)");
  app.add_option("--long-batches", long_batches_text, "batch sizes decoding after the long context");
  bool unverified_kernels = false;
  app.add_flag("--unverified-kernels", unverified_kernels,
               "use the kernels not yet run on a GPU (cuda/cuda_model.h: CudaModelOptions::unverified_kernels)");
  CLI11_PARSE(app, argc, argv);

  nlohmann::json out;
  const engine::DeviceReport report = engine::ProbeDevices();
  out["device"] = engine::DescribeDevices(report);
  if (report.gpus.empty()) {
    out["skipped"] = "no GPU: " + report.no_gpu_reason;
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::ifstream in(shape);
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<engine::ModelConfig> config = engine::ParseModelConfig(text.str(), shape);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  out["shape"] = shape;
  out["unverified_kernels"] = unverified_kernels;
  const double bandwidth = CopyBandwidth();
  out["copy_gb_per_s"] = bandwidth / 1e9;

  Clock::time_point started = Clock::now();
  absl::StatusOr<std::unique_ptr<engine::Model>> model = engine::cuda::NewRandomCudaModel(*config, 1, {.unverified_kernels = unverified_kernels});
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  engine::Model& m = **model;
  out["build_s"] = Seconds(started);
  out["parameters"] = m.parameter_count();
  out["active_parameters"] = m.active_parameter_count();
  out["active_weight_bytes"] = m.active_weight_bytes();
  const double floor_ms = 1e3 * static_cast<double>(m.active_weight_bytes()) / bandwidth;
  out["floor_ms_per_step"] = floor_ms;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> token(0, config->vocab_size - 1);
  auto random_tokens = [&](int n) {
    std::vector<int32_t> t(n);
    for (int32_t& v : t) v = token(rng);
    return t;
  };

  // Prefill: one prompt in one pass, logits of its last position (after a short warm-up pass).
  {
    auto warm_cache = m.NewCache();
    engine::ForwardResult warm;
    const std::vector<int32_t> few = random_tokens(16);
    if (!m.Forward(few, warm_cache.get(), {}, &warm).ok()) return 1;
  }
  for (int length : ParseList(prefill_text)) {
    const std::vector<int32_t> tokens = random_tokens(length);
    auto cache = m.NewCache();
    engine::ForwardResult result;
    started = Clock::now();
    const absl::Status status = m.Forward(tokens, cache.get(), {}, &result);
    const double seconds = Seconds(started);
    nlohmann::json row = {{"tokens", length}};
    if (!status.ok()) {
      row["error"] = std::string(status.message());
    } else {
      row["seconds"] = seconds;
      row["tokens_per_s"] = length / seconds;
    }
    out["prefill"].push_back(row);
  }

  // Decode: `batch` sequences from one pool, each prefilled with `prompt` tokens, then steps of
  // one token each, all sequences in one pass (the scheduler's continuous batch).
  for (int batch : ParseList(batches_text)) {
    auto pool = m.NewBlockPool({});
    std::vector<std::unique_ptr<engine::KvCache>> caches;
    std::vector<std::vector<int32_t>> prompts;
    std::vector<engine::ForwardResult> results(batch);
    std::vector<engine::BatchEntry> entries;
    for (int i = 0; i < batch; ++i) {
      caches.push_back(m.NewCache(pool));
      prompts.push_back(random_tokens(prompt));
    }
    for (int i = 0; i < batch; ++i) entries.push_back({prompts[i], caches[i].get(), {}, &results[i]});
    nlohmann::json row = {{"batch", batch}};
    absl::Status status = m.ForwardBatch(entries);
    std::vector<int32_t> next(batch);
    std::vector<double> steps;
    for (int step = 0; status.ok() && step < decode + 2; ++step) {
      entries.clear();
      for (int i = 0; i < batch; ++i) {
        next[i] = token(rng);
        entries.push_back({std::span(&next[i], 1), caches[i].get(), {}, &results[i]});
      }
      started = Clock::now();
      status = m.ForwardBatch(entries);
      if (step >= 2) steps.push_back(Seconds(started));  // two warm-up steps
    }
    if (!status.ok()) {
      row["error"] = std::string(status.message());
    } else {
      std::sort(steps.begin(), steps.end());
      const double median = steps[steps.size() / 2];
      double total = 0;
      for (double s : steps) total += s;
      row["median_step_ms"] = 1e3 * median;
      row["tokens_per_s"] = batch * steps.size() / total;
      // The batch's floor: the weights every token reads, plus the experts the batch touches
      // (with random routing E·(1 − (1 − k/E)^B) of a layer's E), each read once.
      int moe_layers = 0;
      for (int l = 0; l < config->num_hidden_layers; ++l) moe_layers += config->IsMoeLayer(l) ? 1 : 0;
      const double expert_bytes = 3.0 * config->hidden_size * config->moe_intermediate_size * 2;
      const double experts = config->num_routed_experts, k = config->num_experts_per_tok;
      const double touched = experts > 0 ? experts * (1.0 - std::pow(1.0 - k / experts, batch)) : 0;
      const double bytes = static_cast<double>(m.active_weight_bytes()) + moe_layers * (touched - k) * expert_bytes;
      const double batch_floor_ms = 1e3 * bytes / bandwidth;
      row["floor_ms"] = batch_floor_ms;
      row["floor_share"] = batch_floor_ms / (1e3 * median);
    }
    out["decode"].push_back(row);
  }
  // Decode after a long context (an agent's draft reads thousands of tokens of passages): one
  // prompt prefilled, then `batch` sequences that share its blocks (as the prefix cache shares
  // them) decode together, so attention reads long rows while the weights are read once.
  if (long_context > 0) {
    auto pool = m.NewBlockPool({});
    auto prefix = m.NewCache(pool);
    engine::ForwardResult result;
    const std::vector<int32_t> tokens = random_tokens(long_context);
    started = Clock::now();
    absl::Status status = m.Forward(tokens, prefix.get(), {}, &result);
    out["long_context_prefill_s"] = Seconds(started);
    auto* paged = dynamic_cast<engine::model::PagedKvCache*>(prefix.get());
    for (int batch : ParseList(long_batches_text)) {
      nlohmann::json row = {{"batch", batch}, {"context", long_context}};
      std::vector<std::unique_ptr<engine::KvCache>> caches;
      std::vector<engine::ForwardResult> results(batch);
      for (int i = 0; status.ok() && i < batch; ++i) {
        caches.push_back(m.NewCache(pool));
        dynamic_cast<engine::model::PagedKvCache*>(caches.back().get())->AdoptPrefix(paged->blocks());
        caches.back()->Truncate(long_context);
      }
      std::vector<int32_t> next(batch);
      std::vector<double> steps;
      for (int step = 0; status.ok() && step < decode + 2; ++step) {
        std::vector<engine::BatchEntry> entries;
        for (int i = 0; i < batch; ++i) {
          next[i] = token(rng);
          entries.push_back({std::span(&next[i], 1), caches[i].get(), {}, &results[i]});
        }
        started = Clock::now();
        status = m.ForwardBatch(entries);
        if (step >= 2) steps.push_back(Seconds(started));
      }
      if (!status.ok()) {
        row["error"] = std::string(status.message());
      } else {
        std::sort(steps.begin(), steps.end());
        row["median_step_ms"] = 1e3 * steps[steps.size() / 2];
        row["tokens_per_s"] = batch / steps[steps.size() / 2];
      }
      out["long_context_decode"].push_back(row);
    }
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
