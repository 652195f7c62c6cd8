#include "cpu/matmul.h"

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <omp.h>

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
      // bf16 is the top half of a float32: widening is a shift, which vectorises.
      uint32_t* bits = reinterpret_cast<uint32_t*>(out);
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) bits[c] = static_cast<uint32_t>(row[c]) << 16;
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
constexpr int64_t kPrefetchBytes = 8192;

__attribute__((target("avx512f,avx512bw"))) inline __m512 LoadBf16x16(const uint16_t* p) {
  __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

__attribute__((target("avx512f,avx512bw"))) inline __m512 LoadF16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Rows [r0, r1) of y for n tokens, in tiles of 4 weight rows × up to 4 tokens: each 16-bit
// weight vector is widened once and used for 4 tokens, each token vector is loaded once for 4
// rows, and the 16 accumulators are independent chains, so neither loads nor FMA latency bound
// the loop. Weights stream from memory exactly once.
template <bool kIsBf16, int kRows, int kTokens>
__attribute__((target("avx512f,avx512bw,fma"), always_inline)) inline void Tile(const float* x, int64_t k, const uint16_t* w,
                                                                 int64_t w_stride, float* y, int64_t y_stride) {
  __m512 acc[kRows][kTokens];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_setzero_ps();
  const int64_t k16 = k & ~int64_t{15};
  for (int64_t c = 0; c < k16; c += 16) {
    __m512 xv[kTokens];
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) xv[t] = _mm512_loadu_ps(x + t * k + c);
    // Hardware prefetchers lose track of the kRows interleaved streams; asking for the line
    // 8 KiB ahead (into L2) keeps enough reads in flight to approach full bandwidth
    // (18 → 26 GB/s on a 151936×1024 bf16 GEMV with 2 threads here).
    if ((c & 31) == 0) {
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(w + r * w_stride + c) + kPrefetchBytes, _MM_HINT_T1);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512 wv = kIsBf16 ? LoadBf16x16(w + r * w_stride + c) : LoadF16x16(w + r * w_stride + c);
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int t = 0; t < kTokens; ++t) {
      float sum = _mm512_reduce_add_ps(acc[r][t]);
      for (int64_t c = k16; c < k; ++c) {
        const uint16_t h = w[r * w_stride + c];
        sum += (kIsBf16 ? Bf16ToF32(h) : F16ToF32(h)) * x[t * k + c];
      }
      y[t * y_stride + r] = sum;
    }
  }
}

template <bool kIsBf16, int kRows>
__attribute__((target("avx512f,avx512bw,fma"))) void RowBlock(const float* x, int64_t n, const Matrix& w, float* y,
                                                             int64_t r) {
  const int64_t k = w.cols;
  const uint16_t* rows = static_cast<const uint16_t*>(w.data) + r * k;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) Tile<kIsBf16, kRows, 4>(x + i * k, k, rows, k, y + i * w.rows + r, w.rows);
  for (; i < n; ++i) Tile<kIsBf16, kRows, 1>(x + i * k, k, rows, k, y + i * w.rows + r, w.rows);
}

template <bool kIsBf16>
__attribute__((target("avx512f,avx512bw,fma"))) void Half16RowsAvx512(const float* x, int64_t n, const Matrix& w,
                                                                     float* y, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) RowBlock<kIsBf16, 4>(x, n, w, y, r);
  for (; r < r1; ++r) RowBlock<kIsBf16, 1>(x, n, w, y, r);
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

void MatmulBatch(const std::vector<MatmulJob>& jobs) {
  // Work items are runs of rows of one job. Big items stream better (each starts cold for the
  // prefetcher and costs a scheduling step: 64 KiB items reached 65% of the bandwidth floor on
  // decode, 512 KiB ones 77-87%), but there must be enough of them to keep every thread busy:
  // about 2 per thread, between 128 KiB and 1 MiB each.
  int64_t total_bytes = 0, work = 0;
  for (const MatmulJob& job : jobs) {
    total_bytes += static_cast<int64_t>(job.w->bytes());
    work += job.w->rows * job.w->cols * job.n;
  }
  const int64_t threads = std::max(1, omp_get_max_threads());
  const int64_t item_bytes = std::clamp<int64_t>(total_bytes / (2 * threads), 128 << 10, 1 << 20);
  struct Item {
    size_t job;
    int64_t r0, r1;
  };
  std::vector<Item> items;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const Matrix& w = *jobs[j].w;
    const int64_t row_bytes = std::max<int64_t>(1, w.cols * static_cast<int64_t>(DTypeSize(w.dtype)));
    int64_t chunk = std::max<int64_t>(1, item_bytes / row_bytes);
    chunk = (chunk + 3) & ~int64_t{3};  // whole 4-row tiles
    for (int64_t r = 0; r < w.rows; r += chunk) items.push_back({j, r, std::min(w.rows, r + chunk)});
  }
  auto run = [&](const Item& item) {
    const MatmulJob& job = jobs[item.job];
    Rows(job.x, job.n, *job.w, job.y, item.r0, item.r1);
  };
  if (items.size() <= 1 || work < (1 << 15)) {
    for (const Item& item : items) run(item);
    return;
  }
  const int64_t count = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < count; ++i) run(items[i]);
}

void MatmulTransposed(const float* x, int64_t n, const Matrix& w, float* y) { MatmulBatch({{x, n, &w, y}}); }

}  // namespace engine::cpu
