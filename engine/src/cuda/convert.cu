// float32 → bf16, round to nearest even with NaN kept; CPU reference engine::F32ToBf16.
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

__global__ void ConvertF32ToBf16Kernel(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = RoundToBf16Bits(x[i]);
  }
}

}  // namespace

cudaError_t ConvertF32ToBf16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int64_t blocks = (n + 255) / 256;
  ConvertF32ToBf16Kernel<<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), 256, 0, stream>>>(x, n, out);
  return LaunchError();
}

}  // namespace engine::cuda
