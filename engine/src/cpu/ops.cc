#include "cpu/ops.h"

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "cpu/features.h"

namespace engine::cpu {

void RmsNorm(const float* x, int64_t rows, int64_t dim, const float* weight, float eps, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = out + r * dim;
    float sum_squares = 0;
#pragma omp simd reduction(+ : sum_squares)
    for (int64_t i = 0; i < dim; ++i) sum_squares += xr[i] * xr[i];
    const float inv_rms = 1.0f / std::sqrt(sum_squares / static_cast<float>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) yr[i] = weight[i] * (xr[i] * inv_rms);
  }
}

void SiluMul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

namespace {

__attribute__((target("avx512f"))) int64_t ArgMaxAvx512(const float* x, int64_t n) {
  // The largest value (an unordered compare notes any NaN), then the first place it stands.
  __m512 top = _mm512_set1_ps(-INFINITY);
  __mmask16 unordered = 0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    unordered |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    top = _mm512_max_ps(top, v);
  }
  float best = _mm512_reduce_max_ps(top);
  for (int64_t j = i; j < n; ++j) {
    if (std::isnan(x[j])) unordered = 1;
    best = std::max(best, x[j]);
  }
  if (unordered != 0) return std::max_element(x, x + n) - x;
  const __m512 wanted = _mm512_set1_ps(best);
  for (i = 0; i + 16 <= n; i += 16) {
    const __mmask16 found = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), wanted, _CMP_EQ_OQ);
    if (found != 0) return i + __builtin_ctz(found);
  }
  for (; i < n; ++i) {
    if (x[i] == best) return i;
  }
  return std::max_element(x, x + n) - x;  // not reached: best is one of them
}

}  // namespace

int64_t ArgMax(const float* x, int64_t n) {
  if (n <= 0) return 0;
  if (HasAvx512F()) return ArgMaxAvx512(x, n);
  return std::max_element(x, x + n) - x;
}

void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const float max_value = *std::max_element(x, x + n);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_value);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

namespace {

// Attention's inner loops (a query against each cached key, values into the context): with a
// long context they are a real share of decode time, so they get AVX-512 versions too.
__attribute__((target("avx512f"))) float DotAvx512(const float* a, const float* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

__attribute__((target("avx512f"))) void AxpyAvx512(float alpha, const float* x, float* y, int64_t n) {
  const __m512 a = _mm512_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace

float Dot(const float* a, const float* b, int64_t n) {
  if (HasAvx512F()) return DotAvx512(a, b, n);
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void Axpy(float alpha, const float* x, float* y, int64_t n) {
  if (HasAvx512F()) return AxpyAvx512(alpha, x, y, n);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace engine::cpu
