// Dense products through cuBLAS, in the engine's orientation: y[n, out] = x[n, in] · Wᵀ with W
// row-major [out, in] as checkpoints store it (the CPU path's cpu::MatmulTransposed). cuBLAS is
// column-major, so the row-major W is its transposed operand and y comes out as yᵀ's columns:
// no copies. f32: the parity mode (weights widened once at upload). bf16: weights as stored, x
// converted (ConvertF32ToBf16), accumulation in float32.
#ifndef AGENTD_ENGINE_CUDA_GEMM_H_
#define AGENTD_ENGINE_CUDA_GEMM_H_

#include <cublas_v2.h>

#include <cstdint>

namespace engine::cuda {

cublasStatus_t MatmulF32(cublasHandle_t handle, const float* x, int64_t n, const float* w, int64_t out, int64_t in,
                         float* y);
cublasStatus_t MatmulBf16(cublasHandle_t handle, const uint16_t* x, int64_t n, const uint16_t* w, int64_t out,
                          int64_t in, float* y);

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_GEMM_H_
