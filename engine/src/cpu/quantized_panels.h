// Quantised rows stored 16 to a panel (Matrix::panel_rows), for both formats. A format stores a
// row as its pairs of blocks' bytes (PairDataBytes: 32 for 4 bits, 64 for 8) and then its f16
// block scales. A panel holds 16 rows' pairs one after another; a pair is the 16 rows' bytes as
// vectors of 64 — vector v holding, for row i at bytes 4i..4i+3, the row's bytes 4v..4v+3 of the
// pair — then the first block's 16 scales (row i at i) and the second's. A panel takes exactly
// its 16 rows' bytes, so rows after the panels keep their places.
//
// Why: with a row per lane, a token's four-byte group broadcast to every lane multiplies 16 rows
// at once (vpdpbusd), each block's 16 sums are one vector and no lanes are added up into blocks;
// a panel is one sequential stream; and a pair is already the layout AMX takes as its B operand.
//
// Private to the CPU kernels: include only from cpu/quantized_kernel.h.
#ifndef AGENTD_ENGINE_CPU_QUANTIZED_PANELS_H_
#define AGENTD_ENGINE_CPU_QUANTIZED_PANELS_H_

#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu/matrix.h"

namespace engine::cpu::quantized_kernel {

// A row's bytes of one pair of blocks (64 weights), and a panel's: its 16 rows' bytes and scales.
template <class Format>
constexpr int64_t PairDataBytes() {
  return 4 * Format::kPanelVectors;
}
template <class Format>
constexpr int64_t PanelPairBytes() {
  return kPanelRows * (PairDataBytes<Format>() + 2 * 2);
}
// Where, in a panel's pair, the first block's 16 scales start (the second's 32 bytes on).
template <class Format>
constexpr int64_t PanelScalesAt() {
  return kPanelRows * PairDataBytes<Format>();
}

// Rows [0, panel_rows) (a multiple of 16), stored row after row, rearranged into panels in place.
template <class Format>
void ToPanels(uint8_t* quantized, int64_t panel_rows, int64_t cols) {
  const int64_t row_bytes = Format::RowBytes(cols), pairs = cols / 64, data = Format::DataBytes(cols);
  constexpr int64_t kData = PairDataBytes<Format>(), kPair = PanelPairBytes<Format>(), kScales = PanelScalesAt<Format>();
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
          uint8_t* pair = panel + p * kPair;
          for (int64_t v = 0; v < Format::kPanelVectors; ++v) std::memcpy(pair + 64 * v + 4 * i, row + p * kData + 4 * v, 4);
          std::memcpy(pair + kScales + 2 * i, row + data + 4 * p, 2);
          std::memcpy(pair + kScales + 2 * kPanelRows + 2 * i, row + data + 4 * p + 2, 2);
        }
      }
    }
  }
}

// Row r (among the panel rows) of a matrix as row layout holds it, into `row` (RowBytes).
template <class Format>
void RowFromPanel(const uint8_t* quantized, int64_t cols, int64_t r, uint8_t* row) {
  const int64_t pairs = cols / 64, data = Format::DataBytes(cols), lane = r % kPanelRows;
  constexpr int64_t kData = PairDataBytes<Format>(), kPair = PanelPairBytes<Format>(), kScales = PanelScalesAt<Format>();
  const uint8_t* panel = quantized + r / kPanelRows * kPanelRows * Format::RowBytes(cols);
  for (int64_t p = 0; p < pairs; ++p) {
    const uint8_t* pair = panel + p * kPair;
    for (int64_t v = 0; v < Format::kPanelVectors; ++v) std::memcpy(row + p * kData + 4 * v, pair + 64 * v + 4 * lane, 4);
    std::memcpy(row + data + 4 * p, pair + kScales + 2 * lane, 2);
    std::memcpy(row + data + 4 * p + 2, pair + kScales + 2 * kPanelRows + 2 * lane, 2);
  }
}

// Row r (among the panel rows) back to float32 by the format's own reader of a row,
// dequantize_row(row, cols, 0, out), from the row rebuilt in a buffer kept per thread.
template <class Format>
void DequantizePanelRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out,
                        void (*dequantize_row)(const uint8_t*, int64_t, int64_t, float*)) {
  thread_local std::vector<uint8_t> row;
  row.resize(static_cast<size_t>(Format::RowBytes(cols)));
  RowFromPanel<Format>(quantized, cols, r, row.data());
  dequantize_row(row.data(), cols, 0, out);
}

// Row r of w in row layout: in place, or rebuilt from its panel into *scratch.
template <class Format>
const uint8_t* RowOf(const Matrix& w, int64_t r, std::vector<uint8_t>* scratch) {
  const int64_t row_bytes = Format::RowBytes(w.cols);
  if (r >= w.panel_rows) return w.quantized + r * row_bytes;
  scratch->resize(static_cast<size_t>(row_bytes));
  RowFromPanel<Format>(w.quantized, w.cols, r, scratch->data());
  return scratch->data();
}

}  // namespace engine::cpu::quantized_kernel

#endif  // AGENTD_ENGINE_CPU_QUANTIZED_PANELS_H_
