// A weight matrix as the kernels see it: row-major [rows, cols] in its stored dtype, borrowed
// from the memory-mapped checkpoint (or from a buffer the model owns, for dequantised FP8).
#ifndef AGENTD_ENGINE_CPU_MATRIX_H_
#define AGENTD_ENGINE_CPU_MATRIX_H_

#include <cstdint>

#include "engine/dtype.h"

namespace engine::cpu {

// Rows to a panel of a quantised matrix's interleaved rows (Matrix::panel_rows).
constexpr int64_t kPanelRows = 16;

// How a matrix's weights are stored for the kernels beyond its checkpoint dtype.
enum class Quantization : uint8_t {
  kNone,
  kQ8,  // cpu/matmul_q8.h: blocks of an f16 scale and 32 int8 (1.0625 bytes per weight)
  kQ4,  // cpu/matmul_q4.h: llama.cpp's Q4_0 blocks, an f16 scale and 32 nibbles (0.5625 bytes)
};

struct Matrix {
  DType dtype = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  // When set: bf16 rows [0, rows rounded down to 16) again, in AMX tile order — for each block of
  // 16 rows, for each 32-wide slice of cols, the 16 rows' 64 bytes contiguous — so the AMX kernel
  // streams the weights sequentially instead of 16 rows apart. Owned by whoever loaded the
  // weights; `data` stays the reference layout every other kernel reads.
  const uint16_t* tiles = nullptr;
  // When set: the matrix quantised (cpu/quantized.h: per row, blocks of 32 weights with a scale,
  // 8 bits each for kQ8, 4 for kQ4), which the kernels and RowToF32 read instead of `data`.
  // Owned by the loader.
  Quantization quantization = Quantization::kNone;
  const uint8_t* quantized = nullptr;
  // When set (quantised matrices only): an f16 constant per block of 32 weights, added to each
  // of them, so weight = scale · level + offset. GGUF's Q4_K and Q5_K blocks are affine in their
  // levels (cpu/kquants.h); the products add each offset times the block's token sum
  // (AddBlockOffsets, cpu/quantized.h). Interleaved by 16 rows (BlockOffsetIndex), so that the
  // product takes 16 rows' offsets of a block as one vector. Owned by the loader.
  const uint16_t* block_offsets = nullptr;
  // The row of block_offsets' layout that is this matrix's row 0 (non-zero in a view of later
  // rows).
  int64_t block_offsets_row = 0;
  // Quantised matrices: rows [0, panel_rows) are stored in panels of 16 rows
  // (cpu/quantized_panels.h), which the kernels read without shuffling lanes; the rows after them
  // one after another. A multiple of 16; in a view that ends inside a panel, it may pass `rows`
  // (the panel's other rows are not the view's). Set by the loader (cpu::ToPanels); 0: every
  // row in row layout.
  int64_t panel_rows = 0;

  bool empty() const { return data == nullptr; }
  // What one pass over the matrix reads: its quantised blocks when it has them.
  uint64_t bytes() const;
  // Row r converted to float32 into out[0..cols).
  void RowToF32(int64_t r, float* out) const;
  // A view of rows [first, first + count) (with tiles only when first is a multiple of 16).
  // Requires first to be a multiple of 16 where it falls among the panel rows.
  Matrix Rows(int64_t first, int64_t count) const;
};

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_MATRIX_H_
