// Flash-decoding's second step, shared by the attention kernels (private to engine/src/cuda):
// the splits of a (row, head) each leave [value_width] unnormalised values, then their running
// maximum and sum; one block per (row, head) merges them.
#ifndef AGENTD_ENGINE_CUDA_ATTENTION_SPLITS_CUH_
#define AGENTD_ENGINE_CUDA_ATTENTION_SPLITS_CUH_

#include <cuda_runtime.h>

#include <cstdint>

namespace engine::cuda {
namespace {

// out = Σ_s e^(m_s − M) · values_s / Σ_s e^(m_s − M) · sum_s over a (row, head)'s splits, M the
// largest m_s (a split with no positions has m_s = −∞ and adds nothing).
__global__ void MergeSplitsKernel(const float* partial, int splits, int value_width, float* out) {
  const int64_t pair = blockIdx.x;  // r · heads + h
  const float* first = partial + pair * splits * static_cast<int64_t>(value_width + 2);
  float top = -INFINITY;
  for (int s = 0; s < splits; ++s) top = fmaxf(top, first[s * (value_width + 2) + value_width]);
  float total = 0.0f;
  for (int s = 0; s < splits; ++s) {
    const float m = first[s * (value_width + 2) + value_width];
    if (m != -INFINITY) total += expf(m - top) * first[s * (value_width + 2) + value_width + 1];
  }
  const float inv = 1.0f / total;
  for (int d = threadIdx.x; d < value_width; d += blockDim.x) {
    float sum = 0.0f;
    for (int s = 0; s < splits; ++s) {
      const float m = first[s * (value_width + 2) + value_width];
      if (m != -INFINITY) sum = fmaf(expf(m - top), first[s * (value_width + 2) + d], sum);
    }
    out[pair * value_width + d] = sum * inv;
  }
}

}  // namespace
}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_ATTENTION_SPLITS_CUH_
