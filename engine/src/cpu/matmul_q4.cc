#include "cpu/matmul_q4.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu/quantized_kernel.h"
#include "cpu/round.h"
#include "engine/dtype.h"

namespace engine::cpu::q4 {

namespace {

constexpr int kOffset = 8;

// A panel's pair of blocks (cpu/matmul_q4.h): 8 vectors of 16 rows' four-byte groups, then the
// two blocks' 16 f16 scales each.
constexpr int64_t kGroupsBytes = 8 * 64;
constexpr int64_t kPairBytes = kGroupsBytes + 2 * kPanelRows * 2;

// Where row r's panel starts (r among the panel rows): a panel takes its 16 rows' bytes.
inline const uint8_t* PanelOf(const uint8_t* quantized, int64_t row_bytes, int64_t r) {
  return quantized + r / kPanelRows * kPanelRows * row_bytes;
}

// Row r's pair p from its panel: its 32 bytes as the row layout holds them, and its two scales.
inline void PairFromPanel(const uint8_t* panel, int64_t r, int64_t p, uint8_t bytes[32], uint16_t scales[2]) {
  const uint8_t* pair = panel + p * kPairBytes;
  const int64_t lane = r % kPanelRows;
  for (int64_t g = 0; g < 8; ++g) std::memcpy(bytes + 4 * g, pair + 64 * g + 4 * lane, 4);
  std::memcpy(&scales[0], pair + kGroupsBytes + 2 * lane, 2);
  std::memcpy(&scales[1], pair + kGroupsBytes + 2 * kPanelRows + 2 * lane, 2);
}

// A pair of blocks' 32 bytes (first block's levels low, second's high) as 64 signed levels.
inline void PairLevels(const uint8_t* bytes, int8_t* levels) {
  for (int64_t j = 0; j < kQuantBlock; ++j) {
    levels[j] = static_cast<int8_t>((bytes[j] & 0x0F) - kOffset);
    levels[32 + j] = static_cast<int8_t>((bytes[j] >> 4) - kOffset);
  }
}

// A pair of blocks' 32 bytes and two f16 scales as 64 float32 weights, with nothing allocated:
// MLA's absorbed query reads a head's W_UK rows through this at every decode step.
inline void DequantizePair(const uint8_t* bytes, const uint16_t halves[2], float* out) {
  int8_t levels[64];
  PairLevels(bytes, levels);
  const float low_scale = F16ToF32(halves[0]), high_scale = F16ToF32(halves[1]);
  for (int64_t j = 0; j < kQuantBlock; ++j) {
    out[j] = low_scale * static_cast<float>(levels[j]);
    out[32 + j] = high_scale * static_cast<float>(levels[32 + j]);
  }
}

// A row: per pair of blocks 32 bytes (first block's levels low, second's high), then the
// blocks' f16 scales.
struct Format {
  static constexpr int kOffsetShift = 3;
  static constexpr bool kBytesInPlace = false;  // nibbles: AMX reads them unpacked per panel

  static int64_t RowBytes(int64_t cols) { return cols / 2 + cols / kQuantBlock * 2; }

  // Row r's levels and scales, from its panel or its row.
  static void RowLevels(const Matrix& w, int64_t r, int8_t* levels, float* scales) {
    if (r >= w.panel_rows) return Levels(w.quantized + r * RowBytes(w.cols), w.cols, levels, scales);
    const uint8_t* panel = PanelOf(w.quantized, RowBytes(w.cols), r);
    for (int64_t p = 0; p < w.cols / 64; ++p) {
      uint8_t bytes[32];
      uint16_t halves[2];
      PairFromPanel(panel, r, p, bytes, halves);
      PairLevels(bytes, levels + p * 64);
      scales[2 * p] = F16ToF32(halves[0]);
      scales[2 * p + 1] = F16ToF32(halves[1]);
    }
  }

