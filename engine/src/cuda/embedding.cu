// Embedding rows gathered (and widened from bf16); CPU reference cpu::Matrix::RowToF32.
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

__global__ void EmbeddingBf16Kernel(const uint16_t* table, int64_t cols, const int32_t* ids, float* out) {
  const uint16_t* row = table + static_cast<int64_t>(ids[blockIdx.x]) * cols;
  float* dst = out + blockIdx.x * cols;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) dst[i] = Bf16Bits(row[i]);
}

__global__ void EmbeddingF32Kernel(const float* table, int64_t cols, const int32_t* ids, float* out) {
  const float* row = table + static_cast<int64_t>(ids[blockIdx.x]) * cols;
  float* dst = out + blockIdx.x * cols;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) dst[i] = row[i];
}

}  // namespace

cudaError_t EmbeddingF32(const float* table, int64_t cols, const int32_t* ids, int64_t n, float* out,
                         cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  if (n > 0x7fffffff) return cudaErrorInvalidValue;
  EmbeddingF32Kernel<<<static_cast<unsigned>(n), 256, 0, stream>>>(table, cols, ids, out);
  return LaunchError();
}

cudaError_t EmbeddingBf16(const uint16_t* table, int64_t cols, const int32_t* ids, int64_t n, float* out,
                          cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  if (n > 0x7fffffff) return cudaErrorInvalidValue;
  EmbeddingBf16Kernel<<<static_cast<unsigned>(n), 256, 0, stream>>>(table, cols, ids, out);
  return LaunchError();
}

}  // namespace engine::cuda
