// The product of quantised weight rows with quantised tokens (cpu/quantized_tokens.h), shared by
// the 8-bit and 4-bit formats, which differ only in how a pair of blocks (64 weights) and their
// two scales are read. A format stores each row as its weights' unsigned bytes (or nibbles) —
// the signed level plus the format's offset (2^kOffsetShift) — followed by the row's block
// scales, so 64 weights load as one 512-bit vector. Each block's product is an exact int32 sum:
// AVX512-VNNI's vpdpbusd (unsigned weight bytes × signed token bytes) started from
// −offset · Σ token bytes, which takes the offset back off; the 16 lanes (8 per block) become
// float32 and add in, scaled by the two blocks' scales, to accumulators summed once per output.
// Blocks are summed in the same order for every token whatever its batch.
//
// Private to the CPU kernels: include only from matmul_q8.cc and matmul_q4.cc.
#ifndef AGENTD_ENGINE_CPU_QUANTIZED_KERNEL_H_
#define AGENTD_ENGINE_CPU_QUANTIZED_KERNEL_H_

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstdint>
#include <vector>

#include "cpu/matrix.h"
#include "cpu/quantized_tokens.h"

namespace engine::cpu::quantized_kernel {

// Σ over blocks of (Σ level · q_x) · d_w · d_x, blocks in order: the portable path, from each
// row's signed levels and scales (Format::Levels).
template <class Format>
void RowsPortable(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  const int64_t blocks = w.cols / kQuantBlock;
  std::vector<int8_t> levels(static_cast<size_t>(w.cols));
  std::vector<float> scales(static_cast<size_t>(blocks));
  for (int64_t r = r0; r < r1; ++r) {
    Format::Levels(w.quantized + r * Format::RowBytes(w.cols), w.cols, levels.data(), scales.data());
    for (int64_t t = 0; t < x.n; ++t) {
      float sum = 0;
      for (int64_t b = 0; b < blocks; ++b) {
        int32_t dot = 0;
        for (int64_t i = 0; i < kQuantBlock; ++i) {
          dot += int32_t{levels[b * kQuantBlock + i]} * x.bytes[t * w.cols + b * kQuantBlock + i];
        }
        sum += static_cast<float>(dot) * (scales[b] * x.scales[t * blocks + b]);
      }
      y[t * w.rows + r] = sum;
    }
  }
}

#if defined(__x86_64__)
#define AGENTD_QUANTIZED_TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"

inline bool HasVnni() {
  // F16C (the q4 scales) is not asked: every CPU with AVX-512 has it, and clang's builtin does
  // not take the name.
  static const bool has = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  return has;
}

// Lanes 0-7 from element 0 of a vector, lanes 8-15 from element 1: a pair's per-block values
// spread over the lanes of its blocks.
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline __m512i PairIndex() {
  return _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
}

// kRows weight rows × kTokens tokens over every pair of blocks. Each weight pair is loaded once
// for all kTokens tokens, each token pair once for all kRows rows.
template <class Format, int kRows, int kTokens>
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline void Tile(const QuantizedTokens& x,
                                                                                 const Matrix& w, int64_t r,
                                                                                 int64_t t, float* y) {
  const int64_t row_bytes = Format::RowBytes(w.cols), blocks = w.cols / kQuantBlock, pairs = blocks / 2;
  const uint8_t* rows[kRows];
#pragma GCC unroll 4
  for (int i = 0; i < kRows; ++i) rows[i] = w.quantized + (r + i) * row_bytes;
  __m512 acc[kRows][kTokens];
#pragma GCC unroll 4
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < kTokens; ++j) acc[i][j] = _mm512_setzero_ps();
  const __m512i spread = PairIndex();
  // The next tile's rows, when the matrix has them.
  const bool prefetch_next = r + 2 * kRows <= w.rows;
  for (int64_t p = 0; p < pairs; ++p) {
    __m512i xv[kTokens], start[kTokens];
    __m512 xs[kTokens];
#pragma GCC unroll 4
    for (int j = 0; j < kTokens; ++j) {
      const int64_t token = t + j;
      xv[j] = _mm512_loadu_si512(x.bytes + token * w.cols + p * 64);
      const __m128i two_scales = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x.scales + token * blocks + 2 * p));
      xs[j] = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_castsi128_ps(two_scales)));
      const __m128i two_sums = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x.negated_sums + token * blocks + 2 * p));
      // −offset · Σ q_x in the first lane of each block, zero elsewhere.
      start[j] = _mm512_slli_epi32(_mm512_maskz_permutexvar_epi32(0x0101, spread, _mm512_castsi128_si512(two_sums)),
                                   Format::kOffsetShift);
    }
#pragma GCC unroll 4
    for (int i = 0; i < kRows; ++i) {
      // Rows are contiguous, so the tile reads kRows neighbouring stretches of one stream: the
      // same place in the next tile's rows is kRows rows on. Requested now, it arrives while
      // this tile multiplies — short rows (an expert's 768 columns) included, where a fixed
      // distance ahead in the same row would land inside this tile.
      if (prefetch_next) Format::Prefetch(rows[i] + kRows * row_bytes, p);
      const __m512i wv = Format::LoadPair(rows[i], p);
      const __m512 ws = _mm512_permutexvar_ps(spread, Format::PairScales(rows[i], w.cols, p));
#pragma GCC unroll 4
      for (int j = 0; j < kTokens; ++j) {
        const __m512i dot = _mm512_dpbusd_epi32(start[j], wv, xv[j]);
        acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(ws, xs[j]), acc[i][j]);
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < kTokens; ++j) y[(t + j) * w.rows + r + i] = _mm512_reduce_add_ps(acc[i][j]);
}

template <class Format, int kRows>
__attribute__((target(AGENTD_QUANTIZED_TARGET))) void RowTiles(const QuantizedTokens& x, const Matrix& w, int64_t r,
                                                               float* y) {
  int64_t t = 0;
  for (; t + 4 <= x.n; t += 4) Tile<Format, kRows, 4>(x, w, r, t, y);
  for (; t < x.n; ++t) Tile<Format, kRows, 1>(x, w, r, t, y);
}

template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET))) void RowsVnni(const QuantizedTokens& x, const Matrix& w, float* y,
                                                               int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) RowTiles<Format, 4>(x, w, r, y);
  for (; r < r1; ++r) RowTiles<Format, 1>(x, w, r, y);
}
#endif

// Rows [r0, r1) of y [x.n, w.rows] = x · Wᵀ.
template <class Format>
void Rows(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
  if (HasVnni()) return RowsVnni<Format>(x, w, y, r0, r1);
#endif
  RowsPortable<Format>(x, w, y, r0, r1);
}

}  // namespace engine::cpu::quantized_kernel

#endif  // AGENTD_ENGINE_CPU_QUANTIZED_KERNEL_H_
