// Causal attention over the paged KV cache, one block per (row, query head, split), positions
// taken in chunks with an online softmax (the running maximum rescales what was summed so far),
// so any context length runs in fixed shared memory. With several splits (flash-decoding) each
// block takes an even share of the row's positions and leaves its running maximum, sum and
// unnormalised values for a second kernel that merges them: a decode step's few (row, head)
// pairs would otherwise occupy a handful of the GPU's multiprocessors. One kernel serves GQA (keys a, values b) and MLA in
// the latent space (scores against latent and rotary key, values the latent); cuda/ops.h has the
// formula. CPU references: cpu::CausalAttention (GQA) and the CPU path's latent attention loop,
// rewritten over the same layout in cuda::reference::PagedAttention.
#include <algorithm>
#include <climits>

#include "cuda/ops.h"
#include "cuda/paged_kv.cuh"
#include "cuda/attention_splits.cuh"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

constexpr int kThreads = 128, kChunk = 128, kMaxQuery = 1152, kMaxValue = 1024;
constexpr int kValuesPerThread = kMaxValue / kThreads;
// One thread per score of a chunk: its softmax and reductions index scores[] by threadIdx.x.
static_assert(kChunk == kThreads, "a chunk holds one score per thread");

__global__ void PagedAttentionKernel(AttentionArgs args, PagedKvLayout kv, KvRows where, int splits, float* partials) {
  __shared__ float q[kMaxQuery];
  __shared__ float scores[kChunk];
  __shared__ float partial[kWarp];
  const int64_t r = blockIdx.x;
  const int h = blockIdx.y, lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int64_t kv_offset = static_cast<int64_t>(h / args.group) * args.kv_head_stride;
  const int query_width = args.score_a + args.score_b;
  const float* query = args.q + r * args.q_row_stride + h * args.q_head_stride;
  for (int i = threadIdx.x; i < query_width; i += kThreads) q[i] = query[i];
  const int32_t* table = where.tables + where.table_start[r];
  const int64_t visible = static_cast<int64_t>(where.positions[r]) + 1;
  // This split's share of the positions: [begin, end).
  const int64_t share = (visible + splits - 1) / splits;
  const int64_t begin = min(visible, static_cast<int64_t>(blockIdx.z) * share), end = min(visible, begin + share);
  __syncthreads();

  float running_max = -INFINITY, running_sum = 0.0f, acc[kValuesPerThread] = {};
  for (int64_t s0 = begin; s0 < end; s0 += kChunk) {
    const int count = static_cast<int>(min(static_cast<int64_t>(kChunk), end - s0));
    for (int i = warp; i < count; i += kThreads / kWarp) {
      const float* a = KvRow(kv, table, args.layer, s0 + i, true) + kv_offset;
      const float* b = KvRow(kv, table, args.layer, s0 + i, false) + kv_offset;
      float dot = 0.0f;
      for (int d = lane; d < args.score_a; d += kWarp) dot = fmaf(q[d], a[d], dot);
      for (int d = lane; d < args.score_b; d += kWarp) dot = fmaf(q[args.score_a + d], b[d], dot);
      dot = WarpSum(dot);
      if (lane == 0) scores[i] = dot * args.scale;
    }
    __syncthreads();
    const float chunk_max = BlockReduce<true>(threadIdx.x < count ? scores[threadIdx.x] : -INFINITY, partial);
    const float new_max = fmaxf(running_max, chunk_max);
    const float rescale = running_max == -INFINITY ? 0.0f : expf(running_max - new_max);  // 0 for the first chunk
    float p = 0.0f;
    if (threadIdx.x < count) {
      p = expf(scores[threadIdx.x] - new_max);
      scores[threadIdx.x] = p;
    }
    const float chunk_sum = BlockReduce<false>(p, partial);  // synchronises: the p are visible
    running_sum = running_sum * rescale + chunk_sum;
    running_max = new_max;
#pragma unroll
    for (int j = 0; j < kValuesPerThread; ++j) {
      const int d = threadIdx.x + j * kThreads;
      if (d >= args.value_width) break;
      float sum = acc[j] * rescale;
      for (int i = 0; i < count; ++i) {
        const float* v = KvRow(kv, table, args.layer, s0 + i, args.values_from_a) + kv_offset;
        sum = fmaf(scores[i], v[d], sum);
      }
      acc[j] = sum;
    }
    __syncthreads();  // before the next chunk's scores overwrite these
  }
  if (splits > 1) {
    // [rows, heads, splits] partials of value_width + 2 floats: values, then maximum and sum.
    float* mine = partials + ((r * args.heads + h) * splits + blockIdx.z) * static_cast<int64_t>(args.value_width + 2);
#pragma unroll
    for (int j = 0; j < kValuesPerThread; ++j) {
      const int d = threadIdx.x + j * kThreads;
      if (d < args.value_width) mine[d] = acc[j];
    }
    if (threadIdx.x == 0) {
      mine[args.value_width] = running_max;
      mine[args.value_width + 1] = running_sum;
    }
    return;
  }
  float* out = args.out + (r * args.heads + h) * static_cast<int64_t>(args.value_width);
  const float inv = 1.0f / running_sum;
#pragma unroll
  for (int j = 0; j < kValuesPerThread; ++j) {
    const int d = threadIdx.x + j * kThreads;
    if (d < args.value_width) out[d] = acc[j] * inv;
  }
}

}  // namespace

int AttentionSplits(int64_t rows, int heads) {
  const int64_t pairs = std::max<int64_t>(1, rows * heads);
  return static_cast<int>(std::min<int64_t>(16, std::max<int64_t>(1, (512 + pairs - 1) / pairs)));
}

int64_t AttentionSplitFloats(int64_t rows, int heads, int value_width) {
  const int splits = AttentionSplits(rows, heads);
  return splits > 1 ? rows * heads * splits * static_cast<int64_t>(value_width + 2) : 0;
}

cudaError_t PagedAttention(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where,
                           cudaStream_t stream) {
  return PagedAttentionSplit(args, rows, kv, where, 1, nullptr, stream);
}

cudaError_t PagedAttentionSplit(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where,
                                int splits, float* partial, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  if (rows > INT_MAX || args.heads <= 0 || args.heads > 65535 || args.group <= 0 || args.heads % args.group != 0 ||
      args.score_a < 0 || args.score_b < 0 || args.score_a + args.score_b > kMaxQuery || args.value_width <= 0 ||
      args.value_width > kMaxValue || args.layer < 0 || args.layer >= kv.layers || splits < 1 || splits > 64 ||
      (splits > 1 && partial == nullptr)) {
    return cudaErrorInvalidValue;
  }
  PagedAttentionKernel<<<dim3(static_cast<unsigned>(rows), static_cast<unsigned>(args.heads), static_cast<unsigned>(splits)),
                         kThreads, 0, stream>>>(args, kv, where, splits, partial);
  if (splits == 1) return LaunchError();
  MergeSplitsKernel<<<static_cast<unsigned>(rows * args.heads), kThreads, 0, stream>>>(partial, splits, args.value_width,
                                                                                       args.out);
  return LaunchError();
}

}  // namespace engine::cuda
