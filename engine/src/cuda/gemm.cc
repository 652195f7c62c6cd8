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
                         float* y) {
  if (!FitsInt(n, out, in)) return CUBLAS_STATUS_INVALID_VALUE;
  const float one = 1.0f, zero = 0.0f;
  return cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), static_cast<int>(n),
                     static_cast<int>(in), &one, w, static_cast<int>(in), x, static_cast<int>(in), &zero, y,
                     static_cast<int>(out));
}

cublasStatus_t MatmulBf16(cublasHandle_t handle, const uint16_t* x, int64_t n, const uint16_t* w, int64_t out,
                          int64_t in, float* y) {
  if (!FitsInt(n, out, in)) return CUBLAS_STATUS_INVALID_VALUE;
  const float one = 1.0f, zero = 0.0f;
  return cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), static_cast<int>(n),
                      static_cast<int>(in), &one, w, CUDA_R_16BF, static_cast<int>(in), x, CUDA_R_16BF,
                      static_cast<int>(in), &zero, y, CUDA_R_32F, static_cast<int>(out), CUBLAS_COMPUTE_32F,
                      CUBLAS_GEMM_DEFAULT);
}

}  // namespace engine::cuda
