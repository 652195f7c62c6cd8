// The product of quantised weight rows with quantised tokens (cpu/quantized_tokens.h), shared by
// the 8-bit and 4-bit formats, which differ only in how a pair of blocks (64 weights) and their
// two scales are read. A format stores each row as its weights' unsigned bytes (or nibbles) —
// the signed level plus the format's offset (2^kOffsetShift) — followed by the row's block
// scales, so 64 weights load as one 512-bit vector. Each block's product is an exact int32 sum:
// AVX512-VNNI's vpdpbusd (unsigned weight bytes × signed token bytes) started from
// −offset · Σ token bytes, which takes the offset back off; the 16 lanes (8 per block) become
// float32 and add in, scaled by the two blocks' scales, to accumulators summed once per output.
// Blocks are summed in the same order for every token whatever its batch. The loader stores a
// matrix's whole panels of 16 rows with a row per lane (cpu/quantized_panels.h), so that a
// token's four-byte group broadcast to every lane multiplies 16 rows at once and no lanes need
// summing into blocks (StoredPanelTile; AMX takes a panel as its B operand as it is): the same
// exact block sums and the same fused multiply-adds, a third of the instructions. Rows kept in
// row layout (MLA's kv_b) are packed so from 8 tokens on (PackPanel16).
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

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu/matmul_amx.h"
#include "cpu/matrix.h"
#include "cpu/quantized_amx.h"
#include "cpu/quantized_panels.h"
#include "cpu/quantized_tokens.h"

namespace engine::cpu::quantized_kernel {

// Σ over blocks of (Σ level · q_x) · d_w · d_x, blocks in order: the portable path, from each
// row's signed levels and scales (Format::Levels), whatever the row's layout.
template <class Format>
void RowsPortable(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  const int64_t blocks = w.cols / kQuantBlock;
  std::vector<int8_t> levels(static_cast<size_t>(w.cols));
  std::vector<float> scales(static_cast<size_t>(blocks));
  std::vector<uint8_t> scratch;
  for (int64_t r = r0; r < r1; ++r) {
    Format::Levels(RowOf<Format>(w, r, &scratch), w.cols, levels.data(), scales.data());
    for (int64_t t = 0; t < x.n; ++t) {
      float sum = 0;
      for (int64_t b = 0; b < blocks; ++b) {
        int32_t dot = 0;
        for (int64_t i = 0; i < kQuantBlock; ++i) {
          dot += int32_t{levels[b * kQuantBlock + i]} * x.bytes[t * w.cols + b * kQuantBlock + i];
        }
        sum = std::fma(static_cast<float>(dot), scales[b] * x.scales[t * blocks + b], sum);
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

// Four rows' products with one token (vpdpbusd lanes, 8 per block) summed per block, exactly:
// lanes 0-3 hold the first block's sums for rows 0-3, lanes 8-11 the second block's.
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline __m512i BlockSums4(__m512i v0, __m512i v1,
                                                                                         __m512i v2, __m512i v3) {
  const __m512i a = _mm512_add_epi32(_mm512_unpacklo_epi32(v0, v1), _mm512_unpackhi_epi32(v0, v1));
  const __m512i b = _mm512_add_epi32(_mm512_unpacklo_epi32(v2, v3), _mm512_unpackhi_epi32(v2, v3));
  const __m512i c = _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
  return _mm512_add_epi32(c, _mm512_shuffle_i32x4(c, c, _MM_SHUFFLE(2, 3, 0, 1)));
}

// A token's pair of blocks p: its 64 bytes, its two scales spread over the lanes of their blocks,
// and the start of each block's sum, −offset · Σ q_x in the block's first lane (zero elsewhere),
// which takes the weights' unsigned offset back off.
struct TokenPair {
  __m512i bytes, start;
  __m512 scales;
};
template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline TokenPair LoadTokenPair(const QuantizedTokens& x,
                                                                                              int64_t cols, int64_t token,
                                                                                              int64_t p) {
  const int64_t blocks = cols / kQuantBlock;
  const __m512i spread = PairIndex();
  const __m128i two_scales = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x.scales + token * blocks + 2 * p));
  const __m128i two_sums = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x.negated_sums + token * blocks + 2 * p));
  return {_mm512_loadu_si512(x.bytes + token * cols + p * 64),
          _mm512_slli_epi32(_mm512_maskz_permutexvar_epi32(0x0101, spread, _mm512_castsi128_si512(two_sums)),
                            Format::kOffsetShift),
          _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_castsi128_ps(two_scales)))};
}

