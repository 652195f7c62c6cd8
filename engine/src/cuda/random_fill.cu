// Random weights on the device (benchmarks of shapes too big for the disk); CPU reference
// RandomWeight in cuda/random_fill.h.
#include "cuda/ops.h"
#include "cuda/random_fill.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

template <typename T>
__global__ void FillRandomKernel(T* out, int64_t n, uint64_t seed, float limit) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float value = RandomWeight(seed, i, limit);
    if constexpr (sizeof(T) == 2) {
      out[i] = RoundToBf16Bits(value);
    } else {
      out[i] = value;
    }
  }
}

__global__ void FillKernel(float* out, int64_t n, float value) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = value;
  }
}

unsigned Blocks(int64_t n) {
  const int64_t blocks = (n + 255) / 256;
  return static_cast<unsigned>(blocks < 8192 ? blocks : 8192);
}

}  // namespace

cudaError_t FillRandomBf16(uint16_t* out, int64_t n, uint64_t seed, float limit, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  FillRandomKernel<uint16_t><<<Blocks(n), 256, 0, stream>>>(out, n, seed, limit);
  return LaunchError();
}

cudaError_t FillRandomF32(float* out, int64_t n, uint64_t seed, float limit, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  FillRandomKernel<float><<<Blocks(n), 256, 0, stream>>>(out, n, seed, limit);
  return LaunchError();
}

cudaError_t FillF32(float* out, int64_t n, float value, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  FillKernel<<<Blocks(n), 256, 0, stream>>>(out, n, value);
  return LaunchError();
}

}  // namespace engine::cuda
