// The bf16 projection on Intel AMX tiles (Sapphire Rapids and later): one TDPBF16PS multiplies a
// 16×32 block of weights by a 32×16 block of tokens into 16×16 float32 sums — 8192 products per
// instruction, where AVX-512's VDPBF16PS does 32. Weights are read in place as the A tiles (16
// rows of 32 bf16, row-major as stored); the tokens, already rounded to bf16, are packed once
// per call into B tiles (pairs of k interleaved across the tokens, the layout TDPBF16PS reads).
// Each output is the same sum in the same order whatever the batch, so one token alone and the
// same token in a batch of 500 give identical bits.
#ifndef AGENTD_ENGINE_CPU_MATMUL_AMX_H_
#define AGENTD_ENGINE_CPU_MATMUL_AMX_H_

#include <cstdint>
#include <vector>

#include "cpu/matrix.h"

namespace engine::cpu::amx {

// True when the CPU has AMX-BF16 and Linux has granted this process the tile state.
bool Available();
// True when the CPU has AMX-INT8 (cpu/quantized_amx.h) and the tile state is granted.
bool AvailableInt8();

// Loads the one tile configuration every AMX kernel here uses (palette 1, all 8 tiles 16 rows
// of 64 bytes) on the calling thread, once.
void ConfigureTiles();

// True for the matrices the AMX kernel takes: bf16, cols a multiple of 32, at least 16 rows,
// and not an output head (a vocabulary's rows: read for one token at a time, as prefill asks
// for the last position's logits only, where AVX-512 streams faster).
bool Suits(const Matrix& w);

// A copy of `w`'s whole 16-row tiles in tile order (see Matrix::tiles): rows & ~15 × cols
// elements. The loader keeps it and points w.tiles at it.
std::vector<uint16_t> PackWeights(const Matrix& w);

// Elements (uint16) of the packed tokens for n tokens of k (k a multiple of 32).
int64_t PackedSize(int64_t n, int64_t k);
// Packs tokens rounded to bf16 (`rounded` [n, stride], stride ≥ k) into B tiles: for each block
// of 16 tokens (the last zero-padded) and each 32-wide slice of k, 16 rows of 64 bytes whose row
// i holds (token j's elements 2i and 2i + 1 of the slice) for j = 0..15.
void PackTokens(const uint16_t* rounded, int64_t stride, int64_t n, int64_t k, uint16_t* packed);

// Rows [r0, r1) of y [n, w.rows] = x · Wᵀ for bf16 W whose cols are a multiple of 32, with
// r1 - r0 a multiple of 16. Callable from any thread (each configures its tiles once).
void Rows(const uint16_t* packed, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1);

}  // namespace engine::cpu::amx

#endif  // AGENTD_ENGINE_CPU_MATMUL_AMX_H_