// Four rows' pair of blocks p into wv, and their scales laid out as the block sums are (lanes 0-3:
// the rows' first-block scales, lanes 8-11: their second-block scales). With `prefetch`, the
// same place `ahead` bytes on is requested: rows are contiguous, so a tile reads neighbouring
// stretches of one stream and the next tile's rows are a tile's rows on. Requested now, they
// arrive while this tile multiplies — short rows (an expert's 768 columns) included, where a
// fixed distance ahead in the same row would land inside this tile.
template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline __m512 LoadFourRows(const uint8_t* const rows[4],
                                                                                          int64_t cols, int64_t p,
                                                                                          bool prefetch, int64_t ahead,
                                                                                          __m512i wv[4]) {
  __m128 pair_scales[4];  // lane 0: the first block's scale, lane 1: the second's
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    if (prefetch) Format::Prefetch(rows[i] + ahead, p);
    wv[i] = Format::LoadPair(rows[i], p);
    pair_scales[i] = _mm512_castps512_ps128(Format::PairScales(rows[i], cols, p));
  }
  const __m128 w01 = _mm_unpacklo_ps(pair_scales[0], pair_scales[1]);
  const __m128 w23 = _mm_unpacklo_ps(pair_scales[2], pair_scales[3]);
  return _mm512_insertf32x4(_mm512_castps128_ps512(_mm_movelh_ps(w01, w23)), _mm_movehl_ps(w23, w01), 2);
}

// acc (lane i: row i) += each block's exact sum of four rows with one token, times the two
// scales' product, the first block then the second.
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline void AddFourRowSums(const TokenPair& token,
                                                                                          const __m512i wv[4],
                                                                                          __m512 ws, __m128& acc) {
  const __m512i sums =
      BlockSums4(_mm512_dpbusd_epi32(token.start, wv[0], token.bytes), _mm512_dpbusd_epi32(token.start, wv[1], token.bytes),
                 _mm512_dpbusd_epi32(token.start, wv[2], token.bytes), _mm512_dpbusd_epi32(token.start, wv[3], token.bytes));
  const __m512 exact = _mm512_cvtepi32_ps(sums);
  const __m512 scales = _mm512_mul_ps(ws, token.scales);
  acc = _mm_fmadd_ps(_mm512_castps512_ps128(exact), _mm512_castps512_ps128(scales), acc);
  acc = _mm_fmadd_ps(_mm512_extractf32x4_ps(exact, 2), _mm512_extractf32x4_ps(scales, 2), acc);
}

