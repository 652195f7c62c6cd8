// 8-bit weights: a bf16/fp8/f32 matrix quantised at load to blocks of 32 values along each row,
// each block one f16 scale d = max|w| / 127 and 32 levels q = round(w / d) in −127..127 —
// llama.cpp's Q8_0 (1.0625 bytes per weight: 53% of bf16's traffic, which is
// what decode is bound by). Laid out for the kernel (cpu/quantized_kernel.h): each row is its
// levels as unsigned bytes q + 128, then its block scales (the loader stores whole panels of 16
// rows interleaved instead: Matrix::panel_rows, cpu/quantized_panels.h). The tokens are quantised the same
// way per call, with float32 scales (cpu/quantized_tokens.h). A Q8_0 block from a GGUF file
// (FromQ8_0) converts without loss.
#ifndef AGENTD_ENGINE_CPU_MATMUL_Q8_H_
#define AGENTD_ENGINE_CPU_MATMUL_Q8_H_

#include <cstdint>

#include "cpu/matrix.h"
#include "cpu/quantized_tokens.h"

namespace engine::cpu::q8 {

// A Q8_0 block as GGUF stores it (type 8): f16 d, then 32 int8 levels.
constexpr int64_t kQ8_0BlockBytes = 34;

// Bytes of a quantised [rows, cols] matrix (cols a multiple of 64).
int64_t QuantizedBytes(int64_t rows, int64_t cols);
// One row of cols float32 weights quantised into `out` (QuantizedBytes(1, cols) bytes).
void QuantizeRow(const float* w, int64_t cols, uint8_t* out);
// One row of Q8_0 blocks (cols / 32 × 34 bytes) into the kernel's layout, without loss: the f16
// scale as it is, the levels (−128 too) offset by 128. False when a block's scale is infinite
// or NaN (a damaged or hostile file; `out` is then partly written).
[[nodiscard]] bool FromQ8_0(const uint8_t* blocks, int64_t cols, uint8_t* out);
// One row from its levels (cols int8) and block scales (cols / 32 float32), the scales rounded
// to f16 (a relative change of at most 2^-11: the scale of a K-quant sub-block, d · sc, has more
// bits than f16 keeps; far below the levels' own step).
void FromLevels(const int8_t* levels, const float* scales, int64_t cols, uint8_t* out);
// Row r of a quantised matrix back to float32 (d · q).
void DequantizeRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out);
// Rows [0, panel_rows) (a multiple of 16) of a quantised matrix rearranged into panels, in place
// (cpu/quantized_panels.h).
void ToPanels(uint8_t* quantized, int64_t panel_rows, int64_t cols);
// Row r of a matrix whose row r lies in its panels back to float32.
void DequantizePanelRow(const uint8_t* quantized, int64_t cols, int64_t r, float* out);
// out[n, cols] += coeffs[n, rows] · W (cpu/accumulate.h) from w.quantized (kQ8, no block
// offsets, no panel rows): each weight d · q as DequantizeRow gives it, added as cpu::Axpy adds it (one fused
// multiply-add per output), so the same bits as dequantising each row first.
void AccumulateRows(const float* coeffs, int64_t n, const Matrix& w, float* out);

// Rows [r0, r1) of y [x.n, w.rows] = x · Wᵀ from w.quantized (kQ8), in panels or not.
void Rows(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1);
// The same rows by the portable path alone (what a CPU without AVX-512 VNNI runs): the same bits.
void RowsPortable(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1);
// The same rows (r0 and r1 - r0 multiples of 16) on AMX tiles: rows in panels straight from the
// tokens, the others from the tokens as quantized_amx::PackTokens packs them (cpu/quantized_amx.h;
// needed only where cpu::NeedsPackedTokens).
void RowsAmx(const QuantizedTokens& x, const uint8_t* packed, const Matrix& w, float* y, int64_t r0, int64_t r1);

}  // namespace engine::cpu::q8

#endif  // AGENTD_ENGINE_CPU_MATMUL_Q8_H_
