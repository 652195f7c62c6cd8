// MLA attention in the latent space with every head of a block sharing the rows it reads: with
// W_UK and W_UV absorbed, all heads score the same cached latent and rotary key and sum the same
// latents (multi-query attention of width kv_lora_rank + rope), so one block takes up to
// kHeads heads of a row and reads each cached row once for all of them — PagedAttention's
// block per (row, head) reads it once per head. Positions go in chunks with an online softmax
// per head, and with several splits (flash-decoding) each block takes a share of the positions,
// merged as PagedAttentionSplit's are. CPU reference: cuda::reference::PagedAttention (the CPU
// path's latent attention over the same layout).
#include <algorithm>
#include <climits>

#include "cuda/attention_splits.cuh"
#include "cuda/ops.h"
#include "cuda/paged_kv.cuh"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

constexpr int kHeads = 16, kThreads = 256, kWarps = kThreads / kWarp, kChunk = 32;
constexpr int kMaxValue = 1024, kValuesPerThread = kMaxValue / kThreads;
constexpr int kMaxRowPerLane = 1152 / kWarp;  // a cached row (latent + rotary key) spread over a warp

// Shared memory: the block's queries [kHeads][key], then scores [kHeads][kChunk], then per head
// the running maximum, sum and this chunk's rescale.
__host__ __device__ constexpr size_t SharedBytes(int key) {
  return (static_cast<size_t>(kHeads) * key + kHeads * kChunk + 3 * kHeads) * sizeof(float);
}

__global__ void __launch_bounds__(kThreads) LatentAttentionKernel(AttentionArgs args, PagedKvLayout kv, KvRows where,
                                                                 int splits, float* partials) {
  extern __shared__ float shared[];
  const int key = args.score_a + args.score_b;
  float* q = shared;                         // [kHeads][key]
  float* scores = q + kHeads * key;          // [kHeads][kChunk]
  float* running_max = scores + kHeads * kChunk;
  float* running_sum = running_max + kHeads;
  float* rescale = running_sum + kHeads;

  const int64_t r = blockIdx.x;
  const int head0 = blockIdx.y * kHeads;
  const int heads_here = min(kHeads, args.heads - head0);
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  for (int i = threadIdx.x; i < kHeads * key; i += kThreads) {
    const int h = i / key, c = i % key;
    q[i] = h < heads_here ? args.q[r * args.q_row_stride + (head0 + h) * args.q_head_stride + c] : 0.0f;
  }
  if (threadIdx.x < kHeads) {
    running_max[threadIdx.x] = -INFINITY;
    running_sum[threadIdx.x] = 0.0f;
  }
  const int32_t* table = where.tables + where.table_start[r];
  const int64_t visible = static_cast<int64_t>(where.positions[r]) + 1;
  const int64_t share = (visible + splits - 1) / splits;
  const int64_t begin = min(visible, static_cast<int64_t>(blockIdx.z) * share), end = min(visible, begin + share);
  __syncthreads();

  float acc[kHeads][kValuesPerThread] = {};
  for (int64_t s0 = begin; s0 < end; s0 += kChunk) {
    const int count = static_cast<int>(min(static_cast<int64_t>(kChunk), end - s0));
    // Scores: a warp per position, the row read once into registers for every head.
    for (int i = warp; i < count; i += kWarps) {
      const float* a = KvRow(kv, table, args.layer, s0 + i, true);
      const float* b = KvRow(kv, table, args.layer, s0 + i, false);
      float row[kMaxRowPerLane];
#pragma unroll
      for (int j = 0; j < kMaxRowPerLane; ++j) {
        const int c = lane + j * kWarp;
        row[j] = c < args.score_a ? a[c] : (c < key ? b[c - args.score_a] : 0.0f);
      }
      for (int h = 0; h < kHeads; ++h) {
        float dot = 0.0f;
#pragma unroll
        for (int j = 0; j < kMaxRowPerLane; ++j) {
          const int c = lane + j * kWarp;
          if (c < key) dot = fmaf(q[h * key + c], row[j], dot);
        }
        dot = WarpSum(dot);
        if (lane == 0) scores[h * kChunk + i] = dot * args.scale;
      }
    }
    __syncthreads();
    // The online softmax, a warp per head: p = e^(score − new max), the sums rescaled.
    for (int h = warp; h < kHeads; h += kWarps) {
      const float score = lane < count ? scores[h * kChunk + lane] : -INFINITY;
      const float new_max = fmaxf(running_max[h], WarpMax(score));
      const float p = lane < count ? expf(score - new_max) : 0.0f;
      if (lane < count) scores[h * kChunk + lane] = p;
      const float chunk_sum = WarpSum(p);
      if (lane == 0) {
        const float factor = running_max[h] == -INFINITY ? 0.0f : expf(running_max[h] - new_max);
        rescale[h] = factor;
        running_sum[h] = running_sum[h] * factor + chunk_sum;
        running_max[h] = new_max;
      }
    }
    __syncthreads();
    // Values: each thread its dimensions of every head, the latent rows read once.
#pragma unroll
    for (int h = 0; h < kHeads; ++h) {
#pragma unroll
      for (int j = 0; j < kValuesPerThread; ++j) acc[h][j] *= rescale[h];
    }
    for (int i = 0; i < count; ++i) {
      const float* v = KvRow(kv, table, args.layer, s0 + i, true);
      float values[kValuesPerThread];
#pragma unroll
      for (int j = 0; j < kValuesPerThread; ++j) {
        const int d = threadIdx.x + j * kThreads;
        values[j] = d < args.value_width ? v[d] : 0.0f;
      }
#pragma unroll
      for (int h = 0; h < kHeads; ++h) {
        const float p = scores[h * kChunk + i];
#pragma unroll
        for (int j = 0; j < kValuesPerThread; ++j) acc[h][j] = fmaf(p, values[j], acc[h][j]);
      }
    }
    __syncthreads();  // before the next chunk's scores overwrite these
  }

#pragma unroll
  for (int h = 0; h < kHeads; ++h) {
    if (h >= heads_here) break;
    const int64_t pair = r * args.heads + head0 + h;
#pragma unroll
    for (int j = 0; j < kValuesPerThread; ++j) {
      const int d = threadIdx.x + j * kThreads;
      if (d >= args.value_width) break;
      if (splits > 1) {
        partials[(pair * splits + blockIdx.z) * static_cast<int64_t>(args.value_width + 2) + d] = acc[h][j];
      } else {
        args.out[pair * args.value_width + d] = acc[h][j] / running_sum[h];
      }
    }
    if (splits > 1 && threadIdx.x == 0) {
      float* mine = partials + (pair * splits + blockIdx.z) * static_cast<int64_t>(args.value_width + 2);
      mine[args.value_width] = running_max[h];
      mine[args.value_width + 1] = running_sum[h];
    }
  }
}

}  // namespace