// 4 weight rows × kTokens tokens over every pair of blocks. Each weight pair is loaded once for
// all kTokens tokens, each token pair once for all 4 rows. Per (row, token) the arithmetic is
// the AMX kernel's (RowsAmx): the block's exact sum, then one fused multiply-add by the two
// scales' product, block after block — so which kernel takes a batch changes no bit.
template <class Format, int kTokens>
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline void Tile(const QuantizedTokens& x,
                                                                                 const Matrix& w, int64_t r,
                                                                                 int64_t t, float* y) {
  constexpr int kRows = 4;
  const int64_t row_bytes = Format::RowBytes(w.cols), pairs = w.cols / kQuantBlock / 2;
  const uint8_t* rows[kRows];
#pragma GCC unroll 4
  for (int i = 0; i < kRows; ++i) rows[i] = w.quantized + (r + i) * row_bytes;
  __m128 acc[kTokens];  // lane i: row i
#pragma GCC unroll 4
  for (int j = 0; j < kTokens; ++j) acc[j] = _mm_setzero_ps();
  const bool prefetch_next = r + 2 * kRows <= w.rows;  // the next tile's rows, when the matrix has them
  for (int64_t p = 0; p < pairs; ++p) {
    TokenPair tokens[kTokens];
#pragma GCC unroll 4
    for (int j = 0; j < kTokens; ++j) tokens[j] = LoadTokenPair<Format>(x, w.cols, t + j, p);
    __m512i wv[kRows];
    const __m512 ws = LoadFourRows<Format>(rows, w.cols, p, prefetch_next, kRows * row_bytes, wv);
#pragma GCC unroll 4
    for (int j = 0; j < kTokens; ++j) AddFourRowSums(tokens[j], wv, ws, acc[j]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < kTokens; ++j) _mm_storeu_ps(y + (t + j) * w.rows + r, acc[j]);
}

// 8 weight rows × 1 token: decode's tile. Tile<Format, 1> twice over, but each token pair is
// loaded and spread once for the 8 rows (a tenth of the tile's instructions at 4 rows, where two
// cores issue about as fast as the weights arrive). Per (row, token) the arithmetic is Tile's.
template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline void Tile8(const QuantizedTokens& x,
                                                                                  const Matrix& w, int64_t r,
                                                                                  int64_t t, float* y) {
  constexpr int kRows = 8;
  const int64_t row_bytes = Format::RowBytes(w.cols), pairs = w.cols / kQuantBlock / 2;
  const uint8_t* rows[kRows];
#pragma GCC unroll 8
  for (int i = 0; i < kRows; ++i) rows[i] = w.quantized + (r + i) * row_bytes;
  __m128 acc[2] = {_mm_setzero_ps(), _mm_setzero_ps()};  // rows 0-3, rows 4-7
  const bool prefetch_next = r + 2 * kRows <= w.rows;
  for (int64_t p = 0; p < pairs; ++p) {
    const TokenPair token = LoadTokenPair<Format>(x, w.cols, t, p);
#pragma GCC unroll 2
    for (int half = 0; half < 2; ++half) {
      __m512i wv[4];
      const __m512 ws = LoadFourRows<Format>(rows + 4 * half, w.cols, p, prefetch_next, kRows * row_bytes, wv);
      AddFourRowSums(token, wv, ws, acc[half]);
    }
  }
  _mm_storeu_ps(y + t * w.rows + r, acc[0]);
  _mm_storeu_ps(y + t * w.rows + r + 4, acc[1]);
}

// One weight row (the rows past the last whole 4) with one token: the same arithmetic.
template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET))) void OneRow(const QuantizedTokens& x, const Matrix& w, int64_t r,
                                                             int64_t t, float* y) {
  const int64_t row_bytes = Format::RowBytes(w.cols), blocks = w.cols / kQuantBlock, pairs = blocks / 2;
  const uint8_t* row = w.quantized + r * row_bytes;
  const __m512i spread = PairIndex();
  float acc = 0;
  for (int64_t p = 0; p < pairs; ++p) {
    const __m128i two_sums = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x.negated_sums + t * blocks + 2 * p));
    const __m512i start = _mm512_slli_epi32(
        _mm512_maskz_permutexvar_epi32(0x0101, spread, _mm512_castsi128_si512(two_sums)), Format::kOffsetShift);
    const __m512i dot = _mm512_dpbusd_epi32(start, Format::LoadPair(row, p), _mm512_loadu_si512(x.bytes + t * w.cols + p * 64));
    alignas(16) float scales[4];
    _mm_store_ps(scales, _mm512_castps512_ps128(Format::PairScales(row, w.cols, p)));
    const float* token_scales = x.scales + t * blocks + 2 * p;
    acc = std::fma(static_cast<float>(_mm512_mask_reduce_add_epi32(0x00FF, dot)), scales[0] * token_scales[0], acc);
    acc = std::fma(static_cast<float>(_mm512_mask_reduce_add_epi32(0xFF00, dot)), scales[1] * token_scales[1], acc);
  }
  y[t * w.rows + r] = acc;
}

template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET))) void RowTiles(const QuantizedTokens& x, const Matrix& w, int64_t r,
                                                               float* y) {
  int64_t t = 0;
  for (; t + 4 <= x.n; t += 4) Tile<Format, 4>(x, w, r, t, y);
  for (; t < x.n; ++t) Tile<Format, 1>(x, w, r, t, y);
}

