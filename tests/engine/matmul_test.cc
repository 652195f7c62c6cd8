// The CPU projection y = x · Wᵀ against its double-precision reference on the same inputs, for
// every stored dtype and the shapes whose edges the kernels handle apart (rows not a multiple of
// the 4-row tile, tokens not a multiple of 4, k not a multiple of the 16- or 32-wide vectors),
// and batch invariance: a token's outputs are bit for bit the same whatever else is in its batch
// — the property that lets the scheduler batch and speculation verify without changing a token.
#include "cpu/accumulate.h"
#include "cpu/matmul.h"

#include "cpu/matmul_amx.h"
#include "cpu/matmul_q4.h"
#include "cpu/matmul_q8.h"
#include "cpu/ops.h"
#include "cpu/quantized.h"
#include "cpu/quantized_tokens.h"

#include <cmath>
#include <limits>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/dtype.h"

namespace engine::cpu {
namespace {

struct Stored {
  DType dtype;
  std::vector<uint8_t> bytes;
  Matrix matrix;
};

Stored RandomMatrix(DType dtype, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Stored s{dtype, std::vector<uint8_t>(static_cast<size_t>(rows * cols) * DTypeSize(dtype)), {}};
  for (int64_t i = 0; i < rows * cols; ++i) {
    const float v = normal(rng);
    if (dtype == DType::kF32) std::memcpy(s.bytes.data() + 4 * i, &v, 4);
    if (dtype == DType::kBF16) {
      const uint16_t h = F32ToBf16(v);
      std::memcpy(s.bytes.data() + 2 * i, &h, 2);
    }
    if (dtype == DType::kF16) {
      const uint16_t h = F32ToF16(v);
      std::memcpy(s.bytes.data() + 2 * i, &h, 2);
    }
  }
  s.matrix = {dtype, rows, cols, s.bytes.data()};
  return s;
}

std::vector<float> RandomTokens(int64_t n, int64_t k, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * k));
  for (float& v : x) v = normal(rng);
  return x;
}

// y = x · Wᵀ by the fast path into *fast, checked element by element against the reference on
// the same inputs: float32 sums of `cols` products against a double one, a few ulps per term.
void FastPathMatchesTheReference(const std::vector<float>& x, int64_t n, const Matrix& w, const std::string& label,
                                 std::vector<float>* fast) {
  fast->resize(static_cast<size_t>(n * w.rows));
  std::vector<float> reference(fast->size());
  MatmulTransposed(x.data(), n, w, fast->data());
  MatmulTransposedReference(x.data(), n, w, reference.data());
  const double scale = std::sqrt(static_cast<double>(w.cols)) * 4;
  for (size_t i = 0; i < fast->size(); ++i) {
    ASSERT_NEAR((*fast)[i], reference[i], 1e-5 * scale + 1e-6 * std::abs(reference[i])) << label << " at " << i;
  }
}

std::string Shape(int64_t rows, int64_t cols, int64_t n) {
  return std::to_string(rows) + "x" + std::to_string(cols) + " n=" + std::to_string(n);
}

TEST(MatmulTest, EveryDtypeAndEdgeShapeMatchesTheReference) {
  std::mt19937 rng(7);
  int cases = 0;
  for (DType dtype : {DType::kF32, DType::kBF16, DType::kF16}) {
    for (int64_t rows : {1, 3, 4, 9, 37}) {
      for (int64_t cols : {1, 15, 16, 31, 32, 33, 100, 1031}) {
        for (int64_t n : {1, 3, 4, 5, 17}) {
          Stored w = RandomMatrix(dtype, rows, cols, rng);
          const std::vector<float> x = RandomTokens(n, cols, rng);
          std::vector<float> fast;
          ASSERT_NO_FATAL_FAILURE(FastPathMatchesTheReference(
              x, n, w.matrix, std::string(DTypeName(dtype)) + " " + Shape(rows, cols, n), &fast));
          ++cases;
        }
      }
    }
  }
  std::printf("%d shapes; bf16 weights multiplied %s\n", cases,
              UsesBf16Products() ? "with bf16 tokens (AVX512-BF16)" : "with float32 tokens");
}

