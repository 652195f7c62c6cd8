// 8-bit weights: a bf16/fp8/f32 matrix quantised at load to blocks of 32 values along each row,
// each block one float32 scale d = max|w| / 127 and 32 int8 q = round(w / d) — llama.cpp's Q8_0
// with a float32 scale (36 bytes per 32 weights, 1.125 bytes each: 56% of bf16's traffic, which
// is what decode is bound by). The tokens are quantised the same way per call (as llama.cpp
// does for Q8_0 weights), and each block's product is an exact int32 sum (AVX512-VNNI's
// vpdpbusd on 32 byte pairs) scaled by the two blocks' scales into float32. The same blocks
// are summed in the same order for every token whatever its batch.
#ifndef AGENTD_ENGINE_CPU_MATMUL_Q8_H_
#define AGENTD_ENGINE_CPU_MATMUL_Q8_H_

#include <cstdint>
#include <vector>

#include "cpu/matrix.h"

namespace engine::cpu::q8 {

constexpr int64_t kBlock = 32;
constexpr int64_t kBlockBytes = 4 + kBlock;  // float scale, 32 int8

// True for matrices that can be quantised: cols a multiple of 32.
bool Suits(const Matrix& w);
// Bytes of a quantised [rows, cols] matrix (or of n quantised tokens of width cols).
int64_t QuantizedBytes(int64_t rows, int64_t cols);
// `w` quantised, row after row; the loader keeps it and points w.q8 at it.
std::vector<uint8_t> Quantize(const Matrix& w);
// Rows of float32 values quantised the same way: x [n, k] → n × k/32 blocks.
void QuantizeRows(const float* x, int64_t n, int64_t k, uint8_t* out);
// Row r of a quantised matrix back to float32 (d · q), for lookups (embeddings).
void DequantizeRow(const uint8_t* q8, int64_t cols, int64_t r, float* out);

// Rows [r0, r1) of y [n, w.rows] = x · Wᵀ from the quantised tokens `qx` (QuantizeRows) and
// w.q8.
void Rows(const uint8_t* qx, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1);

}  // namespace engine::cpu::q8

#endif  // AGENTD_ENGINE_CPU_MATMUL_Q8_H_