// A panel of 16 weight rows laid out a row per lane: for each block, its 8 four-byte groups as
// 8 vectors of the 16 rows' groups (lane i: row i), and the 16 rows' scales. Products then need
// no reduction across lanes: a token's group broadcast to every lane multiplies all 16 rows.
struct Panel16 {
  std::vector<int32_t> groups;  // [blocks][8][16]
  std::vector<float> scales;    // [blocks][16]
};

template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET))) void PackPanel16(const Matrix& w, int64_t r, Panel16* panel) {
  const int64_t cols = w.cols, blocks = cols / kQuantBlock, pairs = blocks / 2, row_bytes = Format::RowBytes(cols);
  panel->groups.resize(static_cast<size_t>(blocks * 8 * 16));
  panel->scales.resize(static_cast<size_t>(blocks * 16));
  const __m512i lane_rows = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0);
  alignas(64) int32_t tile[16][16];  // [row][group of the pair]
  alignas(64) float pair_scales[2][16];
  for (int64_t p = 0; p < pairs; ++p) {
    for (int i = 0; i < 16; ++i) {
      const uint8_t* row = w.quantized + (r + i) * row_bytes;
      _mm512_store_si512(tile[i], Format::LoadPair(row, p));
      alignas(16) float two[4];
      _mm_store_ps(two, _mm512_castps512_ps128(Format::PairScales(row, cols, p)));
      pair_scales[0][i] = two[0];
      pair_scales[1][i] = two[1];
    }
    for (int g = 0; g < 16; ++g) {
      _mm512_storeu_si512(panel->groups.data() + (p * 16 + g) * 16,
                          _mm512_i32gather_epi32(_mm512_add_epi32(lane_rows, _mm512_set1_epi32(g)), &tile[0][0], 4));
    }
    _mm512_storeu_ps(panel->scales.data() + 2 * p * 16, _mm512_load_ps(pair_scales[0]));
    _mm512_storeu_ps(panel->scales.data() + (2 * p + 1) * 16, _mm512_load_ps(pair_scales[1]));
  }
}

// 16 rows × 4 tokens from a packed panel, block by block: each (row, token) takes the block's
// exact sum — −offset · Σ q_x, then vpdpbusd of the row's unsigned bytes with the token's
// signed ones, four at a time — and one fused multiply-add by the two scales' product, as Tile
// does: the same bits, without Tile's reduction of lanes into block sums.
template <class Format, int kTokens>
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline void PanelTile(const QuantizedTokens& x,
                                                                                     const Panel16& panel, int64_t cols,
                                                                                     int64_t rows, int64_t r, int64_t t,
                                                                                     float* y) {
  const int64_t blocks = cols / kQuantBlock;
  __m512 acc[kTokens];
#pragma GCC unroll 4
  for (int j = 0; j < kTokens; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i sums[kTokens];
    const int32_t* token_groups[kTokens];
#pragma GCC unroll 4
    for (int j = 0; j < kTokens; ++j) {
      sums[j] = _mm512_set1_epi32(x.negated_sums[(t + j) * blocks + b] * (1 << Format::kOffsetShift));
      token_groups[j] = reinterpret_cast<const int32_t*>(x.bytes + (t + j) * cols + b * kQuantBlock);
    }
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m512i weights = _mm512_loadu_si512(panel.groups.data() + (b * 8 + g) * 16);
#pragma GCC unroll 4
      for (int j = 0; j < kTokens; ++j) sums[j] = _mm512_dpbusd_epi32(sums[j], weights, _mm512_set1_epi32(token_groups[j][g]));
    }
    const __m512 weight_scales = _mm512_loadu_ps(panel.scales.data() + b * 16);
#pragma GCC unroll 4
    for (int j = 0; j < kTokens; ++j) {
      const __m512 scales = _mm512_mul_ps(weight_scales, _mm512_set1_ps(x.scales[(t + j) * blocks + b]));
      acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[j]), scales, acc[j]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < kTokens; ++j) _mm512_storeu_ps(y + (t + j) * rows + r, acc[j]);
}

