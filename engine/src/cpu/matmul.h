// y = x · Wᵀ, the projection every layer is made of: x is [n, k] float32 (n tokens), W is
// [m, k] in its stored dtype (F32, BF16, F16), y is [n, m] float32. Accumulates in float32,
// parallel over output rows. Decode (n = 1) is a matrix-vector product bound by how fast W
// streams from memory, so W is read exactly once per call whatever n is.
#ifndef AGENTD_ENGINE_CPU_MATMUL_H_
#define AGENTD_ENGINE_CPU_MATMUL_H_

#include <vector>

#include "cpu/matrix.h"

namespace engine::cpu {

void MatmulTransposed(const float* x, int64_t n, const Matrix& w, float* y);

// Several independent products y_j = x_j · W_jᵀ in one parallel pass, so small matrices (the
// experts of a MoE layer, q/k/v) share one fork/join instead of paying one each.
struct MatmulJob {
  const float* x;
  int64_t n;
  const Matrix* w;
  float* y;
};
void MatmulBatch(const std::vector<MatmulJob>& jobs);

// True when bf16 weights are multiplied with the tokens rounded to bf16 (AVX512-BF16's
// vdpbf16ps; set AGENTD_MATMUL=f32 to keep float32 tokens), for every n alike.
bool UsesBf16Products();
// True when, on top of that, whole 16-row tiles of bf16 matrices whose k is a multiple of 32 run
// on AMX (Intel Sapphire Rapids and later, where it is the default; AGENTD_MATMUL=avx512bf16
// keeps vdpbf16ps).
bool UsesAmx();
// True when whole 16-row tiles of quantised matrices (not output heads) run on AMX-INT8
// (cpu/quantized_amx.h; the default where the CPU has it; any AGENTD_MATMUL other than amx
// keeps AVX512-VNNI).
bool UsesQuantizedAmx();

// The straightforward triple loop in double precision, for tests of the fast path: on the same
// inputs as the fast path (tokens rounded to bf16 where UsesBf16Products() says so).
void MatmulTransposedReference(const float* x, int64_t n, const Matrix& w, float* y);

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_MATMUL_H_
