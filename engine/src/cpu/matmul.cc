#include "cpu/matmul.h"

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace engine::cpu {

void Matrix::RowToF32(int64_t r, float* out) const {
  switch (dtype) {
    case DType::kF32: {
      const float* row = static_cast<const float*>(data) + r * cols;
      std::copy(row, row + cols, out);
      return;
    }
    case DType::kBF16: {
      const uint16_t* row = static_cast<const uint16_t*>(data) + r * cols;
      for (int64_t c = 0; c < cols; ++c) out[c] = Bf16ToF32(row[c]);
      return;
    }
    case DType::kF16: {
      const uint16_t* row = static_cast<const uint16_t*>(data) + r * cols;
      for (int64_t c = 0; c < cols; ++c) out[c] = F16ToF32(row[c]);
      return;
    }
    case DType::kF8E4M3: {
      const uint8_t* row = static_cast<const uint8_t*>(data) + r * cols;
      for (int64_t c = 0; c < cols; ++c) out[c] = F8E4M3ToF32(row[c]);
      return;
    }
  }
}

Matrix Matrix::Rows(int64_t first, int64_t count) const {
  Matrix view = *this;
  view.rows = count;
  view.data = static_cast<const uint8_t*>(data) + first * cols * DTypeSize(dtype);
  return view;
}

void MatmulTransposedReference(const float* x, int64_t n, const Matrix& w, float* y) {
  std::vector<float> row(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    w.RowToF32(r, row.data());
    for (int64_t i = 0; i < n; ++i) {
      double sum = 0;
      for (int64_t c = 0; c < w.cols; ++c) sum += static_cast<double>(x[i * w.cols + c]) * row[c];
      y[i * w.rows + r] = static_cast<float>(sum);
    }
  }
}

namespace {

// Dot products of one weight row (already float32) with up to kTokenBlock token rows.
inline float Dot(const float* a, const float* b, int64_t k) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < k; ++c) sum += a[c] * b[c];
  return sum;
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw"))) inline __m512 LoadBf16x16(const uint16_t* p) {
  __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

__attribute__((target("avx512f,avx512bw"))) inline __m512 LoadF16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Rows [r0, r1) of y for n tokens: each 16-bit weight row is converted once per 4 tokens and
// fused into the dot products, so weights stream from memory exactly once.
template <bool kIsBf16>
__attribute__((target("avx512f,avx512bw,fma"))) void Half16RowsAvx512(const float* x, int64_t n,
                                                                     const Matrix& w, float* y,
                                                                     int64_t r0, int64_t r1) {
  const int64_t k = w.cols;
  const int64_t k16 = k & ~int64_t{15};
  const auto* base = static_cast<const uint16_t*>(w.data);
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* row = base + r * k;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
             a3 = _mm512_setzero_ps();
      const float* x0 = x + (i + 0) * k;
      const float* x1 = x + (i + 1) * k;
      const float* x2 = x + (i + 2) * k;
      const float* x3 = x + (i + 3) * k;
      for (int64_t c = 0; c < k16; c += 16) {
        __m512 wv = kIsBf16 ? LoadBf16x16(row + c) : LoadF16x16(row + c);
        a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x0 + c), a0);
        a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x1 + c), a1);
        a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x2 + c), a2);
        a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x3 + c), a3);
      }
      float s[4] = {_mm512_reduce_add_ps(a0), _mm512_reduce_add_ps(a1), _mm512_reduce_add_ps(a2),
                    _mm512_reduce_add_ps(a3)};
      for (int64_t c = k16; c < k; ++c) {
        float wc = kIsBf16 ? Bf16ToF32(row[c]) : F16ToF32(row[c]);
        s[0] += wc * x0[c];
        s[1] += wc * x1[c];
        s[2] += wc * x2[c];
        s[3] += wc * x3[c];
      }
      for (int j = 0; j < 4; ++j) y[(i + j) * w.rows + r] = s[j];
    }
    for (; i < n; ++i) {
      const float* xi = x + i * k;
      __m512 acc = _mm512_setzero_ps();
      for (int64_t c = 0; c < k16; c += 16) {
        __m512 wv = kIsBf16 ? LoadBf16x16(row + c) : LoadF16x16(row + c);
        acc = _mm512_fmadd_ps(wv, _mm512_loadu_ps(xi + c), acc);
      }
      float s = _mm512_reduce_add_ps(acc);
      for (int64_t c = k16; c < k; ++c) s += (kIsBf16 ? Bf16ToF32(row[c]) : F16ToF32(row[c])) * xi[c];
      y[i * w.rows + r] = s;
    }
  }
}

bool HasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("fma");
  return has;
}
#endif

// Portable path: converts each weight row to float32 once, then dots it with every token.
void RowsPortable(const float* x, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  std::vector<float> converted;
  const float* row = nullptr;
  for (int64_t r = r0; r < r1; ++r) {
    if (w.dtype == DType::kF32) {
      row = static_cast<const float*>(w.data) + r * w.cols;
    } else {
      converted.resize(w.cols);
      w.RowToF32(r, converted.data());
      row = converted.data();
    }
    for (int64_t i = 0; i < n; ++i) y[i * w.rows + r] = Dot(x + i * w.cols, row, w.cols);
  }
}

void Rows(const float* x, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
  if (HasAvx512()) {
    if (w.dtype == DType::kBF16) return Half16RowsAvx512<true>(x, n, w, y, r0, r1);
    if (w.dtype == DType::kF16) return Half16RowsAvx512<false>(x, n, w, y, r0, r1);
  }
#endif
  RowsPortable(x, n, w, y, r0, r1);
}

}  // namespace

void MatmulTransposed(const float* x, int64_t n, const Matrix& w, float* y) {
  // Split output rows into chunks big enough to amortise scheduling (≥ ~64 KiB of weights).
  const int64_t row_bytes = w.cols * static_cast<int64_t>(DTypeSize(w.dtype));
  const int64_t chunk = std::max<int64_t>(1, (64 << 10) / std::max<int64_t>(row_bytes, 1));
  const int64_t chunks = (w.rows + chunk - 1) / chunk;
  if (chunks <= 1 || w.rows * w.cols * n < (1 << 15)) {
    Rows(x, n, w, y, 0, w.rows);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t r0 = c * chunk;
    Rows(x, n, w, y, r0, std::min(w.rows, r0 + chunk));
  }
}

}  // namespace engine::cpu
