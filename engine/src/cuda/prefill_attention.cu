// Causal attention for a prompt's rows: a block takes kTileRows consecutive positions of one
// sequence and one query head, and reads the cached rows a chunk at a time into shared memory
// once for all of them. PagedAttention's block per (row, head) reads every visible cached row
// once per row: a 2,048-token prompt reads each key 2,048 times per head, where this kernel reads
// it 2,048 / 16 times. Within a chunk the tile's scores form a small matrix (kTileRows ×
// kChunk), each row's softmax runs online across chunks (the running maximum rescales what was
// summed, as in PagedAttention), and each row's values accumulate in registers. The same formula
// as PagedAttention (cuda/ops.h), so the same CPU reference: cuda::reference::PagedAttention.
#include <algorithm>
#include <climits>

#include "cuda/ops.h"
#include "cuda/paged_kv.cuh"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

constexpr int kTileRows = 16, kChunk = 16, kThreads = 128;
// Each thread accumulates one row's values at every (kThreads / kTileRows)-th column.
constexpr int kThreadsPerRow = kThreads / kTileRows;
constexpr int kMaxKey = 1152, kMaxValue = 512;
constexpr int kValuesPerThread = kMaxValue / kThreadsPerRow;
// Each thread computes kScoresPerThread of a chunk's kTileRows × kChunk scores.
constexpr int kScoresPerThread = kTileRows * kChunk / kThreads;
static_assert(kTileRows * kChunk % kThreads == 0, "every thread takes whole scores");

// Shared memory, in floats: the tile's queries [kTileRows][key], the chunk's keys
// [kChunk][key + 1] (the padding puts the 16 keys a warp reads at one column in 16 banks), its
// values [kChunk][value], the scores [kTileRows][kChunk] (then the probabilities), and per row
// the running maximum, sum and this chunk's rescale.
__host__ __device__ constexpr size_t SharedFloats(int key, int value) {
  return static_cast<size_t>(kTileRows) * key + static_cast<size_t>(kChunk) * (key + 1) +
         static_cast<size_t>(kChunk) * value + kTileRows * kChunk + 3 * kTileRows;
}

