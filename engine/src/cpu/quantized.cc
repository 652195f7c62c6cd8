#include "cpu/quantized.h"

#include "cpu/matmul_q4.h"
#include "cpu/matmul_q8.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/features.h"
#include "engine/dtype.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace engine::cpu {

std::optional<Quantization> ParseQuantization(std::string_view name) {
  if (name.empty()) return Quantization::kNone;
  if (name == "q8") return Quantization::kQ8;
  if (name == "q4") return Quantization::kQ4;
  return std::nullopt;
}

std::optional<QuantizationScheme> ParseQuantizationScheme(std::string_view name) {
  if (name.empty()) return QuantizationScheme{"", Quantization::kNone, Quantization::kNone, Quantization::kNone};
  if (name == "q8") return QuantizationScheme{"q8", Quantization::kQ8, Quantization::kQ8, Quantization::kNone};
  if (name == "q4") return QuantizationScheme{"q4", Quantization::kQ4, Quantization::kQ8, Quantization::kNone};
  if (name == "q4-pure") return QuantizationScheme{"q4-pure", Quantization::kQ4, Quantization::kQ4, Quantization::kQ4};
  return std::nullopt;
}

std::string_view QuantizationName(Quantization q) {
  switch (q) {
    case Quantization::kNone: return "";
    case Quantization::kQ8: return "q8";
    case Quantization::kQ4: return "q4";
  }
  return "?";
}

bool CanQuantize(const Matrix& w, Quantization q) {
  // Whole pairs of blocks: the kernels read 64 weights at a time.
  return q != Quantization::kNone && w.rows > 0 && w.cols % 64 == 0;
}

int64_t QuantizedBytes(Quantization q, int64_t rows, int64_t cols) {
  switch (q) {
    case Quantization::kNone: return 0;
    case Quantization::kQ8: return q8::QuantizedBytes(rows, cols);
    case Quantization::kQ4: return q4::QuantizedBytes(rows, cols);
  }
  return 0;
}

std::vector<uint8_t> Quantize(const Matrix& w, Quantization q) {
  std::vector<uint8_t> out(static_cast<size_t>(QuantizedBytes(q, w.rows, w.cols)));
  // Rows are independent: a 30B checkpoint's quantisation is load time, so it uses every core.
#pragma omp parallel
  {
    std::vector<float> row(static_cast<size_t>(w.cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < w.rows; ++r) {
      w.RowToF32(r, row.data());
      uint8_t* blocks = out.data() + QuantizedBytes(q, r, w.cols);
      if (q == Quantization::kQ8) q8::QuantizeRow(row.data(), w.cols, blocks);
      if (q == Quantization::kQ4) q4::QuantizeRow(row.data(), w.cols, blocks);
    }
  }
  return out;
}

void DequantizeRow(const Matrix& w, int64_t r, float* out) {
  if (w.quantization == Quantization::kQ8) {
    if (r < w.panel_rows) q8::DequantizePanelRow(w.quantized, w.cols, r, out);
    else q8::DequantizeRow(w.quantized, w.cols, r, out);
  }
  if (w.quantization == Quantization::kQ4) {
    if (r < w.panel_rows) q4::DequantizePanelRow(w.quantized, w.cols, r, out);
    else q4::DequantizeRow(w.quantized, w.cols, r, out);
  }
}

int64_t PanelRows(Quantization q, int64_t rows) {
  return q == Quantization::kNone ? 0 : rows / kPanelRows * kPanelRows;
}

void ToPanels(Quantization q, uint8_t* blocks, int64_t panel_rows, int64_t cols) {
  if (q == Quantization::kQ8) q8::ToPanels(blocks, panel_rows, cols);
  if (q == Quantization::kQ4) q4::ToPanels(blocks, panel_rows, cols);
}

bool NeedsPackedTokens(const Matrix& w) { return w.panel_rows < w.rows / kPanelRows * kPanelRows; }

int64_t BlockOffsetsCount(int64_t rows, int64_t cols) { return (rows + 15) / 16 * 16 * (cols / kQuantBlock); }

namespace {

// The token sums of each block, [n, blocks].
void TokenBlockSums(const QuantizedTokens& x, std::vector<float>* sums) {
  const int64_t blocks = x.cols / kQuantBlock;
  sums->resize(static_cast<size_t>(x.n * blocks));
  for (int64_t i = 0; i < x.n * blocks; ++i) (*sums)[i] = -x.scales[i] * static_cast<float>(x.negated_sums[i]);
}

void AddBlockOffsetsPortable(const float* sums, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  const int64_t blocks = w.cols / kQuantBlock;
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t t = 0; t < n; ++t) {
      float acc = 0;
      for (int64_t b = 0; b < blocks; ++b) {
        acc = std::fma(F16ToF32(w.block_offsets[BlockOffsetIndex(w.block_offsets_row + r, b, w.cols)]),
                       sums[t * blocks + b], acc);
      }
      y[t * w.rows + r] += acc;
    }
  }
}

#if defined(__x86_64__)
// 16 rows at a time: one group's offsets of a block are one vector, so each (row, token) takes
// the same fused multiply-adds in the same order as the portable loop, 16 rows to an
// instruction. A group's lanes from `lane` on are rows r, r + 1, ...: they are moved down to
// lane 0 and stored from y's row r, the rows outside [r0, r1) masked off.
__attribute__((target("avx512f,f16c,fma"))) void AddBlockOffsetsAvx512(const float* sums, int64_t n, const Matrix& w,
                                                                      float* y, int64_t r0, int64_t r1) {
  const int64_t blocks = w.cols / kQuantBlock;
  for (int64_t r = r0; r < r1;) {
    const int64_t layout_row = w.block_offsets_row + r;
    const int64_t lane = layout_row % 16, take = std::min<int64_t>(16 - lane, r1 - r);
    const __mmask16 mask = static_cast<__mmask16>((1u << take) - 1u);
    const __m512i from_lane = _mm512_add_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                               _mm512_set1_epi32(static_cast<int>(lane)));
    const uint16_t* group = w.block_offsets + BlockOffsetIndex(layout_row - lane, 0, w.cols);
    // Zero-masked forms throughout: the plain ones start from _mm512_undefined_ps, which GCC 12
    // reports as maybe uninitialised.
    for (int64_t t = 0; t < n; ++t) {
      const float* token_sums = sums + t * blocks;
      __m512 acc = _mm512_setzero_ps();
      for (int64_t b = 0; b < blocks; ++b) {
        const __m512 offsets =
            _mm512_maskz_cvtph_ps(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + b * 16)));
        acc = _mm512_fmadd_ps(offsets, _mm512_set1_ps(token_sums[b]), acc);
      }
      // Lane i of `acc` is row r − lane + i: lane i of `rows` is row r + i.
      const __m512 rows = _mm512_maskz_permutexvar_ps(0xFFFF, from_lane, acc);
      float* out = y + t * w.rows + r;
      _mm512_mask_storeu_ps(out, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), rows));
    }
    r += take;
  }
}
#endif

}  // namespace

void AddBlockOffsets(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  thread_local std::vector<float> sums;
  TokenBlockSums(x, &sums);
#if defined(__x86_64__)
  if (HasAvx512F()) return AddBlockOffsetsAvx512(sums.data(), x.n, w, y, r0, r1);
#endif
  AddBlockOffsetsPortable(sums.data(), x.n, w, y, r0, r1);
}

}  // namespace engine::cpu
