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

// A row: per pair of blocks 32 bytes (first block's levels low, second's high), then the
// blocks' f16 scales.
struct Format {
  static constexpr int kOffsetShift = 3;
  static constexpr bool kBytesInPlace = false;  // nibbles: AMX reads them unpacked per panel
  static constexpr int kPanelVectors = 8;       // a pair's 32 bytes (cpu/quantized_panels.h)

  static int64_t RowBytes(int64_t cols) { return cols / 2 + cols / kQuantBlock * 2; }
  static int64_t DataBytes(int64_t cols) { return cols / 2; }  // where the row's scales start

  static void Levels(const uint8_t* row, int64_t cols, int8_t* levels, float* scales) {
    for (int64_t p = 0; p < cols / 64; ++p) {
      for (int64_t j = 0; j < kQuantBlock; ++j) {
        const uint8_t byte = row[p * 32 + j];
        levels[p * 64 + j] = static_cast<int8_t>((byte & 0x0F) - kOffset);
        levels[p * 64 + 32 + j] = static_cast<int8_t>((byte >> 4) - kOffset);
      }
    }
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
  // A panel pair's unsigned levels of block h's four-byte group g for its 16 rows: vector g's
  // low nibbles for the first block, its high ones for the second.
  __attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) static inline __m512i GroupLevels(
      const __m512i packed[kPanelVectors], int h, int g) {
    const __m512i low = _mm512_set1_epi8(0x0F);
    return h == 0 ? _mm512_and_si512(packed[g], low) : _mm512_and_si512(_mm512_srli_epi16(packed[g], 4), low);
  }
#endif
};

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

// Block by block, with nothing allocated: MLA's absorbed query reads a head's W_UK rows through
// this at every decode step.
void DequantizeRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out) {
  const uint8_t* row = quantized + r * Format::RowBytes(cols);
  for (int64_t p = 0; p < cols / 64; ++p) {
    uint16_t halves[2];
    std::memcpy(halves, row + cols / 2 + 4 * p, 4);
    const float low_scale = F16ToF32(halves[0]), high_scale = F16ToF32(halves[1]);
    const uint8_t* bytes = row + p * 32;
    float* o = out + p * 64;
    for (int64_t j = 0; j < kQuantBlock; ++j) {
      o[j] = low_scale * static_cast<float>((bytes[j] & 0x0F) - kOffset);
      o[32 + j] = high_scale * static_cast<float>((bytes[j] >> 4) - kOffset);
    }
  }
}

void ToPanels(uint8_t* quantized, int64_t panel_rows, int64_t cols) {
  quantized_kernel::ToPanels<Format>(quantized, panel_rows, cols);
}

void DequantizePanelRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out) {
  quantized_kernel::DequantizePanelRow<Format>(quantized, cols, r, out, DequantizeRow);
}

void Rows(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  quantized_kernel::Rows<Format>(x, w, y, r0, r1);
}

void RowsPortable(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  quantized_kernel::RowsPortable<Format>(x, w, y, r0, r1);
}

void RowsAmx(const QuantizedTokens& x, const uint8_t* packed, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  quantized_kernel::RowsAmx<Format>(x, packed, w, y, r0, r1);
}

}  // namespace engine::cpu::q4
