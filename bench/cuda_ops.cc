// The CUDA kernels' speed on the DeepSeek-V2-Lite shape (bench/shapes/deepseek_v2_lite.json),
// next to the copy-bandwidth roofline measured in the same run: what a decode step's pieces cost
// on this GPU before the CUDA model strings them together. Prints one JSON object.
//
//   build/bin/cuda_ops_bench [--iterations 50] [--context 4096]
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cuda/gemm.h"
#include "cuda/ops.h"
#include "engine/device.h"
#include "nlohmann/json.hpp"

namespace {

using engine::cuda::AttentionArgs;
using engine::cuda::GroupedMatmulArgs;
using engine::cuda::KvRows;
using engine::cuda::PagedKvLayout;

#define CHECK_CUDA(expr)                                                                   \
  do {                                                                                     \
    const cudaError_t err_ = (expr);                                                       \
    if (err_ != cudaSuccess) {                                                             \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(err_)); \
      std::exit(1);                                                                        \
    }                                                                                      \
  } while (0)

// Device memory filled with small random values (bf16 or float32 by the element size).
template <typename T>
T* Alloc(size_t n, uint32_t seed = 1) {
  T* p = nullptr;
  CHECK_CUDA(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)));
  std::vector<T> host(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.05f, 0.05f);
  for (T& v : host) {
    const float f = u(rng);
    if constexpr (sizeof(T) == 2) {
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      v = static_cast<T>(bits >> 16);
    } else {
      v = static_cast<T>(f);
    }
  }
  CHECK_CUDA(cudaMemcpy(p, host.data(), n * sizeof(T), cudaMemcpyHostToDevice));
  return p;
}

// A copy of `host` in device memory.
int32_t* Upload(const std::vector<int32_t>& host) {
  int32_t* p = nullptr;
  CHECK_CUDA(cudaMalloc(&p, std::max<size_t>(host.size(), 1) * sizeof(int32_t)));
  CHECK_CUDA(cudaMemcpy(p, host.data(), host.size() * sizeof(int32_t), cudaMemcpyHostToDevice));
  return p;
}

