// GGUF's K-quants (cpu/kquants.h): read as ggml packs them, and multiplied by the q4/q8 kernels
// with block offsets to the product of the weights they stand for.
#include "cpu/kquants.h"

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

using kquants::Kind;
using gguf_blocks::ConvertedBlocks;
using gguf_blocks::ConvertRows;
using gguf_blocks::ExpectProductsOfTheWeights;
using gguf_blocks::PutHalf;


// ggml's packing of eight 6-bit scales and mins into 12 bytes (quantize_row_q4_K).
void PackScalesAndMins(const int sc[8], const int m[8], uint8_t packed[12]) {
  std::memset(packed, 0, 12);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      packed[j] = static_cast<uint8_t>(sc[j]);
      packed[j + 4] = static_cast<uint8_t>(m[j]);
    } else {
      packed[j + 4] = static_cast<uint8_t>((sc[j] & 0xF) | ((m[j] & 0xF) << 4));
      packed[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
      packed[j] |= static_cast<uint8_t>((m[j] >> 4) << 6);
    }
  }
}

TEST(KQuantsTest, Q4_KAndQ5_KWeightsAreScaleTimesLevelLessMinAsGgmlPacksThem) {
  // Scales and mins from 3 to 63 (the upper sub-blocks' need their high bits), levels using
  // every value, f16 d and dmin that are exact.
  int sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = 3 + 8 * j;
    m[j] = 63 - 7 * j;
  }
  auto level = [](int j, int l, int levels) { return (l * 7 + j * 3) % levels; };
  for (const Kind kind : {Kind::kQ4_K, Kind::kQ5_K}) {
    const int levels = kind == Kind::kQ4_K ? 16 : 32;
    std::vector<uint8_t> block(static_cast<size_t>(kquants::SuperBlockBytes(kind)), 0);
    PutHalf(&block[0], 0.5f);
    PutHalf(&block[2], 0.25f);
    PackScalesAndMins(sc, m, &block[4]);
    uint8_t* qh = kind == Kind::kQ5_K ? &block[16] : nullptr;
    uint8_t* qs = &block[kind == Kind::kQ5_K ? 48 : 16];
    for (int j = 0; j < 8; ++j) {
      for (int l = 0; l < 32; ++l) {
        const int q = level(j, l, levels);
        qs[(j / 2) * 32 + l] |= static_cast<uint8_t>((q & 0xF) << (4 * (j % 2)));
        if (qh != nullptr) qh[l] |= static_cast<uint8_t>((q >> 4) << j);
      }
    }
    std::vector<float> weights(256);
    kquants::DequantizeRow(kind, block.data(), 256, weights.data());
    for (int j = 0; j < 8; ++j) {
      for (int l = 0; l < 32; ++l) {
        ASSERT_EQ(weights[j * 32 + l], 0.5f * sc[j] * level(j, l, levels) - 0.25f * m[j])
            << "kind " << static_cast<int>(kind) << " sub-block " << j << " weight " << l;
      }
    }
  }
}

