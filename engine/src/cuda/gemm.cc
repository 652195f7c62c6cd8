#include "cuda/gemm.h"

#include <climits>

namespace engine::cuda {
namespace {

bool FitsInt(int64_t n, int64_t out, int64_t in) {
  return n > 0 && out > 0 && in > 0 && n <= INT_MAX && out <= INT_MAX && in <= INT_MAX;
}

}  // namespace

// yᵀ [out, n] (column-major, ld out) = W (column-major [in, out] read transposed) · xᵀ ([in, n]).
cublasStatus_t MatmulF32(cublasHandle_t handle, const float* x, int64_t n, const float* w, int64_t out, int64_t in,
                         float* y, bool accumulate) {
  if (!FitsInt(n, out, in)) return CUBLAS_STATUS_INVALID_VALUE;
  const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  return cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), static_cast<int>(n),
                     static_cast<int>(in), &one, w, static_cast<int>(in), x, static_cast<int>(in), &beta, y,
                     static_cast<int>(out));
}

cublasStatus_t MatmulBf16(cublasHandle_t handle, const uint16_t* x, int64_t n, const uint16_t* w, int64_t out,
                          int64_t in, float* y, bool accumulate) {
  if (!FitsInt(n, out, in)) return CUBLAS_STATUS_INVALID_VALUE;
  const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  return cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), static_cast<int>(n),
                      static_cast<int>(in), &one, w, CUDA_R_16BF, static_cast<int>(in), x, CUDA_R_16BF,
                      static_cast<int>(in), &beta, y, CUDA_R_32F, static_cast<int>(out), CUBLAS_COMPUTE_32F,
                      CUBLAS_GEMM_DEFAULT);
}

// Per head, column-major: y_hᵀ [out, n] (ld y_row_stride) = op(W_h) [out, in] · x_hᵀ [in, n] (ld
// x_row_stride). Row-major [out, in] is column-major [in, out] (ld in), read transposed;
// row-major [in, out] is column-major [out, in] (ld out), read as it is.
cublasStatus_t MatmulPerHeadF32(cublasHandle_t handle, const HeadProducts& p) {
  if (!FitsInt(p.n, p.out, p.in) || p.heads <= 0 || p.x_row_stride > INT_MAX || p.y_row_stride > INT_MAX) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  const float one = 1.0f, zero = 0.0f;
  const int lda = static_cast<int>(p.w_rows_are_outputs ? p.in : p.out);
  return cublasSgemmStridedBatched(handle, p.w_rows_are_outputs ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N,
                                   static_cast<int>(p.out), static_cast<int>(p.n), static_cast<int>(p.in), &one, p.w,
                                   lda, p.w_head_stride, p.x, static_cast<int>(p.x_row_stride), p.x_head_stride, &zero,
                                   p.y, static_cast<int>(p.y_row_stride), p.y_head_stride, p.heads);
}

}  // namespace engine::cuda
