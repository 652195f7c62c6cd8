// Quantised weights, whichever the scheme: what a matrix's blocks take, how a matrix is
// quantised at load, and how one of its rows reads back as float32. The products themselves are
// in cpu/matmul_q8.h and cpu/matmul_q4.h; MatmulBatch picks by Matrix::quantization.
#ifndef AGENTD_ENGINE_CPU_QUANTIZED_H_
#define AGENTD_ENGINE_CPU_QUANTIZED_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "cpu/matrix.h"
#include "cpu/quantized_tokens.h"

namespace engine::cpu {

// "q8", "q4" ("" for kNone); nullopt for any other name.
std::optional<Quantization> ParseQuantization(std::string_view name);
std::string_view QuantizationName(Quantization q);

// A model's quantisation as ModelOptions::quantize names it: "" (none), "q8", "q4" (output heads
// at 8 bits: the logits carry the whole model's error) or "q4-pure" (every matrix at 4 bits, as
// llama-quantize --pure writes Q4_0: the output head is most of a small model's bytes read per
// token). Under q8 and q4 the input embeddings stay in the checkpoint's dtype: a token reads one
// row of them, so rounding them saves memory but no time, and it moves every later activation
// (on the fixtures 15-25% of q8's logit error was theirs); q4-pure rounds them too, for the
// least memory.
struct QuantizationScheme {
  std::string_view name;
  Quantization projections = Quantization::kNone;
  Quantization vocabulary = Quantization::kNone;  // output heads, and embeddings tied to one
  Quantization embeddings = Quantization::kNone;  // input embeddings not tied to a head
};
// nullopt for a name that is none of the above.
std::optional<QuantizationScheme> ParseQuantizationScheme(std::string_view name);

// True when `w` can be stored as `q`: its rows are whole pairs of blocks of 32.
bool CanQuantize(const Matrix& w, Quantization q);
// Bytes of `rows` rows of `cols` weights stored as `q`.
int64_t QuantizedBytes(Quantization q, int64_t rows, int64_t cols);
// `w` (any dtype) quantised as `q`, row after row; the loader keeps it and points
// w.quantized at it.
std::vector<uint8_t> Quantize(const Matrix& w, Quantization q);
// Row r of a quantised matrix's blocks back to float32 (for lookups: embeddings, RowToF32),
// whatever their layout (Matrix::panel_rows).
void DequantizeRow(const Matrix& w, int64_t r, float* out);

// How many leading rows of a [rows, cols] matrix stored as `q` the loader lays out in panels
// (Matrix::panel_rows): its whole panels of 16.
int64_t PanelRows(Quantization q, int64_t rows);
// Rows [0, panel_rows) of `blocks`, quantised row after row, rearranged in place into the
// panels of `q` (Matrix::panel_rows, cpu/quantized_panels.h).
void ToPanels(Quantization q, uint8_t* blocks, int64_t panel_rows, int64_t cols);
// Whether the AMX kernels read w's tokens packed (quantized_amx::PackTokens): some of its whole
// 16-row groups are not in panels (rows in panels take the tokens as they are).
bool NeedsPackedTokens(const Matrix& w);

// Block offsets (Matrix::block_offsets) are stored in groups of 16 rows: for each group, for each
// block, the 16 rows' offsets (the last group padded). How many there are for rows × cols, and
// where row r's offset of block b is.
int64_t BlockOffsetsCount(int64_t rows, int64_t cols);
inline int64_t BlockOffsetIndex(int64_t r, int64_t b, int64_t cols) {
  return (r / 16) * (cols / kQuantBlock) * 16 + b * 16 + r % 16;
}

// For a matrix with block_offsets: adds to rows [r0, r1) of y [x.n, w.rows] what the offsets
// contribute, Σ over blocks (in order, one fused multiply-add each) of offset · (the block's token
// sum, d · Σ q as quantised), whatever the rows and tokens of the call.
void AddBlockOffsets(const QuantizedTokens& x, const Matrix& w, float* y, int64_t r0, int64_t r1);

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_QUANTIZED_H_
