// What the tests of GGUF block conversions (kquants_test.cc, legacy_quants_test.cc) share: rows
// of a file's blocks converted into a matrix the q4/q8 kernels multiply, and the check that the
// kernels' products are those of the weights the file stands for.
#ifndef AGENTD_TESTS_ENGINE_GGUF_BLOCKS_TEST_SUPPORT_H_
#define AGENTD_TESTS_ENGINE_GGUF_BLOCKS_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cpu/matmul.h"
#include "cpu/quantized.h"
#include "engine/dtype.h"

namespace engine::cpu::gguf_blocks {

inline void PutHalf(uint8_t* at, float value) {
  const uint16_t half = F32ToF16(value);
  std::memcpy(at, &half, sizeof half);
}

// A converted matrix with the memory it lives in.
struct ConvertedBlocks {
  std::vector<uint8_t> quantized;
  std::vector<uint16_t> offsets;
  Matrix matrix;
};

// `rows` rows of `in_row` bytes each, converted one by one by `convert(in, out, row_offsets)`
// (false: a block it cannot hold) into the `q` layout; with block offsets when `has_offsets`.
inline ConvertedBlocks ConvertRows(const std::vector<uint8_t>& blocks, int64_t rows, int64_t cols, int64_t in_row, Quantization q,
                                   bool has_offsets,
                                   const std::function<bool(const uint8_t*, uint8_t*, uint16_t*)>& convert) {
  ConvertedBlocks c;
  c.quantized.resize(static_cast<size_t>(QuantizedBytes(q, rows, cols)));
  if (has_offsets) c.offsets.resize(static_cast<size_t>(BlockOffsetsCount(rows, cols)));
  std::vector<uint16_t> row_offsets(static_cast<size_t>(cols / 32));
  const int64_t out_row = QuantizedBytes(q, 1, cols);
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_TRUE(convert(blocks.data() + r * in_row, c.quantized.data() + r * out_row, row_offsets.data())) << "row " << r;
    if (!has_offsets) continue;
    for (int64_t b = 0; b < cols / 32; ++b) c.offsets[BlockOffsetIndex(r, b, cols)] = row_offsets[b];
  }
  c.matrix = Matrix{DType::kBF16, rows, cols, c.quantized.data()};
  c.matrix.quantization = q;
  c.matrix.quantized = c.quantized.data();
  c.matrix.block_offsets = c.offsets.empty() ? nullptr : c.offsets.data();
  return c;
}

// n random tokens (with a mean, so that block offsets matter) times `m`, [rows, cols] standing
// for `weights`: the kernel against the reference of what it multiplies (8-bit tokens, the
// converted weights) and against the file's own weights and the float tokens. The tokens and
// products go to `x` and `y` for further checks.
inline void ExpectProductsOfTheWeights(const Matrix& m, const std::vector<float>& weights, int64_t n, std::mt19937& rng,
                                       const std::string& what, std::vector<float>* x, std::vector<float>* y) {
  const int64_t rows = m.rows, cols = m.cols;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  x->assign(n * cols, 0.0f);
  for (float& v : *x) v = normal(rng) + 0.5f;
  y->assign(n * rows, 0.0f);
  std::vector<float> reference(n * rows);
  MatmulTransposed(x->data(), n, m, y->data());
  MatmulTransposedReference(x->data(), n, m, reference.data());
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double exact = 0, magnitude = 0;
      for (int64_t k = 0; k < cols; ++k) {
        exact += static_cast<double>((*x)[t * cols + k]) * weights[r * cols + k];
        magnitude += std::abs(static_cast<double>((*x)[t * cols + k]) * weights[r * cols + k]);
      }
      const float got = (*y)[t * rows + r];
      ASSERT_NEAR(got, reference[t * rows + r], 1e-4 * magnitude) << what << " n " << n;
      ASSERT_NEAR(got, exact, 1e-2 * magnitude) << what << " n " << n << " row " << r;
    }
  }
}

}  // namespace engine::cpu::gguf_blocks

#endif  // AGENTD_TESTS_ENGINE_GGUF_BLOCKS_TEST_SUPPORT_H_
