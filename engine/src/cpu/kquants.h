// llama.cpp's K-quants as GGUF files store them, read into the layouts our kernels multiply.
// A K-quant row is super-blocks of 256 weights:
//   Q4_K (144 bytes): f16 d and dmin, eight 6-bit scales sc and mins m, 4-bit levels q;
//                     weight = d·sc·q − dmin·m per sub-block of 32.
//   Q5_K (176 bytes): the same with 5-bit levels.
//   Q6_K (210 bytes): f16 d, sixteen int8 scales, 6-bit levels; weight = d·sc·(q − 32) per 16.
// Q4_K and Q5_K sub-blocks are our blocks of 32, and their weights are an affine function of the
// level: d·sc·(q − c) + (c·d·sc − dmin·m). So they become our q4 (c = 8) and q8 (c = 16) levels with
// the scale d·sc and, per block, the constant that the kernels add as the block's offset times
// the block's token sum (Matrix::block_offsets, f16: 0.5 bits per weight more than the file) —
// the way llama.cpp's own Q4_K product takes its mins off. What is rounded: Q4_K's d·sc to the q4
// layout's f16 scale (relative error ≤ 2⁻¹¹ for scales in f16's normal range, ≥ 2⁻¹⁴; an absolute
// 2⁻²⁵ below it), and
// both schemes' offsets to f16 (|offset|·2⁻¹¹, a few thousandths of a step for real weights);
// Q5_K's levels and scales are exact. Q6_K's two scales per 32
// weights do not fit one scale: it is quantised again to q8 from its exact values (error at most
// half a q8 step, ≤ 1/8 of Q6_K's own step where the two scales match).
#ifndef AGENTD_ENGINE_CPU_KQUANTS_H_
#define AGENTD_ENGINE_CPU_KQUANTS_H_

#include <cstdint>

namespace engine::cpu::kquants {

constexpr int64_t kSuperBlock = 256;
constexpr int64_t kQ4_KBytes = 144;
constexpr int64_t kQ5_KBytes = 176;
constexpr int64_t kQ6_KBytes = 210;

// The three K-quant ggml types read here (GgmlType values).
enum class Kind { kQ4_K = 12, kQ5_K = 13, kQ6_K = 14 };

// Bytes of one super-block of `kind`.
int64_t SuperBlockBytes(Kind kind);

// One row of cols weights (a multiple of 256) as ggml dequantises it: the reference the
// conversions are tested against.
void DequantizeRow(Kind kind, const uint8_t* blocks, int64_t cols, float* out);

// The conversions return false when a block cannot be held: its d or dmin is NaN or infinite, or
// its scale or offset lies beyond f16's range (65504) — bytes no quantiser writes, from a damaged
// or hostile file; the loader refuses the file, naming the tensor and row.
//
// One row of Q4_K blocks as q4 (cpu/matmul_q4.h, q4::QuantizedBytes(1, cols) bytes) and its
// cols / 32 block offsets (f16).
bool Q4_KToQ4(const uint8_t* blocks, int64_t cols, uint8_t* q4_row, uint16_t* offsets);
// One row of Q5_K blocks as q8 (cpu/matmul_q8.h) and its block offsets (f16).
bool Q5_KToQ8(const uint8_t* blocks, int64_t cols, uint8_t* q8_row, uint16_t* offsets);
// One row of Q6_K blocks quantised again as q8 (no offsets).
bool Q6_KToQ8(const uint8_t* blocks, int64_t cols, uint8_t* q8_row);

}  // namespace engine::cpu::kquants

#endif  // AGENTD_ENGINE_CPU_KQUANTS_H_
