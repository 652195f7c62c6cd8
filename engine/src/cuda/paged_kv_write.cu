// New positions' rows written into their paged KV blocks (the CPU path copies them into
// PagedKvCache::LayerView rows); one block per row.
#include <climits>

#include "cuda/ops.h"
#include "cuda/paged_kv.cuh"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

__global__ void PagedKvWriteKernel(const float* src, int64_t src_stride, int64_t width, bool to_a, int layer,
                                   PagedKvLayout kv, KvRows where) {
  const int64_t r = blockIdx.x;
  float* dst = KvRow(kv, where.tables + where.table_start[r], layer, where.positions[r], to_a);
  for (int64_t i = threadIdx.x; i < width; i += blockDim.x) dst[i] = src[r * src_stride + i];
}

}  // namespace

cudaError_t PagedKvWrite(const float* src, int64_t rows, int64_t src_stride, int64_t width, bool to_a, int layer,
                         const PagedKvLayout& kv, const KvRows& where, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  if (rows > INT_MAX || width <= 0 || width > (to_a ? kv.a_width : kv.b_width) || layer < 0 || layer >= kv.layers) {
    return cudaErrorInvalidValue;
  }
  PagedKvWriteKernel<<<static_cast<unsigned>(rows), 128, 0, stream>>>(src, src_stride, width, to_a, layer, kv, where);
  return LaunchError();
}

}  // namespace engine::cuda