__global__ void __launch_bounds__(kThreads) PrefillAttentionKernel(AttentionArgs args, int64_t rows, PagedKvLayout kv,
                                                                  KvRows where) {
  extern __shared__ float shared[];
  const int key = args.score_a + args.score_b, value = args.value_width;
  float* q = shared;                                    // [kTileRows][key]
  float* keys = q + kTileRows * key;                    // [kChunk][key + 1]
  float* values = keys + kChunk * (key + 1);            // [kChunk][value]
  float* scores = values + kChunk * value;              // [kTileRows][kChunk]
  float* running_max = scores + kTileRows * kChunk;     // [kTileRows]
  float* running_sum = running_max + kTileRows;         // [kTileRows]
  float* rescale = running_sum + kTileRows;             // [kTileRows]

  const int64_t first = static_cast<int64_t>(blockIdx.x) * kTileRows;
  const int tile_rows = static_cast<int>(min(static_cast<int64_t>(kTileRows), rows - first));
  const int h = blockIdx.y;
  const int64_t kv_offset = static_cast<int64_t>(h / args.group) * args.kv_head_stride;
  for (int i = threadIdx.x; i < kTileRows * key; i += kThreads) {
    const int t = i / key, c = i % key;
    q[i] = t < tile_rows ? args.q[(first + t) * args.q_row_stride + h * args.q_head_stride + c] : 0.0f;
  }
  if (threadIdx.x < kTileRows) {
    running_max[threadIdx.x] = -INFINITY;
    running_sum[threadIdx.x] = 0.0f;
  }
  // The tile's rows are consecutive positions of one sequence (the launcher's precondition):
  // one block table, and the last row sees the most.
  const int32_t* table = where.tables + where.table_start[first];
  const int64_t visible = static_cast<int64_t>(where.positions[first + tile_rows - 1]) + 1;
  // This thread's row for the values: t_row, and its columns value_lane, + kThreadsPerRow, ...
  const int t_row = threadIdx.x / kThreadsPerRow, value_lane = threadIdx.x % kThreadsPerRow;
  const int64_t my_position = t_row < tile_rows ? where.positions[first + t_row] : -1;
  __syncthreads();

  float acc[kValuesPerThread] = {};
  for (int64_t s0 = 0; s0 < visible; s0 += kChunk) {
    const int count = static_cast<int>(min(static_cast<int64_t>(kChunk), visible - s0));
    for (int i = threadIdx.x; i < kChunk * key; i += kThreads) {
      const int j = i / key, c = i % key;
      float k = 0.0f;
      if (j < count) {
        k = c < args.score_a ? KvRow(kv, table, args.layer, s0 + j, true)[kv_offset + c]
                             : KvRow(kv, table, args.layer, s0 + j, false)[kv_offset + c - args.score_a];
      }
      keys[j * (key + 1) + c] = k;
    }
    for (int i = threadIdx.x; i < kChunk * value; i += kThreads) {
      const int j = i / value, c = i % value;
      values[i] = j < count ? KvRow(kv, table, args.layer, s0 + j, args.values_from_a)[kv_offset + c] : 0.0f;
    }
    __syncthreads();

    // Scores: thread k takes (row, position) pairs k, k + kThreads, ...: in a warp, two rows
    // (a broadcast each) against 16 keys in 16 banks.
#pragma unroll
    for (int m = 0; m < kScoresPerThread; ++m) {
      const int pair = threadIdx.x + m * kThreads;
      const int t = pair / kChunk, j = pair % kChunk;
      const float* qt = q + t * key;
      const float* kj = keys + j * (key + 1);
      float dot = 0.0f;
      for (int c = 0; c < key; ++c) dot = fmaf(qt[c], kj[c], dot);
      const bool seen = t < tile_rows && j < count && s0 + j <= static_cast<int64_t>(where.positions[first + t]);
      scores[pair] = seen ? dot * args.scale : -INFINITY;
    }
    __syncthreads();

    // Each row's online softmax over the chunk: the new maximum, the rescale of what was summed,
    // and the chunk's probabilities in place of its scores.
    if (threadIdx.x < kTileRows) {
      float* row = scores + threadIdx.x * kChunk;
      float chunk_max = -INFINITY;
      for (int j = 0; j < kChunk; ++j) chunk_max = fmaxf(chunk_max, row[j]);
      const float old_max = running_max[threadIdx.x];
      const float new_max = fmaxf(old_max, chunk_max);
      float sum = 0.0f;
      for (int j = 0; j < kChunk; ++j) {
        const float p = new_max == -INFINITY ? 0.0f : expf(row[j] - new_max);
        row[j] = p;
        sum += p;
      }
      const float r = old_max == -INFINITY ? 0.0f : expf(old_max - new_max);  // 0 before any position
      rescale[threadIdx.x] = r;
      running_sum[threadIdx.x] = running_sum[threadIdx.x] * r + sum;
      running_max[threadIdx.x] = new_max;
    }
    __syncthreads();

    if (my_position >= 0) {
      const float* p = scores + t_row * kChunk;
      const float r = rescale[t_row];
#pragma unroll
      for (int m = 0; m < kValuesPerThread; ++m) {
        const int c = value_lane + m * kThreadsPerRow;
        if (c >= value) break;
        float sum = acc[m] * r;
        for (int j = 0; j < count; ++j) sum = fmaf(p[j], values[j * value + c], sum);
        acc[m] = sum;
      }
    }
    __syncthreads();  // before the next chunk overwrites keys, values and scores
  }

  if (my_position < 0) return;
  const float inv = 1.0f / running_sum[t_row];
  float* out = args.out + ((first + t_row) * args.heads + h) * static_cast<int64_t>(value);
#pragma unroll
  for (int m = 0; m < kValuesPerThread; ++m) {
    const int c = value_lane + m * kThreadsPerRow;
    if (c >= value) break;
    out[c] = acc[m] * inv;
  }
}

}  // namespace

bool PrefillAttentionSuits(const AttentionArgs& args) {
  return args.score_a >= 0 && args.score_b >= 0 && args.score_a + args.score_b > 0 &&
         args.score_a + args.score_b <= kMaxKey && args.value_width > 0 && args.value_width <= kMaxValue;
}

int64_t PrefillAttentionMinRows() { return kTileRows; }

cudaError_t PrefillAttention(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where,
                             cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  if (rows > INT_MAX || args.heads <= 0 || args.heads > 65535 || args.group <= 0 || args.heads % args.group != 0 ||
      !PrefillAttentionSuits(args) || args.layer < 0 || args.layer >= kv.layers) {
    return cudaErrorInvalidValue;
  }
  const size_t bytes = SharedFloats(args.score_a + args.score_b, args.value_width) * sizeof(float);
  if (bytes > 48 * 1024) {
    const cudaError_t set = cudaFuncSetAttribute(PrefillAttentionKernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                 static_cast<int>(bytes));
    if (set != cudaSuccess) return set;
  }
  const dim3 grid(static_cast<unsigned>((rows + kTileRows - 1) / kTileRows), static_cast<unsigned>(args.heads));
  PrefillAttentionKernel<<<grid, kThreads, bytes, stream>>>(args, rows, kv, where);
  return LaunchError();
}

}  // namespace engine::cuda
