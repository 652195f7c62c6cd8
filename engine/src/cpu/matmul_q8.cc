#include "cpu/matmul_q8.h"

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>

namespace engine::cpu::q8 {

namespace {

struct Block {
  float scale;
  int8_t q[kBlock];
};
static_assert(sizeof(Block) == kBlockBytes);

void QuantizeBlock(const float* v, Block* out) {
  float top = 0;
  for (int64_t i = 0; i < kBlock; ++i) top = std::max(top, std::abs(v[i]));
  out->scale = top / 127.0f;
  const float inverse = top > 0 ? 127.0f / top : 0.0f;
  for (int64_t i = 0; i < kBlock; ++i) {
    out->q[i] = static_cast<int8_t>(std::clamp(std::nearbyint(v[i] * inverse), -127.0f, 127.0f));
  }
}

const Block* RowBlocks(const uint8_t* base, int64_t cols, int64_t r) {
  return reinterpret_cast<const Block*>(base + r * (cols / kBlock) * kBlockBytes);
}

// Σ over blocks of (Σ q_w·q_x) · d_w · d_x, blocks in order.
void RowsPortable(const uint8_t* qx, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  const int64_t blocks = w.cols / kBlock;
  for (int64_t r = r0; r < r1; ++r) {
    const Block* wb = RowBlocks(w.q8, w.cols, r);
    for (int64_t t = 0; t < n; ++t) {
      const Block* xb = RowBlocks(qx, w.cols, t);
      float sum = 0;
      for (int64_t b = 0; b < blocks; ++b) {
        int32_t dot = 0;
        for (int64_t i = 0; i < kBlock; ++i) dot += int32_t{wb[b].q[i]} * xb[b].q[i];
        sum += static_cast<float>(dot) * (wb[b].scale * xb[b].scale);
      }
      y[t * w.rows + r] = sum;
    }
  }
}

#if defined(__x86_64__)
// 4 weight rows × up to 4 tokens. vpdpbusd multiplies unsigned by signed bytes, so each token
// block is stored shifted to unsigned (q + 128) and the shift's contribution, 128 · Σ q_w, is
// taken off by starting each weight block's sums from −128 · Σ q_w (one vpdpbusd of 128s per
// weight block, shared by the tokens). The int32 lanes become float32 and add in, scaled, to
// 8-lane accumulators that are summed once at the end.
template <int kRows, int kTokens>
__attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni"), always_inline)) inline void Tile(
    const Block* const* w, const uint8_t* const* x_shifted, const float* const* x_scale, int64_t blocks, float* y,
    int64_t y_stride) {
  __m256 acc[kRows][kTokens];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm256_setzero_ps();
  const __m256i offset = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < blocks; ++b) {
    __m256i xv[kTokens];
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) xv[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x_shifted[t] + b * kBlock));
    // Rows interleave kRows streams, more than the hardware prefetchers follow: ask for each
    // row's lines 8 KiB ahead, as the bf16 kernel does.
    if ((b & 1) == 0) {
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) _mm_prefetch(reinterpret_cast<const char*>(&w[r][b]) + 8192, _MM_HINT_T1);
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].q));
      const __m256i correction = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), offset, wv));
      const float wd = w[r][b].scale;
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        const __m256i dot = _mm256_dpbusd_epi32(correction, xv[t], wv);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(wd * x_scale[t][b]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int t = 0; t < kTokens; ++t) {
      const __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc[r][t]), _mm256_extractf128_ps(acc[r][t], 1));
      const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
      y[t * y_stride + r] = _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
    }
  }
}

// Tile<kRows, kTokens> at weight row r and token t.
template <int kRows, int kTokens>
__attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni"))) void RunTile(const Matrix& w,
                                                                             const std::vector<uint8_t>& shifted,
                                                                             const std::vector<float>& scales,
                                                                             int64_t blocks, float* y, int64_t r,
                                                                             int64_t t) {
  const Block* rows[4];
  for (int i = 0; i < kRows; ++i) rows[i] = RowBlocks(w.q8, w.cols, r + i);
  const uint8_t* xs[4];
  const float* xd[4];
  for (int i = 0; i < kTokens; ++i) {
    xs[i] = &shifted[(t + i) * w.cols];
    xd[i] = &scales[(t + i) * blocks];
  }
  Tile<kRows, kTokens>(rows, xs, xd, blocks, y + t * w.rows + r, w.rows);
}

bool HasVnni() {
  static const bool has = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

__attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni"))) void RowsVnni(const uint8_t* qx, int64_t n,
                                                                              const Matrix& w, float* y, int64_t r0,
                                                                              int64_t r1) {
  const int64_t blocks = w.cols / kBlock;
  // The tokens' blocks split into shifted bytes and scales, once per call of this item.
  std::vector<uint8_t> shifted(static_cast<size_t>(n * w.cols));
  std::vector<float> scales(static_cast<size_t>(n * blocks));
  for (int64_t t = 0; t < n; ++t) {
    const Block* xb = RowBlocks(qx, w.cols, t);
    for (int64_t b = 0; b < blocks; ++b) {
      scales[t * blocks + b] = xb[b].scale;
      for (int64_t i = 0; i < kBlock; ++i) shifted[t * w.cols + b * kBlock + i] = static_cast<uint8_t>(xb[b].q[i] + 128);
    }
  }
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    int64_t t = 0;
    for (; t + 4 <= n; t += 4) RunTile<4, 4>(w, shifted, scales, blocks, y, r, t);
    for (; t < n; ++t) RunTile<4, 1>(w, shifted, scales, blocks, y, r, t);
  }
  for (; r < r1; ++r) {
    int64_t t = 0;
    for (; t + 4 <= n; t += 4) RunTile<1, 4>(w, shifted, scales, blocks, y, r, t);
    for (; t < n; ++t) RunTile<1, 1>(w, shifted, scales, blocks, y, r, t);
  }
}
#endif

}  // namespace

bool Suits(const Matrix& w) { return w.cols % kBlock == 0 && w.rows > 0; }

int64_t QuantizedBytes(int64_t rows, int64_t cols) { return rows * (cols / kBlock) * kBlockBytes; }

std::vector<uint8_t> Quantize(const Matrix& w) {
  std::vector<uint8_t> out(static_cast<size_t>(QuantizedBytes(w.rows, w.cols)));
  std::vector<float> row(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    w.RowToF32(r, row.data());
    QuantizeRows(row.data(), 1, w.cols, out.data() + QuantizedBytes(r, w.cols));
  }
  return out;
}

void QuantizeRows(const float* x, int64_t n, int64_t k, uint8_t* out) {
  Block* blocks = reinterpret_cast<Block*>(out);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t b = 0; b < k / kBlock; ++b) QuantizeBlock(x + t * k + b * kBlock, &blocks[t * (k / kBlock) + b]);
  }
}

void DequantizeRow(const uint8_t* q8, int64_t cols, int64_t r, float* out) {
  const Block* blocks = RowBlocks(q8, cols, r);
  for (int64_t b = 0; b < cols / kBlock; ++b) {
    for (int64_t i = 0; i < kBlock; ++i) out[b * kBlock + i] = blocks[b].scale * blocks[b].q[i];
  }
}

void Rows(const uint8_t* qx, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
  if (HasVnni()) return RowsVnni(qx, n, w, y, r0, r1);
#endif
  RowsPortable(qx, n, w, y, r0, r1);
}

}  // namespace engine::cpu::q8
