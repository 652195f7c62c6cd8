#include "cpu/legacy_quants.h"

#include <cstring>
#include <vector>

#include "cpu/matmul_q4.h"
#include "cpu/matmul_q8.h"
#include "engine/dtype.h"

namespace engine::cpu::legacy_quants {
namespace {

// A block's scale d, its constant m (0 for Q5_0) and its 32 levels q, as stored.
struct Block {
  uint16_t d = 0, m = 0;
  uint8_t levels[kBlock];
};

Block Read(Kind kind, const uint8_t* block) {
  Block out;
  out.d = F16BitsAt(block);
  const bool affine = kind != Kind::kQ5_0;
  if (affine) out.m = F16BitsAt(block + 2);
  const uint8_t* high = nullptr;
  const uint8_t* low = block + (affine ? 4 : 2);
  if (kind != Kind::kQ4_1) {
    high = low;
    low += 4;
  }
  uint32_t high_bits = 0;
  if (high != nullptr) std::memcpy(&high_bits, high, sizeof high_bits);
  for (int l = 0; l < kBlock / 2; ++l) {
    out.levels[l] = static_cast<uint8_t>((low[l] & 0xF) | (((high_bits >> l) & 1u) << 4));
    out.levels[l + 16] = static_cast<uint8_t>((low[l] >> 4) | (((high_bits >> (l + 16)) & 1u) << 4));
  }
  return out;
}

}  // namespace

int64_t BlockBytes(Kind kind) {
  switch (kind) {
    case Kind::kQ4_1: return 20;
    case Kind::kQ5_0: return 22;
    case Kind::kQ5_1: return 24;
  }
  return 0;
}

void DequantizeRow(Kind kind, const uint8_t* blocks, int64_t cols, float* out) {
  for (int64_t b = 0; b < cols / kBlock; ++b) {
    const Block block = Read(kind, blocks + b * BlockBytes(kind));
    const float d = F16ToF32(block.d), m = F16ToF32(block.m);
    for (int l = 0; l < kBlock; ++l) {
      out[b * kBlock + l] = kind == Kind::kQ5_0 ? d * static_cast<float>(block.levels[l] - 16)
                                                : d * static_cast<float>(block.levels[l]) + m;
    }
  }
}

bool Q4_1ToQ4(const uint8_t* blocks, int64_t cols, uint8_t* q4_row, uint16_t* offsets) {
  // Through Q4_0 blocks (f16 scale, the same nibbles), which FromQ4_0 lays out for the kernel.
  std::vector<uint8_t> q4_0(static_cast<size_t>(cols / kBlock * q4::kQ4_0BlockBytes));
  for (int64_t b = 0; b < cols / kBlock; ++b) {
    const uint8_t* in = blocks + b * BlockBytes(Kind::kQ4_1);
    const uint16_t d = F16BitsAt(in), m = F16BitsAt(in + 2);
    if (!IsFiniteF16(d) || !IsFiniteF16(m)) return false;
    uint8_t* out = q4_0.data() + b * q4::kQ4_0BlockBytes;
    std::memcpy(out, &d, sizeof d);
    std::memcpy(out + 2, in + 4, kBlock / 2);
    // d·q + m = d·(q − 8) + (8·d + m).
    offsets[b] = F32ToF16(8.0f * F16ToF32(d) + F16ToF32(m));
    if (!IsFiniteF16(offsets[b])) return false;
  }
  return q4::FromQ4_0(q4_0.data(), cols, q4_row);
}

bool Q5_0ToQ8(const uint8_t* blocks, int64_t cols, uint8_t* q8_row) {
  std::vector<int8_t> levels(static_cast<size_t>(cols));
  std::vector<float> scales(static_cast<size_t>(cols / kBlock));
  for (int64_t b = 0; b < cols / kBlock; ++b) {
    const Block block = Read(Kind::kQ5_0, blocks + b * BlockBytes(Kind::kQ5_0));
    if (!IsFiniteF16(block.d)) return false;
    for (int l = 0; l < kBlock; ++l) levels[b * kBlock + l] = static_cast<int8_t>(block.levels[l] - 16);
    scales[b] = F16ToF32(block.d);
  }
  q8::FromLevels(levels.data(), scales.data(), cols, q8_row);
  return true;
}

bool Q5_1ToQ8(const uint8_t* blocks, int64_t cols, uint8_t* q8_row, uint16_t* offsets) {
  std::vector<int8_t> levels(static_cast<size_t>(cols));
  std::vector<float> scales(static_cast<size_t>(cols / kBlock));
  for (int64_t b = 0; b < cols / kBlock; ++b) {
    const Block block = Read(Kind::kQ5_1, blocks + b * BlockBytes(Kind::kQ5_1));
    if (!IsFiniteF16(block.d) || !IsFiniteF16(block.m)) return false;
    for (int l = 0; l < kBlock; ++l) levels[b * kBlock + l] = static_cast<int8_t>(block.levels[l] - 16);
    scales[b] = F16ToF32(block.d);
    // d·q + m = d·(q − 16) + (16·d + m).
    offsets[b] = F32ToF16(16.0f * scales[b] + F16ToF32(block.m));
    if (!IsFiniteF16(offsets[b])) return false;
  }
  q8::FromLevels(levels.data(), scales.data(), cols, q8_row);
  return true;
}

}  // namespace engine::cpu::legacy_quants