  static void Levels(const uint8_t* row, int64_t cols, int8_t* levels, float* scales) {
    for (int64_t p = 0; p < cols / 64; ++p) PairLevels(row + p * 32, levels + p * 64);
    for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
      uint16_t half;
      std::memcpy(&half, row + cols / 2 + 2 * b, 2);
      scales[b] = F16ToF32(half);
    }
  }

#if defined(__x86_64__)
  __attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) static inline void Prefetch(const uint8_t* row,
                                                                                             int64_t pair) {
    if ((pair & 1) == 0) _mm_prefetch(reinterpret_cast<const char*>(row + pair * 32), _MM_HINT_T1);
  }
  __attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) static inline __m512i LoadPair(const uint8_t* row,
                                                                                               int64_t pair) {
    const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + pair * 32));
    const __m256i low = _mm256_set1_epi8(0x0F);
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(packed, low)),
                              _mm256_and_si256(_mm256_srli_epi16(packed, 4), low), 1);
  }
  __attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) static inline __m512 PairScales(const uint8_t* row,
                                                                                                int64_t cols,
                                                                                                int64_t pair) {
    int32_t two_halves;
    std::memcpy(&two_halves, row + cols / 2 + 4 * pair, 4);
    return _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128(two_halves)));
  }

#endif
};

#if defined(__x86_64__)
// How far ahead of the pair being multiplied its panel's stream is requested (bytes).
constexpr int64_t kPanelAhead = 4 * kPairBytes;

// The 16 rows of a stored panel × kTokens tokens, block by block: each (row, token) starts from
// −offset · Σ q_x, adds vpdpbusd of the row's unsigned levels with the token's four-byte groups
// (broadcast to all 16 rows), and takes one fused multiply-add by the two scales' product — the
// same exact block sums and the same float operations in the same order as the row layout's
// tiles (cpu/quantized_kernel.h), so the layout changes no bit. Lanes outside `rows` are not
// stored.
template <int kTokens>
__attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) inline void StoredPanelTile(const QuantizedTokens& x,
                                                                                           const Matrix& w,
                                                                                           int64_t panel_row, int64_t t,
                                                                                           __mmask16 rows, float* y) {
  const int64_t cols = w.cols, blocks = cols / kQuantBlock, pairs = blocks / 2;
  const uint8_t* panel = w.quantized + panel_row * Format::RowBytes(cols);
  const __m512i low = _mm512_set1_epi8(0x0F);
  __m512 acc[kTokens];
#pragma GCC unroll 4
  for (int j = 0; j < kTokens; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; ++p) {
    const uint8_t* pair = panel + p * kPairBytes;
#pragma GCC unroll 9
    for (int64_t line = 0; line < kPairBytes; line += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(pair + kPanelAhead + line), _MM_HINT_T0);
    }
    __m512i packed[8];
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) packed[g] = _mm512_loadu_si512(pair + 64 * g);
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
        const __m512i levels = h == 0 ? _mm512_and_si512(packed[g], low) : _mm512_and_si512(_mm512_srli_epi16(packed[g], 4), low);
#pragma GCC unroll 4
        for (int j = 0; j < kTokens; ++j) {
          int32_t group;
          std::memcpy(&group, groups[j] + 4 * g, 4);
          sums[j] = _mm512_dpbusd_epi32(sums[j], levels, _mm512_set1_epi32(group));
        }
      }
      const __m512 weight_scales =
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(pair + kGroupsBytes + h * 2 * kPanelRows)));
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

