#include "cpu/quantized_amx.h"

#include <cstring>

#include "cpu/matmul_amx.h"

namespace engine::cpu::quantized_amx {

namespace {

constexpr int64_t kGroup = 16;             // tokens of a B tile
constexpr int64_t kPairTileBytes = 24 * 64; // even data, zeros, odd data

int64_t GroupBytes(int64_t cols) {
  const int64_t pairs = cols / 64, blocks = cols / kQuantBlock;
  return pairs * kPairTileBytes + blocks * kGroup * static_cast<int64_t>(sizeof(float) + sizeof(int32_t));
}

}  // namespace

bool Available() { return amx::AvailableInt8(); }

bool Suits(const Matrix& w) {
  constexpr int64_t kHeadRows = 32768;  // vocabularies are 32k-160k rows
  return w.quantized != nullptr && w.cols % 64 == 0 && w.rows >= kGroup && w.rows < kHeadRows;
}

int64_t PackedBytes(int64_t n, int64_t cols) { return (n + kGroup - 1) / kGroup * GroupBytes(cols); }

PackedGroup::PackedGroup(const uint8_t* packed, int64_t group, int64_t cols) {
  const uint8_t* base = packed + group * GroupBytes(cols);
  tiles = base;
  scales = reinterpret_cast<const float*>(base + cols / 64 * kPairTileBytes);
  negated_sums = reinterpret_cast<const int32_t*>(scales + cols / kQuantBlock * kGroup);
}

void PackTokens(const QuantizedTokens& x, uint8_t* packed) {
  const int64_t cols = x.cols, pairs = cols / 64, blocks = cols / kQuantBlock;
  const int64_t groups = (x.n + kGroup - 1) / kGroup;
  std::memset(packed, 0, static_cast<size_t>(PackedBytes(x.n, cols)));
  for (int64_t g = 0; g < groups; ++g) {
    PackedGroup group(packed, g, cols);
    uint8_t* tiles = const_cast<uint8_t*>(group.tiles);
    float* scales = const_cast<float*>(group.scales);
    int32_t* sums = const_cast<int32_t*>(group.negated_sums);
    for (int64_t j = 0; j < kGroup && g * kGroup + j < x.n; ++j) {
      const int64_t token = g * kGroup + j;
      const int8_t* bytes = x.bytes + token * cols;
      for (int64_t p = 0; p < pairs; ++p) {
        uint8_t* pair = tiles + p * kPairTileBytes;
        for (int64_t i = 0; i < 8; ++i) {
          std::memcpy(pair + i * 64 + j * 4, bytes + p * 64 + 4 * i, 4);             // first block
          std::memcpy(pair + (16 + i) * 64 + j * 4, bytes + p * 64 + 32 + 4 * i, 4);  // second block
        }
      }
      for (int64_t b = 0; b < blocks; ++b) {
        scales[b * kGroup + j] = x.scales[token * blocks + b];
        sums[b * kGroup + j] = x.negated_sums[token * blocks + b];
      }
    }
  }
}

}  // namespace engine::cpu::quantized_amx
