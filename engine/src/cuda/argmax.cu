// Greedy sampling on the device: each row's arg-max, the lowest index on ties (std::max_element's
// choice, the CPU sampler's), one block per row.
#include <climits>

#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

__global__ void ArgmaxRowsKernel(const float* logits, int64_t vocab, int32_t* out) {
  __shared__ Best warp_best[kWarp];
  const Best best = BlockArgmax(logits + static_cast<int64_t>(blockIdx.x) * vocab, nullptr, vocab, warp_best);
  if (threadIdx.x == 0) out[blockIdx.x] = best.index;
}

}  // namespace

cudaError_t ArgmaxRows(const float* logits, int64_t rows, int64_t vocab, int32_t* out, cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  if (rows > INT_MAX || vocab <= 0 || vocab > INT_MAX) return cudaErrorInvalidValue;
  ArgmaxRowsKernel<<<static_cast<unsigned>(rows), 1024, 0, stream>>>(logits, vocab, out);
  return LaunchError();
}

}  // namespace engine::cuda