TEST(MatmulTest, AmxTilesAndTheirEdgesMatchTheReference) {
  // Whole tiles of 16 rows (pairs of them, a lone one, rows past the last whole tile) and of 16
  // tokens (pairs, a lone one, a partial one), k of 1 to 32 tile columns.
  std::mt19937 rng(13);
  int cases = 0;
  for (int64_t rows : {16, 17, 31, 32, 33, 48, 80, 512}) {
    for (int64_t cols : {32, 64, 512, 1024}) {
      for (int64_t n : {1, 2, 5, 10, 15, 16, 17, 33, 40}) {
        Stored w = RandomMatrix(DType::kBF16, rows, cols, rng);
        const std::vector<float> x = RandomTokens(n, cols, rng);
        std::vector<float> fast;
        ASSERT_NO_FATAL_FAILURE(FastPathMatchesTheReference(x, n, w.matrix, Shape(rows, cols, n), &fast));
        // The same matrix with its tiles laid out in tile order, as the loader keeps them for
        // AMX: the same tiles, the same sums, the same bits.
        if (amx::Suits(w.matrix)) {
          const std::vector<uint16_t> tiles = amx::PackWeights(w.matrix);
          Matrix packed = w.matrix;
          packed.tiles = tiles.data();
          std::vector<float> from_tiles(fast.size());
          MatmulTransposed(x.data(), n, packed, from_tiles.data());
          ASSERT_EQ(from_tiles, fast) << rows << "x" << cols << " n=" << n;
        }
        ++cases;
      }
    }
  }
  std::printf("%d shapes; bf16 on %s\n", cases, UsesAmx() ? "AMX tiles" : "no AMX here (the AVX-512 or portable kernel)");
}

TEST(MatmulTest, AnOutputIsTheSameWhateverElseIsInTheBatch) {
  std::mt19937 rng(11);
  // k of 1000 (no AMX: not whole tile columns) and 1024 (AMX where the CPU has it).
  for (int64_t cols : {1000, 1024}) {
    for (DType dtype : {DType::kF32, DType::kBF16, DType::kF16}) {
      // Big enough to be split across threads and work items.
      Stored w = RandomMatrix(dtype, 515, cols, rng);
      for (int64_t n : {13, 40}) {
        const std::vector<float> x = RandomTokens(n, cols, rng);
        std::vector<float> batched(static_cast<size_t>(n * 515));
        MatmulTransposed(x.data(), n, w.matrix, batched.data());
        for (int64_t i = 0; i < n; ++i) {
          std::vector<float> alone(515);
          MatmulTransposed(x.data() + i * cols, 1, w.matrix, alone.data());
          ASSERT_EQ(std::memcmp(alone.data(), batched.data() + i * 515, 515 * sizeof(float)), 0)
              << DTypeName(dtype) << " k=" << cols << ": token " << i << " differs alone and in a batch of " << n;
        }
        // And in a batch of jobs sharing their input (as q/k/v do).
        std::vector<float> first(static_cast<size_t>(n * 515)), second(first.size());
        MatmulBatch({{x.data(), n, &w.matrix, first.data()}, {x.data(), n, &w.matrix, second.data()}});
        EXPECT_EQ(first, batched) << DTypeName(dtype) << " k=" << cols << " n=" << n << ": the first of two jobs";
        EXPECT_EQ(second, batched) << DTypeName(dtype) << " k=" << cols << " n=" << n << ": the second of two jobs";
      }
    }
  }
}

}  // namespace
}  // namespace engine::cpu

namespace engine::cpu {
namespace {

// Both schemes, against the reference on the same quantised inputs, and how far from the
// unquantised product that leaves them.
// The vectorised token quantiser against the scalar one it stands for: the same bytes, scales
// and sums, on random blocks and on blocks of zeros, ties and extremes.
TEST(QuantizedTokensTest, EveryPathQuantisesABlockTheSameWay) {
  std::mt19937 rng(23);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n = 40, cols = 256;
  std::vector<float> x(static_cast<size_t>(n * cols));
  for (float& v : x) v = normal(rng);
  for (int64_t i = 0; i < 32; ++i) x[i] = 0.0f;                          // all zeros
  for (int64_t i = 32; i < 64; ++i) x[i] = (i % 2 ? 1.0f : -1.0f) * 127.0f;  // extremes
  for (int64_t i = 64; i < 96; ++i) x[i] = 0.5f + static_cast<float>(i - 64);  // ties once scaled by 1
  x[95] = 127.0f;
  std::vector<uint8_t> buffer(static_cast<size_t>(QuantizedTokenBytes(n, cols)));
  QuantizeTokens(x.data(), n, cols, buffer.data());
  const QuantizedTokens tokens(buffer.data(), n, cols);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t b = 0; b < cols / kQuantBlock; ++b) {
      int8_t expected[kQuantBlock];
      const float scale = QuantizeBlock8(x.data() + t * cols + b * kQuantBlock, expected);
      ASSERT_EQ(std::memcmp(expected, tokens.bytes + t * cols + b * kQuantBlock, kQuantBlock), 0) << t << " " << b;
      ASSERT_EQ(scale, tokens.scales[t * (cols / kQuantBlock) + b]);
      int32_t sum = 0;
      for (int8_t q : expected) sum += q;
      ASSERT_EQ(-sum, tokens.negated_sums[t * (cols / kQuantBlock) + b]);
    }
  }
}