int LatentAttentionSplits(int64_t rows, int heads) {
  const int64_t blocks = std::max<int64_t>(1, rows * ((heads + kHeads - 1) / kHeads));
  return static_cast<int>(std::min<int64_t>(64, std::max<int64_t>(1, (256 + blocks - 1) / blocks)));
}

int64_t LatentAttentionSplitFloats(int64_t rows, int heads, int value_width) {
  const int splits = LatentAttentionSplits(rows, heads);
  return splits > 1 ? rows * heads * splits * static_cast<int64_t>(value_width + 2) : 0;
}

bool IsLatentAttention(const AttentionArgs& args) {
  return args.group == args.heads && args.values_from_a && args.kv_head_stride == 0 &&
         args.value_width == args.score_a && args.score_a + args.score_b <= 1152 && args.value_width <= kMaxValue;
}

cudaError_t LatentAttention(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where,
                            int splits, float* partial, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  if (rows > INT_MAX || args.heads <= 0 || !IsLatentAttention(args) || args.layer < 0 || args.layer >= kv.layers ||
      splits < 1 || splits > 64 || (splits > 1 && partial == nullptr)) {
    return cudaErrorInvalidValue;
  }
  const size_t bytes = SharedBytes(args.score_a + args.score_b);
  if (bytes > 48 * 1024) {
    const cudaError_t set =
        cudaFuncSetAttribute(LatentAttentionKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
    if (set != cudaSuccess) return set;
  }
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>((args.heads + kHeads - 1) / kHeads),
                  static_cast<unsigned>(splits));
  LatentAttentionKernel<<<grid, kThreads, bytes, stream>>>(args, kv, where, splits, partial);
  if (splits == 1) return LaunchError();
  MergeSplitsKernel<<<static_cast<unsigned>(rows * args.heads), 128, 0, stream>>>(partial, splits, args.value_width,
                                                                                  args.out);
  return LaunchError();
}

}  // namespace engine::cuda
