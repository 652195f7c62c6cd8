// The routed experts' outputs summed back into each token's row, weighted, in ascending expert
// order and then the shared experts' — the CPU path's order of additions; one block per token.
// CPU reference cuda::reference::MoeCombine.
#include <climits>

#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

constexpr int kMaxK = 32;

__global__ void MoeCombineKernel(const float* y, const int32_t* choices, const float* weights,
                                 const int32_t* slot_of, int k, int64_t hidden, const float* shared, float* out) {
  __shared__ int by_expert[kMaxK];
  const int64_t t = blockIdx.x;
  if (threadIdx.x == 0) {
    // The token's choices sorted by expert (k is small: insertion sort).
    for (int j = 0; j < k; ++j) {
      int i = j;
      while (i > 0 && choices[t * k + by_expert[i - 1]] > choices[t * k + j]) {
        by_expert[i] = by_expert[i - 1];
        --i;
      }
      by_expert[i] = j;
    }
  }
  __syncthreads();
  for (int64_t d = threadIdx.x; d < hidden; d += blockDim.x) {
    float acc = 0.0f;
    for (int i = 0; i < k; ++i) {
      const int64_t choice = t * k + by_expert[i];
      acc = fmaf(weights[choice], y[static_cast<int64_t>(slot_of[choice]) * hidden + d], acc);
    }
    if (shared != nullptr) acc += shared[t * hidden + d];
    out[t * hidden + d] = acc;
  }
}

}  // namespace

cudaError_t MoeCombine(const float* y, const int32_t* choices, const float* weights, const int32_t* slot_of,
                       int64_t n, int k, int64_t hidden, const float* shared, float* out, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  if (n > INT_MAX || k <= 0 || k > kMaxK || hidden <= 0) return cudaErrorInvalidValue;
  MoeCombineKernel<<<static_cast<unsigned>(n), 256, 0, stream>>>(y, choices, weights, slot_of, k, hidden, shared,
                                                                  out);
  return LaunchError();
}

}  // namespace engine::cuda