TEST(KQuantsTest, Q6_KWeightsAreScaleTimesCentredLevelAsGgmlPacksThem) {
  // ggml's layout: halves of 128; weights l, l+32, l+64, l+96 of a half in ql bytes l (low,
  // high nibble: l, l+64) and l+32 (l+32, l+96), their top two bits in qh byte l.
  std::vector<uint8_t> block(kquants::kQ6_KBytes, 0);
  auto level = [](int i) { return (i * 11 + 5) % 64; };
  int8_t scales[16];
  for (int s = 0; s < 16; ++s) scales[s] = static_cast<int8_t>(s % 2 == 0 ? 17 * s - 120 : 7 * s);
  for (int half = 0; half < 2; ++half) {
    for (int l = 0; l < 32; ++l) {
      const int base = half * 128;
      const int q1 = level(base + l), q2 = level(base + l + 32), q3 = level(base + l + 64), q4 = level(base + l + 96);
      block[half * 64 + l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
      block[half * 64 + l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
      block[128 + half * 32 + l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
    }
  }
  std::memcpy(&block[192], scales, 16);
  PutHalf(&block[208], 0.125f);
  std::vector<float> weights(256);
  kquants::DequantizeRow(Kind::kQ6_K, block.data(), 256, weights.data());
  for (int i = 0; i < 256; ++i) {
    ASSERT_EQ(weights[i], 0.125f * scales[i / 16] * (level(i) - 32)) << "weight " << i;
  }
}

// Random super-blocks of `kind` for `rows` rows of `cols`: every byte random but the f16 scales,
// which are kept in a realistic range.
std::vector<uint8_t> RandomBlocks(Kind kind, int64_t rows, int64_t cols, std::mt19937& rng) {
  const int64_t bytes = kquants::SuperBlockBytes(kind);
  std::vector<uint8_t> blocks(static_cast<size_t>(rows * cols / kquants::kSuperBlock * bytes));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(2e-4f, 4e-3f);
  for (uint8_t& b : blocks) b = static_cast<uint8_t>(byte(rng));
  for (size_t at = 0; at < blocks.size(); at += bytes) {
    if (kind == Kind::kQ6_K) {
      PutHalf(&blocks[at + 208], scale(rng));
    } else {
      PutHalf(&blocks[at], scale(rng));
      PutHalf(&blocks[at + 2], scale(rng));
    }
  }
  return blocks;
}

// The blocks' weights as ggml dequantises them, [rows, cols].
std::vector<float> FileWeights(Kind kind, const std::vector<uint8_t>& blocks, int64_t rows, int64_t cols) {
  const int64_t in_row = cols / kquants::kSuperBlock * kquants::SuperBlockBytes(kind);
  std::vector<float> weights(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) kquants::DequantizeRow(kind, blocks.data() + r * in_row, cols, &weights[r * cols]);
  return weights;
}

ConvertedBlocks Convert(Kind kind, const std::vector<uint8_t>& blocks, int64_t rows, int64_t cols) {
  return ConvertRows(blocks, rows, cols, cols / kquants::kSuperBlock * kquants::SuperBlockBytes(kind),
                     kind == Kind::kQ4_K ? Quantization::kQ4 : Quantization::kQ8, kind != Kind::kQ6_K,
                     [&](const uint8_t* in, uint8_t* out, uint16_t* offsets) {
                       return kind == Kind::kQ4_K   ? kquants::Q4_KToQ4(in, cols, out, offsets)
                              : kind == Kind::kQ5_K ? kquants::Q5_KToQ8(in, cols, out, offsets)
                                                    : kquants::Q6_KToQ8(in, cols, out);
                     });
}

TEST(KQuantsTest, BlocksWhoseScalesCannotBeHeldAreRefused) {
  // A NaN or infinite d or dmin (bytes no quantiser writes), or a Q4_K scale d·sc beyond f16's
  // 65504: the conversion says so instead of multiplying garbage (or casting NaN to an int).
  std::mt19937 rng(3);
  const int64_t cols = 256;
  std::vector<uint8_t> q4(static_cast<size_t>(q4::QuantizedBytes(1, cols))), q8(static_cast<size_t>(q8::QuantizedBytes(1, cols)));
  std::vector<uint16_t> offsets(cols / 32);
  for (const float bad : {NAN, INFINITY}) {
    for (const Kind kind : {Kind::kQ4_K, Kind::kQ5_K, Kind::kQ6_K}) {
      for (const int field : {0, 1}) {
        if (kind == Kind::kQ6_K && field == 1) continue;  // Q6_K has d alone
        std::vector<uint8_t> block = RandomBlocks(kind, 1, cols, rng);
        PutHalf(&block[kind == Kind::kQ6_K ? 208 : 2 * field], bad);
        const bool held = kind == Kind::kQ4_K ? kquants::Q4_KToQ4(block.data(), cols, q4.data(), offsets.data())
                          : kind == Kind::kQ5_K ? kquants::Q5_KToQ8(block.data(), cols, q8.data(), offsets.data())
                                                : kquants::Q6_KToQ8(block.data(), cols, q8.data());
        EXPECT_FALSE(held) << "kind " << static_cast<int>(kind) << " field " << field << " value " << bad;
      }
    }
  }
  std::vector<uint8_t> block = RandomBlocks(Kind::kQ4_K, 1, cols, rng);
  PutHalf(&block[0], 60000.0f);  // finite, but d·sc reaches 63 · 60000
  block[4] = 63;
  EXPECT_FALSE(kquants::Q4_KToQ4(block.data(), cols, q4.data(), offsets.data()));
  // Q5_K into q8's f16 scales: d · sc = −131008 is beyond f16, though the offset 16·scale − min
  // cancels to 0 (dmin · m = −2096128) — refused, not stored as an infinite scale.
  std::vector<uint8_t> q5 = RandomBlocks(Kind::kQ5_K, 1, cols, rng);
  PutHalf(&q5[0], -65504.0f);
  PutHalf(&q5[2], -65504.0f);
  q5[4] = 2;   // sub-block 0's scale
  q5[8] = 32;  // and its min
  EXPECT_FALSE(kquants::Q5_KToQ8(q5.data(), cols, q8.data(), offsets.data()));
}

TEST(KQuantsTest, ConvertedRowsReadBackAsTheFilesWeights) {
  std::mt19937 rng(7);
  const int64_t rows = 6, cols = 512;
  for (const Kind kind : {Kind::kQ4_K, Kind::kQ5_K, Kind::kQ6_K}) {
    const std::vector<uint8_t> blocks = RandomBlocks(kind, rows, cols, rng);
    const ConvertedBlocks c = Convert(kind, blocks, rows, cols);
    const std::vector<float> weights = FileWeights(kind, blocks, rows, cols);
    std::vector<float> back(cols);
    for (int64_t r = 0; r < rows; ++r) {
      const float* expected = &weights[r * cols];
      c.matrix.RowToF32(r, back.data());
      for (int64_t b = 0; b < cols / 32; ++b) {
        float largest = 0;
        for (int i = 0; i < 32; ++i) largest = std::max(largest, std::abs(expected[b * 32 + i]));
        // Q5_K: its offset rounded to f16 (2^-11 of |16·scale − min|, both under the block's
        // largest weight + its min); Q4_K: that and its scale rounded to f16 (2^-11 relative,
        // times levels up to 15); Q6_K: quantised again to 8 bits, half a step of largest/127,
        // plus the step's own rounding to f16 (2^-11 relative) times levels up to 127.
        const float bound = kind == Kind::kQ5_K ? 2e-3f * largest + 1e-9f
                            : kind == Kind::kQ4_K ? 4e-3f * largest + 1e-9f
                                                  : largest / 127 * (0.5f + 127.0f / 2048) * 1.001f + 1e-9f;
        for (int i = 0; i < 32; ++i) {
          ASSERT_NEAR(back[b * 32 + i], expected[b * 32 + i], bound)
              << "kind " << static_cast<int>(kind) << " row " << r << " weight " << b * 32 + i;
        }
      }
    }
  }
}

TEST(KQuantsTest, ProductsWithBlockOffsetsAreTheProductsOfTheFilesWeights) {
  // Token counts for the VNNI path (1, 3) and, where the CPU has AMX, the AMX one (20); 40 rows:
  // two whole groups of offsets and a padded one.
  std::mt19937 rng(11);
  const int64_t rows = 40, cols = 768;
  for (const Kind kind : {Kind::kQ4_K, Kind::kQ5_K, Kind::kQ6_K}) {
    const std::vector<uint8_t> blocks = RandomBlocks(kind, rows, cols, rng);
    const ConvertedBlocks c = Convert(kind, blocks, rows, cols);
    const std::vector<float> weights = FileWeights(kind, blocks, rows, cols);
    for (const int64_t n : {1, 3, 20}) {
      std::vector<float> x, y;
      ASSERT_NO_FATAL_FAILURE(
          ExpectProductsOfTheWeights(c.matrix, weights, n, rng, "kind " + std::to_string(static_cast<int>(kind)), &x, &y));
      for (int64_t t = 0; t < n; ++t) {
        // A token's outputs do not depend on the tokens beside it.
        std::vector<float> alone(rows);
        MatmulTransposed(&x[t * cols], 1, c.matrix, alone.data());
        for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(alone[r], y[t * rows + r]) << "n " << n << " token " << t << " row " << r;
      }
      // A view of later rows, starting inside a group of offsets, gives those rows' outputs.
      const Matrix later = c.matrix.Rows(5, rows - 5);
      std::vector<float> part(n * (rows - 5));
      MatmulTransposed(x.data(), n, later, part.data());
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t r = 0; r < rows - 5; ++r) ASSERT_EQ(part[t * (rows - 5) + r], y[t * rows + 5 + r]) << "view row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace engine::cpu