// Prefill: 16 rows at a time packed once for every token (the packing costs a pass over the
// panel's bytes; each token then costs 8 vpdpbusd per block and 16 rows instead of Tile's
// reductions), from this many tokens on.
constexpr int64_t kPanelTokens = 8;

template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET))) void RowsVnni(const QuantizedTokens& x, const Matrix& w, float* y,
                                                               int64_t r0, int64_t r1) {
  int64_t r = r0;
  if (x.n < 4) {  // decode: eight rows at a time for each token
    for (; r + 8 <= r1; r += 8) {
      for (int64_t t = 0; t < x.n; ++t) Tile8<Format>(x, w, r, t, y);
    }
  }
  if (x.n >= kPanelTokens && w.cols % (2 * kQuantBlock) == 0) {
    Panel16 panel;
    for (; r + 16 <= r1; r += 16) {
      PackPanel16<Format>(w, r, &panel);
      int64_t t = 0;
      for (; t + 4 <= x.n; t += 4) PanelTile<Format, 4>(x, panel, w.cols, w.rows, r, t, y);
      for (; t < x.n; ++t) PanelTile<Format, 1>(x, panel, w.cols, w.rows, r, t, y);
    }
  }
  for (; r + 4 <= r1; r += 4) RowTiles<Format>(x, w, r, y);
  for (; r < r1; ++r) {
    for (int64_t t = 0; t < x.n; ++t) OneRow<Format>(x, w, r, t, y);
  }
}

// One pair of blocks on AMX tiles: tile 4 from `a` (16 rows of the pair's 64 bytes, `a_stride`
// apart), tiles 6 and 7 from `b` (24 rows of 64 bytes: the first block's 8 K-groups, 8 zero rows,
// the second's), each block's exact products into products[block] ([16][16] int32). The
// unsigned operand is `a` (weights) for row-layout rows and `b` (a panel's weights) for stored
// panels, the tokens being the other.
template <bool kWeightsInA>
__attribute__((target("amx-tile,amx-int8"), always_inline)) inline void PairProducts(const void* a, int64_t a_stride,
                                                                                    const uint8_t* b,
                                                                                    int32_t products[2][16][16]) {
  _tile_loadd(4, a, a_stride);
  _tile_loadd(6, b, 64);
  _tile_loadd(7, b + 8 * 64, 64);
  _tile_zero(0);
  _tile_zero(1);
  if constexpr (kWeightsInA) {
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
  } else {
    _tile_dpbsud(0, 4, 6);
    _tile_dpbsud(1, 4, 7);
  }
  _tile_stored(0, products[0], 64);
  _tile_stored(1, products[1], 64);
}

