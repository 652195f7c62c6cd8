#include "cpu/matmul_q8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu/ops.h"
#include "cpu/quantized_kernel.h"
#include "cpu/round.h"
#include "engine/dtype.h"

namespace engine::cpu::q8 {

namespace {

constexpr int kOffset = 128;

// A row: cols unsigned bytes (level + 128), then cols / 32 f16 scales.
struct Format {
  static constexpr int kOffsetShift = 7;
  static constexpr bool kBytesInPlace = true;  // AMX reads the rows' bytes as its A tiles
  static constexpr int kPanelVectors = 16;     // a pair's 64 bytes (cpu/quantized_panels.h)

  static int64_t RowBytes(int64_t cols) { return cols + cols / kQuantBlock * static_cast<int64_t>(sizeof(uint16_t)); }
  static int64_t DataBytes(int64_t cols) { return cols; }  // where the row's scales start

  static float Scale(const uint8_t* row, int64_t cols, int64_t block) {
    uint16_t half;
    std::memcpy(&half, row + cols + block * static_cast<int64_t>(sizeof half), sizeof half);
    return F16ToF32(half);
  }

  static void Levels(const uint8_t* row, int64_t cols, int8_t* levels, float* scales) {
    for (int64_t c = 0; c < cols; ++c) levels[c] = static_cast<int8_t>(int{row[c]} - kOffset);
    for (int64_t b = 0; b < cols / kQuantBlock; ++b) scales[b] = Scale(row, cols, b);
  }

#if defined(__x86_64__)
  __attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) static inline void Prefetch(const uint8_t* row,
                                                                                             int64_t pair) {
    _mm_prefetch(reinterpret_cast<const char*>(row + pair * 64), _MM_HINT_T1);
  }
  __attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) static inline __m512i LoadPair(const uint8_t* row,
                                                                                               int64_t pair) {
    return _mm512_loadu_si512(row + pair * 64);
  }
  __attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) static inline __m512 PairScales(const uint8_t* row,
                                                                                                int64_t cols,
                                                                                                int64_t pair) {
    int32_t two_halves;
    std::memcpy(&two_halves, row + cols + 4 * pair, 4);
    return _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128(two_halves)));
  }
  // A panel pair's unsigned levels of block h's four-byte group g for its 16 rows: the pair's
  // bytes are the first block's 8 groups, then the second's.
  __attribute__((target(AGENTD_QUANTIZED_TARGET), always_inline)) static inline __m512i GroupLevels(
      const __m512i packed[kPanelVectors], int h, int g) {
    return packed[8 * h + g];
  }
#endif
};

}  // namespace

int64_t QuantizedBytes(int64_t rows, int64_t cols) { return rows * Format::RowBytes(cols); }

// The largest finite f16, for a scale that f16 cannot hold (a block beyond ±8.3 million: no
// trained weight, but a hostile checkpoint's): its levels saturate instead of becoming infinite.
constexpr float kLargestF16 = 65504.0f;

uint16_t ScaleBits(float scale) { return F32ToF16(std::clamp(scale, -kLargestF16, kLargestF16)); }