class QuantizedMatmulTest : public ::testing::TestWithParam<Quantization> {};

// `w` as the kernels see it once quantised into `blocks` (Quantize(w, scheme)), which must outlive it.
Matrix QuantizedView(const Matrix& w, Quantization scheme, const std::vector<uint8_t>& blocks) {
  Matrix quantized = w;
  quantized.quantization = scheme;
  quantized.quantized = blocks.data();
  return quantized;
}

TEST_P(QuantizedMatmulTest, MatchesTheReferenceAndStaysCloseToTheExactProduct) {
  const Quantization scheme = GetParam();
  std::mt19937 rng(17);
  double total_error = 0, total_norm = 0;
  for (DType dtype : {DType::kF32, DType::kBF16}) {
    for (int64_t rows : {1, 3, 4, 9, 37}) {
      for (int64_t cols : {64, 128, 1024}) {
        for (int64_t n : {1, 3, 4, 5, 17}) {
          Stored w = RandomMatrix(dtype, rows, cols, rng);
          const std::vector<float> x = RandomTokens(n, cols, rng);
          std::vector<float> exact(static_cast<size_t>(n * rows));
          MatmulTransposedReference(x.data(), n, w.matrix, exact.data());
          ASSERT_TRUE(CanQuantize(w.matrix, scheme));
          const std::vector<uint8_t> blocks = Quantize(w.matrix, scheme);
          Matrix quantized = QuantizedView(w.matrix, scheme, blocks);
          std::vector<float> fast(exact.size()), reference(exact.size());
          MatmulTransposed(x.data(), n, quantized, fast.data());
          MatmulTransposedReference(x.data(), n, quantized, reference.data());
          double error = 0, norm = 0;
          for (size_t i = 0; i < fast.size(); ++i) {
            // The same quantised blocks: only float32 rounding of the block sums differs.
            ASSERT_NEAR(fast[i], reference[i], 1e-4 * std::sqrt(static_cast<double>(cols)) + 1e-5 * std::abs(reference[i]))
                << DTypeName(dtype) << " " << rows << "x" << cols << " n=" << n << " at " << i;
            error += (fast[i] - exact[i]) * (fast[i] - exact[i]);
            norm += exact[i] * exact[i];
          }
          total_error += error;
          total_norm += norm;
        }
      }
    }
  }
  const double relative = std::sqrt(total_error / total_norm);
  std::printf("%s products: relative error %.4f against the unquantised products\n",
              std::string(QuantizationName(scheme)).c_str(), relative);
  // Normal weights: a block of 32's largest magnitude is about 2.1σ, so 8 bits round to steps of
  // about σ/60 (error σ/210: 0.5%), tokens likewise — under 1% over all products; 4 bits round
  // to steps of about σ/4 (error σ/14: 7.5%), the tokens' 8 bits adding little.
  EXPECT_LT(relative, scheme == Quantization::kQ8 ? 0.015 : 0.1);
  EXPECT_GT(relative, scheme == Quantization::kQ8 ? 0.001 : 0.02) << "no quantisation happened";
}

