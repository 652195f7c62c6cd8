#include "cpu/quantized_tokens.h"

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "cpu/features.h"
#include "cpu/round.h"

namespace engine::cpu {

float QuantizeBlock8(const float* v, int8_t* q) {
  float top = 0;
  for (int64_t i = 0; i < kQuantBlock; ++i) top = std::max(top, std::abs(v[i]));
  const float inverse = top > 0 ? 127.0f / top : 0.0f;
  for (int64_t i = 0; i < kQuantBlock; ++i) {
    q[i] = static_cast<int8_t>(std::clamp(RoundToNearest(v[i] * inverse), -127.0f, 127.0f));
  }
  return top / 127.0f;
}

int64_t QuantizedTokenBytes(int64_t n, int64_t cols) {
  const int64_t blocks = cols / kQuantBlock;
  return n * cols + n * blocks * static_cast<int64_t>(sizeof(float) + sizeof(int32_t));
}

namespace {

#if defined(__x86_64__)
// round(x · inverse) clamped to ±127, as QuantizeBlock8 computes it (cpu/round.h).
__attribute__((target("avx512f,avx512bw"), always_inline)) inline __m512i Levels(__m512 x, float inverse) {
  const __m512 shift = _mm512_set1_ps(0x1.8p23f);
  const __m512 rounded = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(inverse)), shift), shift);
  return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(rounded, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f)));
}

// QuantizeBlock8 sixteen lanes at a time, with the same operations in the same order (the
// largest magnitude is the same whatever order it is found in), so the same bytes and scales.
__attribute__((target("avx512f,avx512bw"))) float QuantizeBlock8Avx512(const float* v, int8_t* q, int32_t* sum) {
  const __m512 a = _mm512_loadu_ps(v), b = _mm512_loadu_ps(v + 16);
  const float top = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
  const float inverse = top > 0 ? 127.0f / top : 0.0f;
  const __m512i qa = Levels(a, inverse), qb = Levels(b, inverse);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtepi32_epi8(qa));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), _mm512_cvtepi32_epi8(qb));
  *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
  return top / 127.0f;
}

#endif

void QuantizeToken(const float* x, int64_t cols, int8_t* bytes, float* scales, int32_t* sums) {
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    int8_t* q = bytes + b * kQuantBlock;
    int32_t sum = 0;
#if defined(__x86_64__)
    if (HasAvx512BW()) {
      scales[b] = QuantizeBlock8Avx512(x + b * kQuantBlock, q, &sum);
      sums[b] = -sum;
      continue;
    }
#endif
    scales[b] = QuantizeBlock8(x + b * kQuantBlock, q);
    for (int64_t i = 0; i < kQuantBlock; ++i) sum += q[i];
    sums[b] = -sum;
  }
}

}  // namespace

void QuantizeTokens(const float* x, int64_t n, int64_t cols, uint8_t* out) {
  const int64_t blocks = cols / kQuantBlock;
  int8_t* bytes = reinterpret_cast<int8_t*>(out);
  float* scales = reinterpret_cast<float*>(out + n * cols);
  int32_t* sums = reinterpret_cast<int32_t*>(out + n * cols + n * blocks * static_cast<int64_t>(sizeof(float)));
  // A prefill's tokens on every core; a decode step's one token where it is.
#pragma omp parallel for schedule(static) if (n * cols >= (1 << 16))
  for (int64_t t = 0; t < n; ++t) {
    QuantizeToken(x + t * cols, cols, bytes + t * cols, scales + t * blocks, sums + t * blocks);
  }
}

QuantizedTokens::QuantizedTokens(const uint8_t* buffer, int64_t n, int64_t cols)
    : bytes(reinterpret_cast<const int8_t*>(buffer)),
      scales(reinterpret_cast<const float*>(buffer + n * cols)),
      negated_sums(reinterpret_cast<const int32_t*>(buffer + n * cols + n * (cols / kQuantBlock) * 4)),
      n(n),
      cols(cols) {}

void QuantizedTokens::Dequantize(int64_t t, float* out) const {
  const int64_t blocks = cols / kQuantBlock;
  for (int64_t c = 0; c < cols; ++c) out[c] = scales[t * blocks + c / kQuantBlock] * bytes[t * cols + c];
}

}  // namespace engine::cpu