void QuantizeRow(const float* w, int64_t cols, uint8_t* out) {
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const float* v = w + b * kQuantBlock;
    float top = 0;
    for (int64_t i = 0; i < kQuantBlock; ++i) top = std::max(top, std::abs(v[i]));
    // llama.cpp's Q8_0 (quantize_row_q8_0_ref): the levels for the scale before it is rounded
    // to f16. Rounding them for the stored scale instead moved the shipped model no closer to
    // its unquantised self (KL 2.6e-4 against 1.6e-4 on the held-out text: which near-ties flip
    // is chance), and this way a checkpoint quantised here holds llama.cpp's blocks.
    // (Past f16's range — an infinite weight, a block beyond ±8.3 million — the largest f16
    // scale, and the levels for it: they saturate.)
    const float d = std::min(top / 127.0f, kLargestF16);
    const uint16_t bits = ScaleBits(d);
    // A block too small for f16 (its scale stores as 0) has an infinite 1 / d; a NaN weight has
    // no level: both become level 0 rather than a float → int conversion of NaN (undefined).
    const float inverse = d > 0 && std::isfinite(1.0f / d) ? 1.0f / d : 0.0f;
    for (int64_t i = 0; i < kQuantBlock; ++i) {
      const float scaled = v[i] * inverse;
      const float level = std::isnan(scaled) ? 0.0f : std::clamp(RoundToNearest(scaled), -127.0f, 127.0f);
      out[b * kQuantBlock + i] = static_cast<uint8_t>(static_cast<int>(level) + kOffset);
    }
    std::memcpy(out + cols + b * static_cast<int64_t>(sizeof bits), &bits, sizeof bits);
  }
}

void FromLevels(const int8_t* levels, const float* scales, int64_t cols, uint8_t* out) {
  for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<uint8_t>(levels[c] + kOffset);
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const uint16_t bits = ScaleBits(scales[b]);
    std::memcpy(out + cols + b * static_cast<int64_t>(sizeof bits), &bits, sizeof bits);
  }
}

bool FromQ8_0(const uint8_t* blocks, int64_t cols, uint8_t* out) {
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const uint8_t* block = blocks + b * kQ8_0BlockBytes;
    uint16_t scale;
    std::memcpy(&scale, block, 2);
    if (!IsFiniteF16(scale)) return false;
    for (int64_t i = 0; i < kQuantBlock; ++i) {
      out[b * kQuantBlock + i] = static_cast<uint8_t>(static_cast<int8_t>(block[2 + i]) + kOffset);
    }
    std::memcpy(out + cols + b * 2, block, 2);  // the f16 scale as it is
  }
  return true;
}

// Block by block, the scale read once per block (so the compiler vectorises the block): MLA's
// absorbed query reads a head's W_UK rows through this at every decode step.
void DequantizeRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out) {
  const uint8_t* row = quantized + r * Format::RowBytes(cols);
  for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
    const float scale = Format::Scale(row, cols, b);
    const uint8_t* levels = row + b * kQuantBlock;
    float* o = out + b * kQuantBlock;
    for (int64_t i = 0; i < kQuantBlock; ++i) o[i] = scale * static_cast<float>(int{levels[i]} - kOffset);
  }
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void AccumulateRowsAvx512(const float* coeffs, int64_t n, const Matrix& w,
                                                                    float* out) {
  const int64_t cols = w.cols, row_bytes = Format::RowBytes(cols);
  const __m512i offset = _mm512_set1_epi32(kOffset);
  for (int64_t r = 0; r < w.rows; ++r) {
    const uint8_t* row = w.quantized + r * row_bytes;
    for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
      const __m512 d = _mm512_set1_ps(Format::Scale(row, cols, b));
      for (int64_t half = 0; half < kQuantBlock; half += 16) {
        const int64_t c = b * kQuantBlock + half;
        const __m128i levels = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c));
        const __m512 weight =
            _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(levels), offset)));
        for (int64_t i = 0; i < n; ++i) {
          float* o = out + i * cols + c;
          _mm512_storeu_ps(o, _mm512_fmadd_ps(_mm512_set1_ps(coeffs[i * w.rows + r]), weight, _mm512_loadu_ps(o)));
        }
      }
    }
  }
}
#endif

void AccumulateRows(const float* coeffs, int64_t n, const Matrix& w, float* out) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return AccumulateRowsAvx512(coeffs, n, w, out);
#endif
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    DequantizeRow(w.quantized, w.cols, r, row.data());
    for (int64_t i = 0; i < n; ++i) Axpy(coeffs[i * w.rows + r], row.data(), out + i * w.cols, w.cols);
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

}  // namespace engine::cpu::q8
