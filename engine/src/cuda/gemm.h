// Dense products through cuBLAS, in the engine's orientation: y[n, out] = x[n, in] · Wᵀ with W
// row-major [out, in] as checkpoints store it (the CPU path's cpu::MatmulTransposed). cuBLAS is
// column-major, so the row-major W is its transposed operand and y comes out as yᵀ's columns:
// no copies. f32: the parity mode (weights widened once at upload). bf16: weights as stored, x
// converted (ConvertF32ToBf16), accumulation in float32. With `accumulate` the product is added
// to y (a residual connection without a pass of its own).
#ifndef AGENTD_ENGINE_CUDA_GEMM_H_
#define AGENTD_ENGINE_CUDA_GEMM_H_

#include <cublas_v2.h>

#include <cstdint>

namespace engine::cuda {

cublasStatus_t MatmulF32(cublasHandle_t handle, const float* x, int64_t n, const float* w, int64_t out, int64_t in,
                         float* y, bool accumulate = false);
cublasStatus_t MatmulBf16(cublasHandle_t handle, const uint16_t* x, int64_t n, const uint16_t* w, int64_t out,
                          int64_t in, float* y, bool accumulate = false);

// One product per head h < heads, float32: y_h[r, o] = Σ_i x_h[r, i] · W_h(i, o) for r < n, with
//   x_h row r at x + h·x_head_stride + r·x_row_stride, y_h row r at y + h·y_head_stride + r·y_row_stride,
//   W_h at w + h·w_head_stride, row-major [out, in] (W_h(i, o) = w_h[o·in + i]) when
//   w_rows_are_outputs, else row-major [in, out] (w_h[i·out + o]).
// MLA's absorbed up-projections per head: W_UKᵀ q_nope (W_UK [nope, rank], rows are inputs) and
// W_UV · context (W_UV [v, rank], rows are outputs).
struct HeadProducts {
  const float* x = nullptr;
  int64_t x_row_stride = 0, x_head_stride = 0;
  const float* w = nullptr;
  int64_t w_head_stride = 0;
  bool w_rows_are_outputs = true;
  float* y = nullptr;
  int64_t y_row_stride = 0, y_head_stride = 0;
  int64_t n = 0, in = 0, out = 0;
  int heads = 0;
};
cublasStatus_t MatmulPerHeadF32(cublasHandle_t handle, const HeadProducts& p);

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_GEMM_H_