TEST_P(QuantizedMatmulTest, AnOutputIsTheSameWhateverElseIsInTheBatch) {
  const Quantization scheme = GetParam();
  std::mt19937 rng(19);
  Stored w = RandomMatrix(DType::kBF16, 515, 1024, rng);
  const std::vector<uint8_t> blocks = Quantize(w.matrix, scheme);
  Matrix quantized = QuantizedView(w.matrix, scheme, blocks);
  // 37 tokens go to AMX where the CPU has it (16 at a time) and one alone to AVX512-VNNI: the
  // kernels' arithmetic is the same, block by block.
  const int64_t n = 37;
  const std::vector<float> x = RandomTokens(n, 1024, rng);
  std::vector<float> batched(static_cast<size_t>(n * 515));
  MatmulTransposed(x.data(), n, quantized, batched.data());
  for (int64_t i = 0; i < n; ++i) {
    std::vector<float> alone(515);
    MatmulTransposed(x.data() + i * 1024, 1, quantized, alone.data());
    ASSERT_EQ(std::memcmp(alone.data(), batched.data() + i * 515, 515 * sizeof(float)), 0) << "token " << i;
  }
  // A row read back (embeddings) is its blocks dequantised: within half a step of the original.
  std::vector<float> row(1024);
  quantized.RowToF32(7, row.data());
  std::vector<float> original(1024);
  w.matrix.RowToF32(7, original.data());
  float top = 0;
  for (float v : original) top = std::max(top, std::abs(v));
  const float half_step = scheme == Quantization::kQ8 ? top / 254 : top / 16;
  for (int64_t c = 0; c < 1024; ++c) EXPECT_NEAR(row[c], original[c], half_step * 1.01f) << c;
  EXPECT_EQ(quantized.bytes(), 515u * 32u * (scheme == Quantization::kQ8 ? 34u : 18u));  // 1.0625 and 0.5625 per weight
}

// x · W with W read along its rows (MLA's absorbed W_UK): the same bits whether the rows are
// read in place or dequantised first and added with cpu::Axpy.
TEST_P(QuantizedMatmulTest, AccumulatingRowsReadsTheBlocksAsDequantisingThemDoes) {
  const Quantization scheme = GetParam();
  std::mt19937 rng(23);
  Stored w = RandomMatrix(DType::kBF16, 48, 256, rng);
  const std::vector<uint8_t> blocks = Quantize(w.matrix, scheme);
  Matrix quantized = QuantizedView(w.matrix, scheme, blocks);
  const Matrix rows = quantized.Rows(16, 32);  // a head's slice, as W_UK is taken
  for (int64_t n : {1, 3}) {
    const std::vector<float> coeffs = RandomTokens(n, 32, rng);
    std::vector<float> fast = RandomTokens(n, 256, rng), expected = fast;
    AccumulateRows(coeffs.data(), n, rows, fast.data());
    std::vector<float> row(256);
    for (int64_t r = 0; r < 32; ++r) {
      rows.RowToF32(r, row.data());
      for (int64_t i = 0; i < n; ++i) Axpy(coeffs[i * 32 + r], row.data(), expected.data() + i * 256, 256);
    }
    EXPECT_EQ(fast, expected) << "n=" << n;
  }
}