// Median milliseconds of `iterations` runs of `op` (after one warm-up), timed with events.
double TimeMs(int iterations, const std::function<void()>& op) {
  cudaEvent_t start, stop;
  CHECK_CUDA(cudaEventCreate(&start));
  CHECK_CUDA(cudaEventCreate(&stop));
  op();
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<double> times;
  for (int i = 0; i < iterations; ++i) {
    CHECK_CUDA(cudaEventRecord(start));
    op();
    CHECK_CUDA(cudaEventRecord(stop));
    CHECK_CUDA(cudaEventSynchronize(stop));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("CUDA kernels on the DeepSeek-V2-Lite shape, against the copy roofline");
  int iterations = 50;
  int context = 4096;
  app.add_option("--iterations", iterations, "timed runs per case (median reported)");
  app.add_option("--context", context, "cached positions for the attention cases");
  CLI11_PARSE(app, argc, argv);

  const engine::DeviceReport report = engine::ProbeDevices();
  nlohmann::json out;
  out["device"] = engine::DescribeDevices(report);
  if (report.gpus.empty()) {
    out["skipped"] = "no GPU: " + report.no_gpu_reason;
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }

  // V2-Lite: hidden 2048, 64 routed experts of width 1408 (6 per token), MLA rank 512 + rope 64,
  // 16 heads, vocab 102400.
  const int64_t hidden = 2048, expert_width = 1408, experts = 64, k = 6, rank = 512, rope = 64, heads = 16,
                vocab = 102400;

  // The roofline: a device-to-device copy moves every byte twice (read and write).
  {
    const size_t bytes = size_t{1} << 30;
    char *a = nullptr, *b = nullptr;
    CHECK_CUDA(cudaMalloc(&a, bytes));
    CHECK_CUDA(cudaMalloc(&b, bytes));
    CHECK_CUDA(cudaMemset(a, 1, bytes));
    const double ms = TimeMs(std::max(5, iterations / 5), [&] { CHECK_CUDA(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice)); });
    out["copy_gb_per_s"] = 2.0 * bytes / (ms * 1e-3) / 1e9;
    cudaFree(a);
    cudaFree(b);
  }

  // The routed experts' gate projection at decode batches: weight bytes of the experts touched
  // over the time is the bandwidth the GEMV reaches.
  {
    std::vector<uint16_t*> weights;
    for (int e = 0; e < experts; ++e) weights.push_back(Alloc<uint16_t>(expert_width * hidden, 10 + e));
    const uint16_t** dweights = nullptr;
    CHECK_CUDA(cudaMalloc(&dweights, experts * sizeof(void*)));
    CHECK_CUDA(cudaMemcpy(dweights, weights.data(), experts * sizeof(void*), cudaMemcpyHostToDevice));
    nlohmann::json cases = nlohmann::json::array();
    for (int64_t batch : {1, 8, 32, 64}) {
      std::vector<int32_t> choices;
      std::mt19937 rng(batch);
      std::vector<int32_t> all(experts);
      std::iota(all.begin(), all.end(), 0);
      for (int64_t t = 0; t < batch; ++t) {
        std::shuffle(all.begin(), all.end(), rng);
        choices.insert(choices.end(), all.begin(), all.begin() + k);
      }
      std::vector<int32_t> touched(choices);
      std::sort(touched.begin(), touched.end());
      touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
      int32_t *dchoices = nullptr, *doffsets = nullptr, *dorder = nullptr, *dslot = nullptr;
      CHECK_CUDA(cudaMalloc(&dchoices, choices.size() * 4));
      CHECK_CUDA(cudaMemcpy(dchoices, choices.data(), choices.size() * 4, cudaMemcpyHostToDevice));
      CHECK_CUDA(cudaMalloc(&doffsets, (experts + 1) * 4));
      CHECK_CUDA(cudaMalloc(&dorder, choices.size() * 4));
      CHECK_CUDA(cudaMalloc(&dslot, choices.size() * 4));
      CHECK_CUDA(engine::cuda::MoeDispatch(dchoices, batch, k, experts, doffsets, dorder, dslot, nullptr));
      float* x = Alloc<float>(batch * hidden);
      float* y = Alloc<float>(batch * k * expert_width);
      const GroupedMatmulArgs args{.x = x, .gather_tokens = true, .k = static_cast<int>(k), .order = dorder,
                                   .offsets = doffsets, .experts = static_cast<int>(experts), .weights = dweights,
                                   .out_features = expert_width, .in_features = hidden, .y = y};
      const double ms = TimeMs(iterations, [&] { CHECK_CUDA(engine::cuda::GroupedMatmulBf16(args, batch, nullptr)); });
      const double dispatch_ms = TimeMs(iterations, [&] {
        CHECK_CUDA(engine::cuda::MoeDispatch(dchoices, batch, k, experts, doffsets, dorder, dslot, nullptr));
      });
      const double bytes = static_cast<double>(touched.size()) * expert_width * hidden * 2;
      cases.push_back({{"batch", batch}, {"experts_touched", touched.size()}, {"us", ms * 1e3},
                       {"gb_per_s", bytes / (ms * 1e-3) / 1e9}, {"dispatch_us", dispatch_ms * 1e3}});
      for (void* p : std::initializer_list<void*>{dchoices, doffsets, dorder, dslot, x, y}) cudaFree(p);
    }
    out["expert_gate_projection"] = cases;
    for (uint16_t* w : weights) cudaFree(w);
    cudaFree(dweights);
  }

  // MLA decode attention over `context` cached positions, latent space (rank + rope scored,
  // the latent as values): the KV bytes read over the time.
  {
    const int block_shift = 4;
    const int64_t block_size = 1 << block_shift;
    nlohmann::json cases = nlohmann::json::array();
    for (int64_t batch : {1, 8, 32}) {
      const int64_t blocks_per_seq = (context + block_size - 1) / block_size, blocks = blocks_per_seq * batch;
      const PagedKvLayout layout_host{.block_floats = block_size * (rank + rope), .block_shift = block_shift,
                                      .a_width = rank, .b_width = rope, .b_start = block_size * rank, .layers = 1};
      PagedKvLayout kv = layout_host;
      kv.arena = Alloc<float>(blocks * kv.block_floats);
      std::vector<int32_t> tables(blocks), starts(batch), positions(batch, context - 1);
      std::iota(tables.begin(), tables.end(), 0);
      for (int64_t b = 0; b < batch; ++b) starts[b] = static_cast<int32_t>(b * blocks_per_seq);
      int32_t *dtables = Upload(tables), *dstarts = Upload(starts), *dpositions = Upload(positions);
      float* q = Alloc<float>(batch * heads * (rank + rope));
      float* o = Alloc<float>(batch * heads * rank);
      const AttentionArgs args{.q = q, .q_row_stride = heads * (rank + rope), .q_head_stride = rank + rope,
                               .heads = static_cast<int>(heads), .group = static_cast<int>(heads),
                               .score_a = static_cast<int>(rank), .score_b = static_cast<int>(rope),
                               .kv_head_stride = 0, .values_from_a = true, .value_width = static_cast<int>(rank),
                               .scale = 0.1f, .layer = 0, .out = o};
      // As the model runs it: positions shared among blocks when the (row, head) pairs are few.
      const int splits = engine::cuda::LatentAttentionSplits(batch, static_cast<int>(heads));
      float* partial = Alloc<float>(std::max<int64_t>(
          1, engine::cuda::LatentAttentionSplitFloats(batch, static_cast<int>(heads), static_cast<int>(rank))));
      const double ms = TimeMs(iterations, [&] {
        CHECK_CUDA(engine::cuda::LatentAttention(args, batch, kv, KvRows{dtables, dstarts, dpositions}, splits, partial,
                                                 nullptr));
      });
      const double bytes = static_cast<double>(batch) * context * (rank + rope) * 4;
      cases.push_back({{"batch", batch}, {"context", context}, {"splits", splits}, {"us", ms * 1e3},
                       {"kv_gb_per_s", bytes / (ms * 1e-3) / 1e9}});
      for (void* p : std::initializer_list<void*>{kv.arena, dtables, dstarts, dpositions, q, o, partial}) cudaFree(p);
    }
    out["mla_decode_attention"] = cases;
  }

  // A prompt's attention: `rows` consecutive positions of one sequence, the last `rows` of a
  // `prompt`-position context, by the decode kernel (a block per row and head, every cached row
  // read once per row) and by PrefillAttention (16 rows share each chunk of cached rows), for
  // MLA in the latent space and for GQA (Qwen3-30B-A3B: 32 query heads of 128 over 4 kv heads).
  {
    const int block_shift = 4;
    const int64_t block_size = 1 << block_shift;
    nlohmann::json cases = nlohmann::json::array();
    struct Layout {
      const char* what;
      int64_t a_width, b_width;
      AttentionArgs args;
      int64_t q_width;
    };
    const std::vector<Layout> layouts = {
        {"mla_latent", rank, rope,
         AttentionArgs{.q_row_stride = heads * (rank + rope), .q_head_stride = rank + rope, .heads = static_cast<int>(heads),
                       .group = static_cast<int>(heads), .score_a = static_cast<int>(rank),
                       .score_b = static_cast<int>(rope), .kv_head_stride = 0, .values_from_a = true,
                       .value_width = static_cast<int>(rank), .scale = 0.1f, .layer = 0},
         heads * (rank + rope)},
        {"gqa_32x128_over_4", 4 * 128, 4 * 128,
         AttentionArgs{.q_row_stride = 32 * 128, .q_head_stride = 128, .heads = 32, .group = 8, .score_a = 128,
                       .score_b = 0, .kv_head_stride = 128, .values_from_a = false, .value_width = 128,
                       .scale = 0.088f, .layer = 0},
         32 * 128}};
    for (const Layout& layout : layouts) {
      for (int64_t prompt : {512, 2048}) {
        const int64_t rows = prompt, blocks = (prompt + block_size - 1) / block_size;
        PagedKvLayout kv{.block_floats = block_size * (layout.a_width + layout.b_width), .block_shift = block_shift,
                         .a_width = layout.a_width, .b_width = layout.b_width, .b_start = block_size * layout.a_width,
                         .layers = 1};
        kv.arena = Alloc<float>(blocks * kv.block_floats);
        std::vector<int32_t> tables(blocks), starts(rows, 0), positions(rows);
        std::iota(tables.begin(), tables.end(), 0);
        std::iota(positions.begin(), positions.end(), 0);
        int32_t *dtables = Upload(tables), *dstarts = Upload(starts), *dpositions = Upload(positions);
        AttentionArgs args = layout.args;
        args.q = Alloc<float>(rows * layout.q_width);
        args.out = Alloc<float>(rows * args.heads * args.value_width);
        const KvRows where{dtables, dstarts, dpositions};
        const double decode_ms =
            TimeMs(std::max(3, iterations / 10), [&] { CHECK_CUDA(engine::cuda::PagedAttention(args, rows, kv, where, nullptr)); });
        const double prefill_ms =
            TimeMs(std::max(3, iterations / 10), [&] { CHECK_CUDA(engine::cuda::PrefillAttention(args, rows, kv, where, nullptr)); });
        // Multiply-adds: each row scores and sums its visible positions, per head.
        const double flops = 2.0 * args.heads * (args.score_a + args.score_b + args.value_width) * rows * (rows + 1) / 2.0;
        cases.push_back({{"layout", layout.what}, {"rows", rows}, {"decode_kernel_us", decode_ms * 1e3},
                         {"prefill_kernel_us", prefill_ms * 1e3}, {"speedup", decode_ms / prefill_ms},
                         {"prefill_tflop_per_s", flops / (prefill_ms * 1e-3) / 1e12}});
        for (void* p : std::initializer_list<void*>{kv.arena, dtables, dstarts, dpositions, const_cast<float*>(args.q), args.out}) {
          cudaFree(p);
        }
      }
    }
    out["prefill_attention"] = cases;
  }

  // Dense products through cuBLAS in bf16: the output head at decode batches (bandwidth) and a
  // prefill-sized dense MLP projection (compute).
  {
    cublasHandle_t handle;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
      out["cublas"] = "cublasCreate failed";
    } else {
      nlohmann::json cases = nlohmann::json::array();
      struct Shape {
        const char* what;
        int64_t n, out, in;
      };
      for (const Shape& s : {Shape{"lm_head", 1, vocab, hidden}, Shape{"lm_head", 32, vocab, hidden},
                             Shape{"dense_up_prefill", 2048, 10944, hidden}}) {
        uint16_t* x = Alloc<uint16_t>(s.n * s.in);
        uint16_t* w = Alloc<uint16_t>(s.out * s.in);
        float* y = Alloc<float>(s.n * s.out);
        const double ms = TimeMs(iterations, [&] {
          if (engine::cuda::MatmulBf16(handle, x, s.n, w, s.out, s.in, y) != CUBLAS_STATUS_SUCCESS) std::exit(1);
        });
        cases.push_back({{"what", s.what}, {"n", s.n}, {"out", s.out}, {"in", s.in}, {"us", ms * 1e3},
                         {"weight_gb_per_s", s.out * s.in * 2.0 / (ms * 1e-3) / 1e9},
                         {"tflop_per_s", 2.0 * s.n * s.out * s.in / (ms * 1e-3) / 1e12}});
        for (void* p : std::initializer_list<void*>{x, w, y}) cudaFree(p);
      }
      out["cublas_bf16"] = cases;
      cublasDestroy(handle);
    }
  }

  // The small per-token ops of a decode step at batch 32.
  {
    const int64_t n = 32;
    float* x = Alloc<float>(n * hidden);
    float* w = Alloc<float>(hidden);
    float* logits = Alloc<float>(n * experts);
    int32_t* chosen = nullptr;
    float* chosen_weights = Alloc<float>(n * k);
    CHECK_CUDA(cudaMalloc(&chosen, n * k * 4));
    engine::cuda::RouterParams router;
    router.experts = static_cast<int>(experts);
    router.k = static_cast<int>(k);
    float* head_logits = Alloc<float>(n * vocab);
    int32_t* tokens = nullptr;
    CHECK_CUDA(cudaMalloc(&tokens, n * 4));
    out["small_ops_batch32_us"] = {
        {"rms_norm", 1e3 * TimeMs(iterations, [&] { CHECK_CUDA(engine::cuda::RmsNorm(x, n, hidden, w, 1e-6f, x, nullptr)); })},
        {"route", 1e3 * TimeMs(iterations, [&] { CHECK_CUDA(engine::cuda::Route(logits, n, router, chosen, chosen_weights, nullptr)); })},
        {"argmax", 1e3 * TimeMs(iterations, [&] { CHECK_CUDA(engine::cuda::ArgmaxRows(head_logits, n, vocab, tokens, nullptr)); })},
    };
    for (void* p : std::initializer_list<void*>{x, w, logits, chosen, chosen_weights, head_logits, tokens}) cudaFree(p);
  }

  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