// Rows [r0, r1) (whole panels) on AMX tiles, the weights as the B operand: a stored panel's pair
// is already laid out as B tiles are (a weight row per column, four bytes per K-group), so it is
// only unpacked from nibbles, once per panel — block 0's 8 groups, 8 zero rows, block 1's 8
// groups, so that one tile of 16 K-groups from the start takes block 0 alone and one from the
// eighth row block 1 alone. The tokens are the A operand straight from their quantised rows
// (signed × unsigned: tdpbsud). Per (row, token) the arithmetic is the other kernels': each
// block's exact sum plus −offset · Σ q_x, then one fused multiply-add by d_w · d_x.
__attribute__((target("amx-tile,amx-int8," AGENTD_QUANTIZED_TARGET))) void StoredPanelsAmx(const QuantizedTokens& x,
                                                                                          const Matrix& w, float* y,
                                                                                          int64_t r0, int64_t r1) {
  amx::ConfigureTiles();
  constexpr int64_t kGroup = 16, kUnpackedPairBytes = 24 * 64;
  const int64_t cols = w.cols, blocks = cols / kQuantBlock, pairs = blocks / 2, n = x.n;
  const int64_t row_bytes = Format::RowBytes(cols), groups = (n + kGroup - 1) / kGroup, tail = n % kGroup;
  thread_local std::vector<uint8_t> weights;
  thread_local std::vector<int8_t> last_tokens;
  weights.assign(static_cast<size_t>(pairs * kUnpackedPairBytes), 0);
  if (tail > 0) {  // the last group's tokens padded to a whole tile with zeros
    last_tokens.assign(static_cast<size_t>(kGroup * cols), 0);
    std::memcpy(last_tokens.data(), x.bytes + (n - tail) * cols, static_cast<size_t>(tail * cols));
  }
  const __m512i low = _mm512_set1_epi8(0x0F);
  alignas(64) int32_t products[2][kGroup][kPanelRows];  // [block of the pair][token][row]
  for (int64_t r = r0; r < r1; r += kPanelRows) {
    const uint8_t* panel = w.quantized + r * row_bytes;
    for (int64_t p = 0; p < pairs; ++p) {
      for (int64_t g = 0; g < 8; ++g) {
        const __m512i bytes = _mm512_loadu_si512(panel + p * kPairBytes + 64 * g);
        uint8_t* unpacked = weights.data() + p * kUnpackedPairBytes;
        _mm512_storeu_si512(unpacked + 64 * g, _mm512_and_si512(bytes, low));
        _mm512_storeu_si512(unpacked + 64 * (16 + g), _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low));
      }
    }
    for (int64_t group = 0; group < groups; ++group) {
      const int64_t first = group * kGroup, count = std::min(kGroup, n - first);
      const int8_t* tokens = tail > 0 && group == groups - 1 ? last_tokens.data() : x.bytes + first * cols;
      __m512 acc[kGroup];  // token j's, lane i: row i
#pragma GCC unroll 16
      for (int64_t j = 0; j < kGroup; ++j) acc[j] = _mm512_setzero_ps();
      for (int64_t p = 0; p < pairs; ++p) {
        _tile_loadd(4, tokens + p * 64, cols);
        _tile_loadd(6, weights.data() + p * kUnpackedPairBytes, 64);
        _tile_loadd(7, weights.data() + p * kUnpackedPairBytes + 8 * 64, 64);
        _tile_zero(0);
        _tile_zero(1);
        _tile_dpbsud(0, 4, 6);
        _tile_dpbsud(1, 4, 7);
        _tile_stored(0, products[0], 64);
        _tile_stored(1, products[1], 64);
        for (int64_t h = 0; h < 2; ++h) {
          const int64_t b = 2 * p + h;
          const __m512 weight_scales = _mm512_cvtph_ps(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * kPairBytes + kGroupsBytes + h * 2 * kPanelRows)));
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

// Rows [r0, r1) among the panel rows: each panel they touch, its rows outside them masked.
__attribute__((target(AGENTD_QUANTIZED_TARGET))) void StoredPanelRows(const QuantizedTokens& x, const Matrix& w,
                                                                      float* y, int64_t r0, int64_t r1) {
  for (int64_t panel_row = r0 / kPanelRows * kPanelRows; panel_row < r1; panel_row += kPanelRows) {
    const int64_t first = std::max(r0, panel_row) - panel_row, end = std::min(r1, panel_row + kPanelRows) - panel_row;
    const __mmask16 rows = static_cast<__mmask16>(((1u << end) - 1u) & ~((1u << first) - 1u));
    int64_t t = 0;
    for (; t + 4 <= x.n; t += 4) StoredPanelTile<4>(x, w, panel_row, t, rows, y);
    for (; t < x.n; ++t) StoredPanelTile<1>(x, w, panel_row, t, rows, y);
  }
}
#endif

// Level 0..15 of weight w at scale 1 / inverse.
// (A NaN weight has no level: 0, not a float → int conversion of NaN, which is undefined.)
inline uint8_t Level(float w, float inverse) {
  const float scaled = w * inverse;
  if (std::isnan(scaled)) return static_cast<uint8_t>(kOffset);
  return static_cast<uint8_t>(std::clamp(RoundToNearest(scaled), -8.0f, 7.0f) + kOffset);
}

// The scale that rounds the block with the least squared error. The first candidate is
// llama.cpp's: the weight of largest magnitude, sign kept, becomes −8 · d, so the 16 levels
// −8..7 span the block with the extreme exactly representable; slightly larger scales trade
// the extreme's error for the others' (which are most of the block), and the best is kept — 3%
// less error over normal weights. Any d is a valid Q4_0 block: this changes which blocks are
// written, not how they are read.
void QuantizeBlock(const float* v, uint8_t* block) {
  float extreme = 0;
  for (int64_t i = 0; i < kQuantBlock; ++i) {
    if (std::abs(v[i]) > std::abs(extreme)) extreme = v[i];
  }
  float best_d = extreme / -8.0f;
  float best_error = -1;
  for (int step = 0; step <= 6; ++step) {
    const float d = extreme / (-8.0f + 0.25f * static_cast<float>(step));
    const float inverse = d != 0 ? 1.0f / d : 0.0f;
    float error = 0;
    for (int64_t i = 0; i < kQuantBlock; ++i) {
      const float e = v[i] - d * RoundToNearest(std::clamp(v[i] * inverse, -8.0f, 7.0f));
      error += e * e;
    }
    if (best_error < 0 || error < best_error) {
      best_error = error;
      best_d = d;
    }
  }
  // An infinite weight makes an infinite scale, which f16 stores as inf: the largest f16 instead.
  constexpr float kLargestF16 = 65504.0f;
  const uint16_t scale = F32ToF16(std::isfinite(best_d) ? std::clamp(best_d, -kLargestF16, kLargestF16)
                                                        : std::copysign(kLargestF16, best_d));
  std::memcpy(block, &scale, 2);
  const float stored_d = F16ToF32(scale);  // the levels for the scale the kernels will read
  const float inverse = stored_d != 0 ? 1.0f / stored_d : 0.0f;
  for (int64_t j = 0; j < kQuantBlock / 2; ++j) {
    block[2 + j] = static_cast<uint8_t>(Level(v[j], inverse) | (Level(v[j + kQuantBlock / 2], inverse) << 4));
  }
}

}  // namespace

int64_t QuantizedBytes(int64_t rows, int64_t cols) { return rows * Format::RowBytes(cols); }

void QuantizeQ4_0(const float* w, int64_t cols, uint8_t* blocks) {
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) QuantizeBlock(w + b * kQuantBlock, blocks + b * kQ4_0BlockBytes);
}