// Rows [r0, r1) (a multiple of 16) on AMX tiles from tokens packed by quantized_amx::PackTokens
// (see cpu/quantized_amx.h). For each 16-row panel and group of 16 tokens, 16 accumulators —
// one per row, a lane per token — take each block in order:
//   acc[i] += float(C[i] − offset · Σ q_x) · (d_w[i] · d_x)
// where C is the tile's exact product of the unsigned weight bytes with the token bytes.
template <class Format>
__attribute__((target("amx-tile,amx-int8," AGENTD_QUANTIZED_TARGET))) void RowLayoutAmx(const uint8_t* packed, int64_t n,
                                                                                       const Matrix& w, float* y,
                                                                                       int64_t r0, int64_t r1) {
  amx::ConfigureTiles();
  constexpr int64_t kPanel = 16, kPairTileBytes = 24 * 64;
  const int64_t cols = w.cols, m = w.rows, pairs = cols / 64, blocks = cols / kQuantBlock;
  const int64_t row_bytes = Format::RowBytes(cols), groups = (n + kPanel - 1) / kPanel;
  // Per panel: the weight scales [blocks][16], and for formats whose bytes are not stored whole
  // (4 bits), the unsigned bytes [16][cols].
  thread_local std::vector<float> scales;
  thread_local std::vector<uint8_t> unpacked;
  scales.resize(static_cast<size_t>(blocks * kPanel));
  if (!Format::kBytesInPlace) unpacked.resize(static_cast<size_t>(kPanel * cols));
  alignas(64) int32_t products[2][kPanel][kPanel];
  alignas(64) float out[kPanel][kPanel];
  for (int64_t r = r0; r < r1; r += kPanel) {
    const uint8_t* first_row = w.quantized + r * row_bytes;
    for (int64_t i = 0; i < kPanel; ++i) {
      const uint8_t* row = first_row + i * row_bytes;
      for (int64_t p = 0; p < pairs; ++p) {
        alignas(64) float two[16];
        _mm512_store_ps(two, Format::PairScales(row, cols, p));
        scales[(2 * p) * kPanel + i] = two[0];
        scales[(2 * p + 1) * kPanel + i] = two[1];
        if (!Format::kBytesInPlace) _mm512_storeu_si512(unpacked.data() + i * cols + p * 64, Format::LoadPair(row, p));
      }
    }
    const uint8_t* a = Format::kBytesInPlace ? first_row : unpacked.data();
    const int64_t a_stride = Format::kBytesInPlace ? row_bytes : cols;
    for (int64_t g = 0; g < groups; ++g) {
      const quantized_amx::PackedGroup group(packed, g, cols);
      __m512 acc[kPanel];
#pragma GCC unroll 16
      for (int64_t i = 0; i < kPanel; ++i) acc[i] = _mm512_setzero_ps();
      for (int64_t p = 0; p < pairs; ++p) {
        PairProducts<true>(a + p * 64, a_stride, group.tiles + p * kPairTileBytes, products);
        for (int64_t h = 0; h < 2; ++h) {
          const int64_t b = 2 * p + h;
          const __m512 token_scales = _mm512_loadu_ps(group.scales + b * kPanel);
          const __m512i offset_sums =
              _mm512_slli_epi32(_mm512_loadu_si512(group.negated_sums + b * kPanel), Format::kOffsetShift);
          const float* weight_scales = scales.data() + b * kPanel;
#pragma GCC unroll 16
          for (int64_t i = 0; i < kPanel; ++i) {
            const __m512i exact = _mm512_add_epi32(_mm512_load_si512(products[h][i]), offset_sums);
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact),
                                     _mm512_mul_ps(_mm512_set1_ps(weight_scales[i]), token_scales), acc[i]);
          }
        }
      }
#pragma GCC unroll 16
      for (int64_t i = 0; i < kPanel; ++i) _mm512_store_ps(out[i], acc[i]);
      for (int64_t j = 0; j < kPanel && g * kPanel + j < n; ++j) {
        float* dst = y + (g * kPanel + j) * m + r;
        for (int64_t i = 0; i < kPanel; ++i) dst[i] = out[i][j];
      }
    }
  }
}

// How far ahead of the pair being multiplied a panel's stream is requested: four pairs (two to
// sixteen measured the same within noise with bench/quantized_layouts; none was 1-9% slower).
template <class Format>
constexpr int64_t PanelAhead() {
  return 4 * PanelPairBytes<Format>();
}

