// GGUF's Q4_1, Q5_0 and Q5_1 blocks (cpu/legacy_quants.h): read as ggml packs them, converted to
// the q4/q8 kernels' layouts, and multiplied to the product of the weights they stand for.
#include "cpu/legacy_quants.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu/matmul.h"
#include "cpu/matmul_q4.h"
#include "cpu/matmul_q8.h"
#include "cpu/quantized.h"
#include "engine/dtype.h"
#include "engine/gguf_blocks_test_support.h"

namespace engine::cpu {
namespace {

using legacy_quants::Kind;
using gguf_blocks::ConvertedBlocks;
using gguf_blocks::ConvertRows;
using gguf_blocks::ExpectProductsOfTheWeights;
using gguf_blocks::PutHalf;

constexpr Kind kKinds[] = {Kind::kQ4_1, Kind::kQ5_0, Kind::kQ5_1};


// ggml's block_q4_1 / block_q5_0 / block_q5_1: d (and m), the fifth bits as one little-endian
// uint32 (bit l for level l), then byte l holding level l's low nibble and level l + 16's.
std::vector<uint8_t> PackBlock(Kind kind, float d, float m, const int levels[32]) {
  std::vector<uint8_t> block(static_cast<size_t>(legacy_quants::BlockBytes(kind)), 0);
  PutHalf(&block[0], d);
  size_t at = 2;
  if (kind != Kind::kQ5_0) {
    PutHalf(&block[2], m);
    at = 4;
  }
  if (kind != Kind::kQ4_1) {
    uint32_t high = 0;
    for (int l = 0; l < 32; ++l) high |= static_cast<uint32_t>((levels[l] >> 4) & 1) << l;
    std::memcpy(&block[at], &high, sizeof high);
    at += 4;
  }
  for (int l = 0; l < 16; ++l) block[at + l] = static_cast<uint8_t>((levels[l] & 0xF) | ((levels[l + 16] & 0xF) << 4));
  return block;
}

TEST(LegacyQuantsTest, WeightsAreAsGgmlPacksThem) {
  for (const Kind kind : kKinds) {
    const int count = kind == Kind::kQ4_1 ? 16 : 32;
    int levels[32];
    for (int l = 0; l < 32; ++l) levels[l] = (l * 7 + 3) % count;
    const std::vector<uint8_t> block = PackBlock(kind, 0.5f, -1.25f, levels);
    std::vector<float> weights(32);
    legacy_quants::DequantizeRow(kind, block.data(), 32, weights.data());
    for (int l = 0; l < 32; ++l) {
      const float expected = kind == Kind::kQ5_0 ? 0.5f * (levels[l] - 16) : 0.5f * levels[l] - 1.25f;
      ASSERT_EQ(weights[l], expected) << "kind " << static_cast<int>(kind) << " weight " << l;
    }
  }
}

// Random blocks for `rows` rows of `cols`: every byte random but the f16 d and m, which are
// kept in a realistic range (m about −16 steps, as a quantiser sets it from a block's minimum).
std::vector<uint8_t> RandomBlocks(Kind kind, int64_t rows, int64_t cols, std::mt19937& rng) {
  const int64_t bytes = legacy_quants::BlockBytes(kind);
  std::vector<uint8_t> blocks(static_cast<size_t>(rows * cols / 32 * bytes));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(2e-4f, 4e-3f);
  for (uint8_t& b : blocks) b = static_cast<uint8_t>(byte(rng));
  for (size_t at = 0; at < blocks.size(); at += bytes) {
    const float d = scale(rng);
    PutHalf(&blocks[at], d);
    if (kind != Kind::kQ5_0) PutHalf(&blocks[at + 2], -d * (kind == Kind::kQ4_1 ? 8 : 16) * scale(rng) / 2e-3f);
  }
  return blocks;
}

ConvertedBlocks Convert(Kind kind, const std::vector<uint8_t>& blocks, int64_t rows, int64_t cols) {
  return ConvertRows(blocks, rows, cols, cols / 32 * legacy_quants::BlockBytes(kind),
                     kind == Kind::kQ4_1 ? Quantization::kQ4 : Quantization::kQ8, kind != Kind::kQ5_0,
                     [&](const uint8_t* in, uint8_t* out, uint16_t* offsets) {
                       return kind == Kind::kQ4_1   ? legacy_quants::Q4_1ToQ4(in, cols, out, offsets)
                              : kind == Kind::kQ5_0 ? legacy_quants::Q5_0ToQ8(in, cols, out)
                                                    : legacy_quants::Q5_1ToQ8(in, cols, out, offsets);
                     });
}

std::vector<float> FileWeights(Kind kind, const std::vector<uint8_t>& blocks, int64_t rows, int64_t cols) {
  const int64_t in_row = cols / 32 * legacy_quants::BlockBytes(kind);
  std::vector<float> weights(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) legacy_quants::DequantizeRow(kind, blocks.data() + r * in_row, cols, &weights[r * cols]);
  return weights;
}

TEST(LegacyQuantsTest, ConvertedRowsReadBackAsTheFilesWeights) {
  std::mt19937 rng(5);
  const int64_t rows = 6, cols = 128;
  for (const Kind kind : kKinds) {
    const std::vector<uint8_t> blocks = RandomBlocks(kind, rows, cols, rng);
    const ConvertedBlocks c = Convert(kind, blocks, rows, cols);
    const std::vector<float> weights = FileWeights(kind, blocks, rows, cols);
    std::vector<float> back(cols);
    for (int64_t r = 0; r < rows; ++r) {
      c.matrix.RowToF32(r, back.data());
      for (int64_t b = 0; b < cols / 32; ++b) {
        float largest = 0;
        for (int i = 0; i < 32; ++i) largest = std::max(largest, std::abs(weights[r * cols + b * 32 + i]));
        for (int i = 0; i < 32; ++i) {
          const float expected = weights[r * cols + b * 32 + i];
          if (kind == Kind::kQ5_0) {
            ASSERT_EQ(back[b * 32 + i], expected) << "row " << r << " weight " << b * 32 + i;  // exact
          } else {
            // The offset c·d + m rounded to f16: 2^-11 of it, and it is under the block's largest
            // weight plus c steps.
            ASSERT_NEAR(back[b * 32 + i], expected, 2e-3f * largest + 1e-6f)
                << "kind " << static_cast<int>(kind) << " row " << r << " weight " << b * 32 + i;
          }
        }
      }
    }
  }
}

TEST(LegacyQuantsTest, ProductsAreTheProductsOfTheFilesWeights) {
  std::mt19937 rng(13);
  const int64_t rows = 40, cols = 384;  // 384: not whole super-blocks of 256, as the files have it
  for (const Kind kind : kKinds) {
    const std::vector<uint8_t> blocks = RandomBlocks(kind, rows, cols, rng);
    const ConvertedBlocks c = Convert(kind, blocks, rows, cols);
    const std::vector<float> weights = FileWeights(kind, blocks, rows, cols);
    for (const int64_t n : {1, 3, 20}) {
      std::vector<float> x, y;
      ASSERT_NO_FATAL_FAILURE(
          ExpectProductsOfTheWeights(c.matrix, weights, n, rng, "kind " + std::to_string(static_cast<int>(kind)), &x, &y));
    }
  }
}

TEST(LegacyQuantsTest, BlocksWhoseScalesCannotBeHeldAreRefused) {
  std::mt19937 rng(3);
  const int64_t cols = 64;
  std::vector<uint8_t> q4(static_cast<size_t>(q4::QuantizedBytes(1, cols))), q8(static_cast<size_t>(q8::QuantizedBytes(1, cols)));
  std::vector<uint16_t> offsets(cols / 32);
  auto convert = [&](Kind kind, const std::vector<uint8_t>& block) {
    return kind == Kind::kQ4_1   ? legacy_quants::Q4_1ToQ4(block.data(), cols, q4.data(), offsets.data())
           : kind == Kind::kQ5_0 ? legacy_quants::Q5_0ToQ8(block.data(), cols, q8.data())
                                 : legacy_quants::Q5_1ToQ8(block.data(), cols, q8.data(), offsets.data());
  };
  for (const Kind kind : kKinds) {
    for (const float bad : {NAN, INFINITY}) {
      for (const int field : {0, 1}) {
        if (kind == Kind::kQ5_0 && field == 1) continue;  // Q5_0 has d alone
        std::vector<uint8_t> block = RandomBlocks(kind, 1, cols, rng);
        PutHalf(&block[legacy_quants::BlockBytes(kind) + 2 * field], bad);  // the second block
        EXPECT_FALSE(convert(kind, block)) << "kind " << static_cast<int>(kind) << " field " << field << " value " << bad;
      }
    }
    if (kind == Kind::kQ5_0) continue;
    // Finite, but c·d + m beyond f16's 65504.
    std::vector<uint8_t> block = RandomBlocks(kind, 1, cols, rng);
    PutHalf(&block[0], 60000.0f);
    PutHalf(&block[2], 60000.0f);
    EXPECT_FALSE(convert(kind, block)) << "kind " << static_cast<int>(kind);
  }
}

}  // namespace
}  // namespace engine::cpu