bool FromQ4_0(const uint8_t* blocks, int64_t cols, uint8_t* out) {
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const uint8_t* block = blocks + b * kQ4_0BlockBytes;
    uint16_t scale;
    std::memcpy(&scale, block, 2);
    if (!IsFiniteF16(scale)) return false;
    std::memcpy(out + cols / 2 + 2 * b, block, 2);
    uint8_t* pair = out + (b / 2) * 32;
    const int shift = (b % 2) * 4;
    for (int64_t j = 0; j < kQuantBlock; ++j) {
      const uint8_t level = j < 16 ? block[2 + j] & 0x0F : block[2 + j - 16] >> 4;
      if (shift == 0) pair[j] = level;
      else pair[j] = static_cast<uint8_t>(pair[j] | (level << 4));
    }
  }
  return true;
}

void QuantizeRow(const float* w, int64_t cols, uint8_t* out) {
  std::vector<uint8_t> blocks(static_cast<size_t>(cols / kQuantBlock * kQ4_0BlockBytes));
  QuantizeQ4_0(w, cols, blocks.data());
  (void)FromQ4_0(blocks.data(), cols, out);  // QuantizeBlock writes finite scales only
}

void DequantizeRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out) {
  const uint8_t* row = quantized + r * Format::RowBytes(cols);
  for (int64_t p = 0; p < cols / 64; ++p) {
    uint16_t halves[2];
    std::memcpy(halves, row + cols / 2 + 4 * p, 4);
    DequantizePair(row + p * 32, halves, out + p * 64);
  }
}