// The 16 rows of a stored panel (cpu/quantized_panels.h) × kTokens tokens, block by block: each
// (row, token) starts from −offset · Σ q_x, adds vpdpbusd of the row's unsigned levels
// (Format::GroupLevels) with the token's four-byte groups broadcast to all 16 rows, and takes
// one fused multiply-add by the two scales' product — the same exact block sums and the same
// float operations in the same order as Tile's, so the layout changes no bit. Lanes outside
// `rows` are not stored.
template <class Format, int kTokens>
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline void StoredPanelTile(const QuantizedTokens& x,
                                                                                           const Matrix& w,
                                                                                           int64_t panel_row, int64_t t,
                                                                                           __mmask16 rows, float* y) {
  constexpr int64_t kPair = PanelPairBytes<Format>(), kScales = PanelScalesAt<Format>();
  const int64_t cols = w.cols, blocks = cols / kQuantBlock, pairs = blocks / 2;
  const uint8_t* panel = w.quantized + panel_row * Format::RowBytes(cols);
  __m512 acc[kTokens];
#pragma GCC unroll 4
  for (int j = 0; j < kTokens; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    const uint8_t* pair = panel + p * kPair;
#pragma GCC unroll 17
    for (int64_t line = 0; line < kPair; line += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(pair + PanelAhead<Format>() + line), _MM_HINT_T0);
    }
    __m512i packed[Format::kPanelVectors];
#pragma GCC unroll 16
    for (int v = 0; v < Format::kPanelVectors; ++v) packed[v] = _mm512_loadu_si512(pair + 64 * v);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const int64_t b = 2 * p + h;
      __m512i sums[kTokens];
      const int8_t* groups[kTokens];
#pragma GCC unroll 4
      for (int j = 0; j < kTokens; ++j) {
        sums[j] = _mm512_set1_epi32(x.negated_sums[(t + j) * blocks + b] * (1 << Format::kOffsetShift));
        groups[j] = x.bytes + (t + j) * cols + b * kQuantBlock;
      }
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        const __m512i levels = Format::GroupLevels(packed, h, g);
#pragma GCC unroll 4
        for (int j = 0; j < kTokens; ++j) {
          int32_t group;
          std::memcpy(&group, groups[j] + 4 * g, 4);
          sums[j] = _mm512_dpbusd_epi32(sums[j], levels, _mm512_set1_epi32(group));
        }
      }
      const __m512 weight_scales =
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(pair + kScales + h * 2 * kPanelRows)));
#pragma GCC unroll 4
      for (int j = 0; j < kTokens; ++j) {
        const __m512 scales = _mm512_mul_ps(weight_scales, _mm512_set1_ps(x.scales[(t + j) * blocks + b]));
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[j]), scales, acc[j]);
      }
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < kTokens; ++j) _mm512_mask_storeu_ps(y + (t + j) * w.rows + panel_row, rows, acc[j]);
}

// Rows [r0, r1) among the panel rows: each panel they touch, its rows outside them masked.
template <class Format>
__attribute__((target(AGENTD_QUANTIZED_TARGET))) void StoredPanelRows(const QuantizedTokens& x, const Matrix& w,
                                                                      float* y, int64_t r0, int64_t r1) {
  for (int64_t panel_row = r0 / kPanelRows * kPanelRows; panel_row < r1; panel_row += kPanelRows) {
    const int64_t first = std::max(r0, panel_row) - panel_row, end = std::min(r1, panel_row + kPanelRows) - panel_row;
    const __mmask16 rows = static_cast<__mmask16>(((1u << end) - 1u) & ~((1u << first) - 1u));
    int64_t t = 0;
    for (; t + 4 <= x.n; t += 4) StoredPanelTile<Format, 4>(x, w, panel_row, t, rows, y);
    for (; t < x.n; ++t) StoredPanelTile<Format, 1>(x, w, panel_row, t, rows, y);
  }
}

