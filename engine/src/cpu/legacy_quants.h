// ggml's older 32-weight block types beside Q8_0 and Q4_0, as GGUF files store them, read into
// the layouts our kernels multiply. llama.cpp's K-quant mixes fall back to them for a matrix
// whose rows are not whole super-blocks of 256 (Q4_K → Q5_0, Q5_K → Q5_1): DeepSeek's attn_k_b
// (rows of 128), its q-LoRA attn_q_b (1536 is 6 × 256, but smaller models' 384 is not),
// DeepSeek-V2-Lite's experts (1408). A block:
//   Q4_1 (20 bytes): f16 d and m, 4-bit levels q (byte l: level l low, level l + 16 high);
//                    weight = d·q + m.
//   Q5_0 (22 bytes): f16 d, 32 high bits (bit l: level l's fifth), 4-bit low levels as Q4_1's;
//                    weight = d·(q − 16).
//   Q5_1 (24 bytes): f16 d and m, then Q5_0's bits; weight = d·q + m.
// Q5_0 becomes our q8 without loss (levels −16..15, the same f16 scale). The affine ones become
// q4 (Q4_1) and q8 (Q5_1) levels q − c with the scale d and, per block, the offset c·d + m the
// kernels add times the block's token sum (Matrix::block_offsets, f16, as cpu/kquants.h does
// for Q4_K and Q5_K): levels and scales exact, the offset rounded to f16 (|offset|·2⁻¹¹).
#ifndef AGENTD_ENGINE_CPU_LEGACY_QUANTS_H_
#define AGENTD_ENGINE_CPU_LEGACY_QUANTS_H_

#include <cstdint>

namespace engine::cpu::legacy_quants {

constexpr int64_t kBlock = 32;

// The three types read here (GgmlType values).
enum class Kind { kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7 };

// Bytes of one block of `kind`.
int64_t BlockBytes(Kind kind);

// One row of cols weights (a multiple of 32) as ggml dequantises it: the reference the
// conversions are tested against.
void DequantizeRow(Kind kind, const uint8_t* blocks, int64_t cols, float* out);

// The conversions return false when a block cannot be held: its d or m is NaN or infinite, or
// its offset lies beyond f16's range — bytes no quantiser writes; the loader refuses the file,
// naming the tensor and row.
//
// One row of Q4_1 blocks as q4 (cpu/matmul_q4.h) and its cols / 32 block offsets (f16).
bool Q4_1ToQ4(const uint8_t* blocks, int64_t cols, uint8_t* q4_row, uint16_t* offsets);
// One row of Q5_0 blocks as q8 (cpu/matmul_q8.h), exactly.
bool Q5_0ToQ8(const uint8_t* blocks, int64_t cols, uint8_t* q8_row);
// One row of Q5_1 blocks as q8 and its block offsets (f16).
bool Q5_1ToQ8(const uint8_t* blocks, int64_t cols, uint8_t* q8_row, uint16_t* offsets);

}  // namespace engine::cpu::legacy_quants

#endif  // AGENTD_ENGINE_CPU_LEGACY_QUANTS_H_
