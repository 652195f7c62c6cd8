// 4-bit weights: llama.cpp's Q4_0 quantisation — per 32 weights along a row, an f16 scale d and
// 32 levels 0..15, weight = d · (level − 8), d chosen so the block's largest-magnitude weight is
// about −8d (0.5625 bytes per weight: 28% of bf16's traffic, which is what decode is bound by).
// Laid out for the kernel (cpu/quantized_kernel.h): each row is its pairs of blocks, 32 bytes
// each holding the first block's 32 levels in their low nibbles and the second's in their high
// ones, then the row's f16 scales. A Q4_0 block from a GGUF file (FromQ4_0) converts without
// loss. The tokens are quantised to 8 bits per call (cpu/quantized_tokens.h).
//
// The loader stores a matrix's whole panels of 16 rows interleaved instead (Matrix::panel_rows,
// cpu/quantized_panels.h).
#ifndef AGENTD_ENGINE_CPU_MATMUL_Q4_H_
#define AGENTD_ENGINE_CPU_MATMUL_Q4_H_

#include <cstdint>

#include "cpu/matrix.h"
#include "cpu/quantized_tokens.h"

namespace engine::cpu::q4 {

// A Q4_0 block as GGUF stores it (type 2): f16 d, then byte j holding the level of weight j in
// its low nibble and of weight j + 16 in its high one.
constexpr int64_t kQ4_0BlockBytes = 18;

// Bytes of a quantised [rows, cols] matrix (cols a multiple of 64).
int64_t QuantizedBytes(int64_t rows, int64_t cols);
// cols float32 weights as Q4_0 blocks (cols / 32 × 18 bytes).
void QuantizeQ4_0(const float* w, int64_t cols, uint8_t* blocks);
// One row of Q4_0 blocks into the kernel's layout (QuantizedBytes(1, cols) bytes). False when a
// block's scale is infinite or NaN (a damaged or hostile file; `out` is then partly written).
[[nodiscard]] bool FromQ4_0(const uint8_t* blocks, int64_t cols, uint8_t* out);
// One row of cols float32 weights quantised into `out` (QuantizeQ4_0, then FromQ4_0).
void QuantizeRow(const float* w, int64_t cols, uint8_t* out);
// Row r of a quantised matrix back to float32.
void DequantizeRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out);

// Rows [0, panel_rows) (a multiple of 16) of a quantised matrix rearranged into panels, in place.
void ToPanels(uint8_t* quantized, int64_t panel_rows, int64_t cols);
// Row r of a matrix whose row r lies in its panels back to float32.
void DequantizePanelRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out);

// Rows [r0, r1) of y [x.n, w.rows] = x · Wᵀ from w.quantized (kQ4), in panels or not.
void Rows(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1);
// The same rows by the portable path alone (what a CPU without AVX-512 VNNI runs): the same bits.
void RowsPortable(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1);
// The same rows (r0 and r1 - r0 multiples of 16) on AMX tiles: rows in panels straight from the
// tokens, the others from the tokens as quantized_amx::PackTokens packs them (cpu/quantized_amx.h;
// needed only where cpu::NeedsPackedTokens).
void RowsAmx(const QuantizedTokens& x, const uint8_t* packed, const Matrix& w, float* y, int64_t r0, int64_t r1);

}  // namespace engine::cpu::q4

#endif  // AGENTD_ENGINE_CPU_MATMUL_Q4_H_
