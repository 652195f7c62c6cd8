// Rotary position embedding; CPU reference cpu::RotaryEmbedding::Apply. One thread per
// (row, head, frequency); the angle is p · inv_freq in float32 and cos/sin are the accurate
// functions, as on the CPU.
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

__global__ void RopeKernel(float* x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride,
                           const int32_t* positions, RopeParams params) {
  const int half = params.dim / 2;
  const int64_t total = rows * heads * half;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int i = static_cast<int>(idx % half);
    const int64_t h = (idx / half) % heads, r = idx / (half * heads);
    const float angle = static_cast<float>(positions[r]) * params.inv_freq[i];
    const float c = cosf(angle) * params.attention_factor, s = sinf(angle) * params.attention_factor;
    float* v = x + r * row_stride + h * head_stride;
    const int a = params.interleaved ? 2 * i : i;
    const int b = params.interleaved ? 2 * i + 1 : i + half;
    const float x0 = v[a], x1 = v[b];
    v[a] = x0 * c - x1 * s;
    v[b] = x1 * c + x0 * s;
  }
}

}  // namespace

cudaError_t Rope(float* x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride,
                 const int32_t* positions, const RopeParams& params, cudaStream_t stream) {
  if (params.dim < 2 || params.dim % 2 != 0) return cudaErrorInvalidValue;
  const int64_t total = rows * heads * (params.dim / 2);
  if (total <= 0) return cudaSuccess;
  const int64_t blocks = (total + 255) / 256;
  RopeKernel<<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), 256, 0, stream>>>(
      x, rows, row_stride, heads, head_stride, positions, params);
  return LaunchError();
}

}  // namespace engine::cuda