// Rows stored in panels of 16 (Matrix::panel_rows, as the loader keeps them) give every output
// bit for bit as the same blocks row after row do: single tokens (the panel kernel), small
// batches, 16 tokens and more (AMX where the CPU has it), the portable path, views that start at
// a panel and end inside one, and the rows read back.
TEST_P(QuantizedMatmulTest, RowsInPanelsGiveTheSameBitsAsRowAfterRow) {
  const Quantization scheme = GetParam();
  std::mt19937 rng(29);
  for (int64_t rows : {16, 37, 515}) {
    for (int64_t cols : {64, 1024}) {
      Stored w = RandomMatrix(DType::kBF16, rows, cols, rng);
      const std::vector<uint8_t> blocks = Quantize(w.matrix, scheme);
      std::vector<uint8_t> panels = blocks;
      const Matrix in_rows = QuantizedView(w.matrix, scheme, blocks);
      Matrix in_panels = QuantizedView(w.matrix, scheme, panels);
      in_panels.panel_rows = PanelRows(scheme, rows);
      ASSERT_EQ(in_panels.panel_rows, rows / 16 * 16);
      ToPanels(scheme, panels.data(), in_panels.panel_rows, cols);
      ASSERT_NE(panels, blocks) << "nothing was rearranged";
      for (int64_t n : {1, 2, 4, 5, 17, 37}) {
        const std::vector<float> x = RandomTokens(n, cols, rng);
        std::vector<float> expected(static_cast<size_t>(n * rows)), got(expected.size());
        MatmulTransposed(x.data(), n, in_rows, expected.data());
        MatmulTransposed(x.data(), n, in_panels, got.data());
        ASSERT_EQ(got, expected) << Shape(rows, cols, n);
        std::vector<uint8_t> tokens(static_cast<size_t>(QuantizedTokenBytes(n, cols)));
        QuantizeTokens(x.data(), n, cols, tokens.data());
        std::fill(got.begin(), got.end(), 0.0f);
        const QuantizedTokens quantized_tokens(tokens.data(), n, cols);
        if (scheme == Quantization::kQ8) q8::RowsPortable(quantized_tokens, in_panels, got.data(), 0, rows);
        else q4::RowsPortable(quantized_tokens, in_panels, got.data(), 0, rows);
        ASSERT_EQ(got, expected) << "portable " << Shape(rows, cols, n);
        if (rows < 37) continue;
        for (const auto& [first, count] : {std::pair<int64_t, int64_t>{16, 21}, {0, 24}, {32, 5}}) {
          const Matrix a = in_rows.Rows(first, count), b = in_panels.Rows(first, count);
          std::vector<float> from_rows(static_cast<size_t>(n * count)), from_panels(from_rows.size());
          MatmulTransposed(x.data(), n, a, from_rows.data());
          MatmulTransposed(x.data(), n, b, from_panels.data());
          ASSERT_EQ(from_panels, from_rows) << "rows [" << first << ", " << first + count << ") " << Shape(rows, cols, n);
        }
      }
      std::vector<float> a(static_cast<size_t>(cols)), b(static_cast<size_t>(cols));
      for (int64_t r = 0; r < rows; ++r) {
        in_rows.RowToF32(r, a.data());
        in_panels.RowToF32(r, b.data());
        ASSERT_EQ(a, b) << "row " << r << " of " << Shape(rows, cols, 0);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, QuantizedMatmulTest, ::testing::Values(Quantization::kQ8, Quantization::kQ4),
                         [](const auto& info) { return std::string(QuantizationName(info.param)); });

// The 4-bit quantisation is llama.cpp's Q4_0 (GGUF type 2): an f16 scale with the
// largest-magnitude weight at −8 · d, then byte j = the level of weight j in the low nibble and
// of weight j + 16 in the high one, level = round(w / d) + 8; and a row of such blocks (from a
// GGUF file) converts to the kernels' layout without loss.
TEST(MatmulQ4Test, QuantisesToLlamaCppQ4_0BlocksAndReadsThemWithoutLoss) {
  std::vector<float> values(64);
  for (int i = 0; i < 64; ++i) values[i] = static_cast<float>((i * 5) % 16 - 8) * (i < 32 ? 0.25f : 0.5f);
  std::vector<uint8_t> blocks(2 * q4::kQ4_0BlockBytes);
  q4::QuantizeQ4_0(values.data(), 64, blocks.data());
  for (int b = 0; b < 2; ++b) {
    uint16_t scale;
    std::memcpy(&scale, blocks.data() + b * q4::kQ4_0BlockBytes, 2);
    EXPECT_EQ(F16ToF32(scale), b == 0 ? 0.25f : 0.5f);
    for (int j = 0; j < 16; ++j) {
      const int i = b * 32 + j;
      const int low = (i * 5) % 16, high = ((i + 16) * 5) % 16;
      EXPECT_EQ(blocks[b * q4::kQ4_0BlockBytes + 2 + j], low | (high << 4)) << "block " << b << " byte " << j;
    }
  }
  std::vector<uint8_t> row(static_cast<size_t>(q4::QuantizedBytes(1, 64)));
  ASSERT_TRUE(q4::FromQ4_0(blocks.data(), 64, row.data()));
  std::vector<float> back(64);
  q4::DequantizeRow(row.data(), 64, 0, back.data());
  EXPECT_EQ(back, values);
}

TEST(MatmulQuantisedTest, WeightsWithoutALevelQuantiseToZeroAndScalesNoF16HoldsAreRefused) {
  // A NaN weight, a block far below f16's smallest scale, an infinite weight: each gets a level
  // (NaN 0, the tiny block 0, the infinite one the extreme) and every stored scale is finite.
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::vector<float> w(128, 0.5f);
  w[3] = nan;
  for (int i = 32; i < 64; ++i) w[i] = 1e-39f * static_cast<float>(i % 3 + 1);
  w[70] = inf;
  w[71] = -2.0f;
  std::vector<float> back(128);
  std::vector<uint8_t> q8_row(static_cast<size_t>(q8::QuantizedBytes(1, 128)));
  q8::QuantizeRow(w.data(), 128, q8_row.data());
  q8::DequantizeRow(q8_row.data(), 128, 0, back.data());
  EXPECT_EQ(back[3], 0.0f);
  EXPECT_NEAR(back[4], 0.5f, 1e-3);
  for (int i = 32; i < 64; ++i) EXPECT_EQ(back[i], 0.0f) << i;
  EXPECT_FLOAT_EQ(back[70], 65504.0f * 127);
  EXPECT_EQ(back[71], 0.0f);
  EXPECT_NEAR(back[100], 0.5f, 1e-3);
  std::vector<uint8_t> q4_row(static_cast<size_t>(q4::QuantizedBytes(1, 128)));
  q4::QuantizeRow(w.data(), 128, q4_row.data());
  q4::DequantizeRow(q4_row.data(), 128, 0, back.data());
  for (int i = 0; i < 128; ++i) EXPECT_TRUE(std::isfinite(back[i])) << i;
  EXPECT_EQ(back[3], 0.0f);
  for (int i = 32; i < 64; ++i) EXPECT_EQ(back[i], 0.0f) << i;

  // GGUF blocks whose f16 scale is infinite or NaN are refused, not copied.
  for (const uint16_t scale : {uint16_t{0x7c00}, uint16_t{0xfc00}, uint16_t{0x7e01}}) {
    std::vector<uint8_t> q8_blocks(2 * q8::kQ8_0BlockBytes, 1), q4_blocks(2 * q4::kQ4_0BlockBytes, 1);
    std::memcpy(q8_blocks.data() + q8::kQ8_0BlockBytes, &scale, 2);
    std::memcpy(q4_blocks.data() + q4::kQ4_0BlockBytes, &scale, 2);
    EXPECT_FALSE(q8::FromQ8_0(q8_blocks.data(), 64, q8_row.data())) << scale;
    EXPECT_FALSE(q4::FromQ4_0(q4_blocks.data(), 64, q4_row.data())) << scale;
  }
}

TEST(MatmulQ8Test, ReadsLlamaCppQ8_0BlocksWithoutLoss) {
  // Two GGUF Q8_0 blocks with every level's extremes, −128 included (ggml's own quantiser never
  // writes it, but a block may hold it), and f16 scales that are not float32-simple.
  std::vector<uint8_t> blocks(2 * q8::kQ8_0BlockBytes);
  std::vector<float> expected(64);
  for (int b = 0; b < 2; ++b) {
    const uint16_t scale = F32ToF16(b == 0 ? 0.0123f : 3.7f);
    std::memcpy(blocks.data() + b * q8::kQ8_0BlockBytes, &scale, 2);
    for (int i = 0; i < 32; ++i) {
      const int8_t level = static_cast<int8_t>(i == 0 ? -128 : i == 1 ? 127 : (i * 37) % 255 - 127);
      blocks[b * q8::kQ8_0BlockBytes + 2 + i] = static_cast<uint8_t>(level);
      expected[b * 32 + i] = F16ToF32(scale) * static_cast<float>(level);
    }
  }
  std::vector<uint8_t> row(static_cast<size_t>(q8::QuantizedBytes(1, 64)));
  ASSERT_TRUE(q8::FromQ8_0(blocks.data(), 64, row.data()));
  std::vector<float> back(64);
  q8::DequantizeRow(row.data(), 64, 0, back.data());
  EXPECT_EQ(back, expected);

  // And the kernel's product over those rows is the product over the weights they stand for.
  Matrix w{DType::kBF16, 1, 64, row.data()};
  w.quantization = Quantization::kQ8;
  w.quantized = row.data();
  std::vector<float> x(64);
  // Tokens the kernel's own 8-bit quantisation of activations keeps exactly: each block's
  // largest magnitude is 127, so its scale is 1.
  for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i % 32 == 0 ? 127 : (i * 13) % 255 - 127);
  float y = 0, reference = 0;
  MatmulTransposed(x.data(), 1, w, &y);
  for (int i = 0; i < 64; ++i) reference += x[i] * expected[i];
  EXPECT_NEAR(y, reference, 1e-5f * std::abs(reference));
}

}  // namespace
}  // namespace engine::cpu