// Rows [r0, r1) (whole panels) on AMX tiles, the weights as the B operand: a stored panel's pair
// is already laid out as B tiles are (a weight row per column, four bytes per K-group), so it is
// only unpacked to bytes, once per panel — block 0's 8 groups, 8 zero rows, block 1's 8 groups,
// so that one tile of 16 K-groups from the start takes block 0 alone and one from the eighth
// row block 1 alone. The tokens are the A operand straight from their quantised rows (signed ×
// unsigned: tdpbsud). Per (row, token) the arithmetic is the other kernels': each block's exact
// sum plus −offset · Σ q_x, then one fused multiply-add by d_w · d_x.
template <class Format>
__attribute__((target("amx-tile,amx-int8," AGENTD_QUANTIZED_TARGET))) void StoredPanelsAmx(const QuantizedTokens& x,
                                                                                          const Matrix& w, float* y,
                                                                                          int64_t r0, int64_t r1) {
  amx::ConfigureTiles();
  constexpr int64_t kGroup = 16, kUnpackedPairBytes = 24 * 64;
  constexpr int64_t kPair = PanelPairBytes<Format>(), kScales = PanelScalesAt<Format>();
  const int64_t cols = w.cols, blocks = cols / kQuantBlock, pairs = blocks / 2, n = x.n;
  const int64_t row_bytes = Format::RowBytes(cols), groups = (n + kGroup - 1) / kGroup, tail = n % kGroup;
  thread_local std::vector<uint8_t> weights;
  thread_local std::vector<int8_t> last_tokens;
  weights.assign(static_cast<size_t>(pairs * kUnpackedPairBytes), 0);
  if (tail > 0) {  // the last group's tokens padded to a whole tile with zeros
    last_tokens.assign(static_cast<size_t>(kGroup * cols), 0);
    std::memcpy(last_tokens.data(), x.bytes + (n - tail) * cols, static_cast<size_t>(tail * cols));
  }
  alignas(64) int32_t products[2][kGroup][kPanelRows];  // [block of the pair][token][row]
  for (int64_t r = r0; r < r1; r += kPanelRows) {
    const uint8_t* panel = w.quantized + r * row_bytes;
    for (int64_t p = 0; p < pairs; ++p) {
      __m512i packed[Format::kPanelVectors];
      for (int v = 0; v < Format::kPanelVectors; ++v) packed[v] = _mm512_loadu_si512(panel + p * kPair + 64 * v);
      uint8_t* unpacked = weights.data() + p * kUnpackedPairBytes;
      for (int h = 0; h < 2; ++h) {
        for (int g = 0; g < 8; ++g) _mm512_storeu_si512(unpacked + 64 * (16 * h + g), Format::GroupLevels(packed, h, g));
      }
    }
    for (int64_t group = 0; group < groups; ++group) {
      const int64_t first = group * kGroup, count = std::min(kGroup, n - first);
      const int8_t* tokens = tail > 0 && group == groups - 1 ? last_tokens.data() : x.bytes + first * cols;
      __m512 acc[kGroup];  // token j's, lane i: row i
#pragma GCC unroll 16
      for (int64_t j = 0; j < kGroup; ++j) acc[j] = _mm512_setzero_ps();
      for (int64_t p = 0; p < pairs; ++p) {
        PairProducts<false>(tokens + p * 64, cols, weights.data() + p * kUnpackedPairBytes, products);
        for (int64_t h = 0; h < 2; ++h) {
          const int64_t b = 2 * p + h;
          const __m512 weight_scales = _mm512_cvtph_ps(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * kPair + kScales + h * 2 * kPanelRows)));
#pragma GCC unroll 16
          for (int64_t j = 0; j < kGroup; ++j) {
            if (j >= count) break;
            const int64_t t = first + j;
            const __m512i exact = _mm512_add_epi32(_mm512_load_si512(products[h][j]),
                                                   _mm512_set1_epi32(x.negated_sums[t * blocks + b] * (1 << Format::kOffsetShift)));
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact),
                                     _mm512_mul_ps(weight_scales, _mm512_set1_ps(x.scales[t * blocks + b])), acc[j]);
          }
        }
      }
#pragma GCC unroll 16
      for (int64_t j = 0; j < kGroup; ++j) {
        if (j < count) _mm512_storeu_ps(y + (first + j) * w.rows + r, acc[j]);
      }
    }
  }
}
#endif

// Rows [r0, r1) of y [x.n, w.rows] = x · Wᵀ, whatever their layout: the rows in panels first.
template <class Format>
void Rows(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  const int64_t panel_end = std::clamp(w.panel_rows, r0, r1);
#if defined(__x86_64__)
  if (HasVnni()) {
    if (r0 < panel_end) StoredPanelRows<Format>(x, w, y, r0, panel_end);
    if (panel_end < r1) RowsVnni<Format>(x, w, y, panel_end, r1);
    return;
  }
#endif
  RowsPortable<Format>(x, w, y, r0, r1);
}

// The same rows (r0 and r1 - r0 multiples of 16) on AMX tiles: those in panels straight from the
// tokens, the others from the tokens as quantized_amx::PackTokens packs them.
template <class Format>
void RowsAmx(const QuantizedTokens& x, const uint8_t* packed, const Matrix& w, float* y, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
  const int64_t panel_end = std::clamp(w.panel_rows, r0, r1);
  if (r0 < panel_end) StoredPanelsAmx<Format>(x, w, y, r0, panel_end);
  if (panel_end < r1) RowLayoutAmx<Format>(packed, x.n, w, y, panel_end, r1);
#endif
}

}  // namespace engine::cpu::quantized_kernel

#endif  // AGENTD_ENGINE_CPU_QUANTIZED_KERNEL_H_
