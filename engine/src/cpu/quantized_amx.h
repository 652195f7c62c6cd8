// Quantised weights (cpu/matmul_q8.h, cpu/matmul_q4.h) multiplied on Intel AMX tiles. One
// TDPBUSD multiplies 16 rows of 64 unsigned weight bytes by 64 signed token bytes for 16 tokens:
// 16,384 products, where AVX512-VNNI's vpdpbusd does 64. A block of 32 has its own scales, so
// each pair of blocks is multiplied twice against B tiles that hold one block's token bytes and
// zeros for the other's, giving each block's exact int32 sum per (row, token); those are
// corrected for the weights' offset, turned to float32 and added in block order, scaled by the
// two blocks' scales — the tile products are exact, so only that order fixes the bits, and it
// is the same for a token alone and in any batch.
//
// The tokens (cpu/quantized_tokens.h) are packed once per call into groups of 16:
// PackTokens below. The per-format kernels are q8::RowsAmx and q4::RowsAmx.
#ifndef AGENTD_ENGINE_CPU_QUANTIZED_AMX_H_
#define AGENTD_ENGINE_CPU_QUANTIZED_AMX_H_

#include <cstdint>

#include "cpu/matrix.h"
#include "cpu/quantized_tokens.h"

namespace engine::cpu::quantized_amx {

// True when the CPU has AMX-INT8 and Linux has granted this process the tile state.
bool Available();

// True for the quantised matrices the AMX kernel takes: at least 16 rows, and not an output
// head (read for one token at a time, where VNNI streams faster). Rows past the last whole 16
// go to the VNNI kernel — which rows go where depends on the matrix alone, never on the batch.
bool Suits(const Matrix& w);

// Bytes of n quantised tokens of width cols packed for the kernel.
int64_t PackedBytes(int64_t n, int64_t cols);
// For each group of 16 tokens (the last padded with zeros) and each pair of blocks, 24 rows of
// 64 bytes: 8 rows of the first block's bytes (row i: the 4 bytes 4i..4i+3 of each of the 16
// tokens), 8 rows of zeros, 8 rows of the second block's; the even B tile is rows 0-15, the
// odd rows 8-23. Then the group's token scales [blocks][16] and negated block sums
// [blocks][16].
void PackTokens(const QuantizedTokens& x, uint8_t* packed);

// A view of one group in a packed buffer.
struct PackedGroup {
  PackedGroup(const uint8_t* packed, int64_t group, int64_t cols);
  const uint8_t* tiles;         // pairs × 24 rows × 64 bytes
  const float* scales;          // [blocks][16]
  const int32_t* negated_sums;  // [blocks][16]
};

}  // namespace engine::cpu::quantized_amx

#endif  // AGENTD_ENGINE_CPU_QUANTIZED_AMX_H_
