// RMSNorm: one block per row; CPU reference cpu::RmsNorm.
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

__global__ void RmsNormKernel(const float* x, int64_t dim, const float* weight, float eps, float* out) {
  __shared__ float partial[kWarp];
  const float* row = x + blockIdx.x * dim;
  float* dst = out + blockIdx.x * dim;
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) sum = fmaf(row[i], row[i], sum);
  sum = BlockReduce<false>(sum, partial);
  const float inv = 1.0f / sqrtf(sum / static_cast<float>(dim) + eps);
  // Every thread has read its elements before any writes (the reduction synchronised), so out
  // may alias x.
  for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = weight[i] * (row[i] * inv);
}

}  // namespace

cudaError_t RmsNorm(const float* x, int64_t rows, int64_t dim, const float* weight, float eps, float* out,
                    cudaStream_t stream) {
  if (rows <= 0) return cudaSuccess;
  if (rows > 0x7fffffff || dim <= 0) return cudaErrorInvalidValue;
  RmsNormKernel<<<static_cast<unsigned>(rows), 256, 0, stream>>>(x, dim, weight, eps, out);
  return LaunchError();
}

}  // namespace engine::cuda