void ToPanels(uint8_t* quantized, int64_t panel_rows, int64_t cols) {
  const int64_t row_bytes = Format::RowBytes(cols), pairs = cols / 64;
#pragma omp parallel
  {
    std::vector<uint8_t> rows(static_cast<size_t>(kPanelRows * row_bytes));
#pragma omp for schedule(static)
    for (int64_t panel_row = 0; panel_row < panel_rows; panel_row += kPanelRows) {
      uint8_t* panel = quantized + panel_row * row_bytes;
      std::memcpy(rows.data(), panel, rows.size());
      for (int64_t i = 0; i < kPanelRows; ++i) {
        const uint8_t* row = rows.data() + i * row_bytes;
        for (int64_t p = 0; p < pairs; ++p) {
          uint8_t* pair = panel + p * kPairBytes;
          for (int64_t g = 0; g < 8; ++g) std::memcpy(pair + 64 * g + 4 * i, row + p * 32 + 4 * g, 4);
          std::memcpy(pair + kGroupsBytes + 2 * i, row + cols / 2 + 4 * p, 2);
          std::memcpy(pair + kGroupsBytes + 2 * kPanelRows + 2 * i, row + cols / 2 + 4 * p + 2, 2);
        }
      }
    }
  }
}

void DequantizePanelRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out) {
  const uint8_t* panel = PanelOf(quantized, Format::RowBytes(cols), r);
  for (int64_t p = 0; p < cols / 64; ++p) {
    uint8_t bytes[32];
    uint16_t halves[2];
    PairFromPanel(panel, r, p, bytes, halves);
    DequantizePair(bytes, halves, out + p * 64);
  }
}

void Rows(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  const int64_t panel_end = std::clamp(w.panel_rows, r0, r1);
  if (r0 < panel_end) {
#if defined(__x86_64__)
    if (quantized_kernel::HasVnni()) StoredPanelRows(x, w, y, r0, panel_end);
    else
#endif
      quantized_kernel::RowsPortable<Format>(x, w, y, r0, panel_end);
  }
  if (panel_end < r1) quantized_kernel::Rows<Format>(x, w, y, panel_end, r1);
}

void RowsPortable(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  quantized_kernel::RowsPortable<Format>(x, w, y, r0, r1);
}

void RowsAmx(const QuantizedTokens& x, const uint8_t* packed, const Matrix& w, float* y, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
  const int64_t panel_end = std::clamp(w.panel_rows, r0, r1);
  if (r0 < panel_end) StoredPanelsAmx(x, w, y, r0, panel_end);
  if (panel_end < r1) quantized_kernel::RowsAmx<Format>(packed, x.n, w, y, panel_end, r1);
#endif
}

bool NeedsPackedTokens(const Matrix& w) { return w.panel_rows < w.rows / kPanelRows * kPanelRows; }

}  // namespace engine::cpu::q4
