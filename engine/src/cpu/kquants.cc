#include "cpu/kquants.h"

#include <cstring>
#include <vector>

#include "cpu/matmul_q4.h"
#include "cpu/matmul_q8.h"
#include "cpu/quantized_tokens.h"
#include "engine/dtype.h"

namespace engine::cpu::kquants {
namespace {

float HalfAt(const uint8_t* p) { return F16ToF32(F16BitsAt(p)); }

// Q4_K and Q5_K pack sub-block j's 6-bit scale and min into 12 bytes: j < 4 in the low 6 bits of
// bytes j and j + 4, the others split between byte j + 4's nibbles and the top 2 bits of
// bytes j − 4 and j.
void ScaleAndMin(const uint8_t* packed, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = (packed[j + 4] & 0x0F) | ((packed[j - 4] >> 6) << 4);
    *min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// Sub-block j (of 8) of a Q4_K or Q5_K super-block: its 32 levels, and the scale d·sc and min
// dmin·m of weight = scale · level − min. `high_bits` is Q5_K's qh (nullptr for Q4_K).
void AffineSubBlock(const uint8_t* super_block, const uint8_t* high_bits, const uint8_t* low_bits, int j,
                    uint8_t levels[32], float* scale, float* min) {
  const float d = HalfAt(super_block), dmin = HalfAt(super_block + 2);
  int sc, m;
  ScaleAndMin(super_block + 4, j, &sc, &m);
  *scale = d * static_cast<float>(sc);
  *min = dmin * static_cast<float>(m);
  // Pairs of sub-blocks share 32 bytes of low bits: the first in the low nibbles.
  const uint8_t* bytes = low_bits + (j / 2) * 32;
  const int shift = (j % 2) * 4;
  for (int l = 0; l < 32; ++l) {
    int level = (bytes[l] >> shift) & 0x0F;
    if (high_bits != nullptr && (high_bits[l] >> j) & 1) level += 16;
    levels[l] = static_cast<uint8_t>(level);
  }
}

// Where a Q4_K / Q5_K super-block keeps its high and low level bits.
const uint8_t* HighBits(Kind kind, const uint8_t* block) { return kind == Kind::kQ5_K ? block + 16 : nullptr; }
const uint8_t* LowBits(Kind kind, const uint8_t* block) { return block + (kind == Kind::kQ5_K ? 48 : 16); }

// Weight i (of 256) of a Q6_K super-block: ql [128] low nibbles, qh [64] two high bits each,
// scales [16] int8 per 16 weights, then f16 d. Levels are laid out in halves of 128: within
// one, weights l, l + 32, l + 64, l + 96 share ql bytes l and l + 32 and qh byte l.
float Q6_KWeight(const uint8_t* block, int i) {
  const uint8_t* ql = block + (i / 128) * 64;
  const uint8_t* qh = block + 128 + (i / 128) * 32;
  const int8_t* scales = reinterpret_cast<const int8_t*>(block + 192) + (i / 128) * 8;
  const int within = i % 128, quarter = within / 32, l = within % 32;
  const int low = (ql[l + (quarter % 2) * 32] >> ((quarter / 2) * 4)) & 0x0F;
  const int high = (qh[l] >> (2 * quarter)) & 3;
  const int level = (low | (high << 4)) - 32;
  return HalfAt(block + 208) * static_cast<float>(scales[l / 16 + 2 * quarter]) * static_cast<float>(level);
}

}  // namespace

int64_t SuperBlockBytes(Kind kind) {
  switch (kind) {
    case Kind::kQ4_K: return kQ4_KBytes;
    case Kind::kQ5_K: return kQ5_KBytes;
    case Kind::kQ6_K: return kQ6_KBytes;
  }
  return 0;
}

void DequantizeRow(Kind kind, const uint8_t* blocks, int64_t cols, float* out) {
  const int64_t block_bytes = SuperBlockBytes(kind);
  for (int64_t s = 0; s < cols / kSuperBlock; ++s) {
    const uint8_t* block = blocks + s * block_bytes;
    float* y = out + s * kSuperBlock;
    if (kind == Kind::kQ6_K) {
      for (int i = 0; i < kSuperBlock; ++i) y[i] = Q6_KWeight(block, i);
      continue;
    }
    for (int j = 0; j < 8; ++j) {
      uint8_t levels[32];
      float scale, min;
      AffineSubBlock(block, HighBits(kind, block), LowBits(kind, block), j, levels, &scale, &min);
      for (int l = 0; l < 32; ++l) y[j * 32 + l] = scale * static_cast<float>(levels[l]) - min;
    }
  }
}

bool Q4_KToQ4(const uint8_t* blocks, int64_t cols, uint8_t* q4_row, uint16_t* offsets) {
  // Through Q4_0 blocks (f16 scale, byte l: level l low, level l + 16 high), which FromQ4_0 lays
  // out for the kernel.
  std::vector<uint8_t> q4_0(static_cast<size_t>(cols / kQuantBlock * q4::kQ4_0BlockBytes));
  for (int64_t s = 0; s < cols / kSuperBlock; ++s) {
    const uint8_t* block = blocks + s * kQ4_KBytes;
    if (!IsFiniteF16(F16BitsAt(block)) || !IsFiniteF16(F16BitsAt(block + 2))) return false;
    for (int j = 0; j < 8; ++j) {
      uint8_t levels[32];
      float scale, min;
      AffineSubBlock(block, nullptr, LowBits(Kind::kQ4_K, block), j, levels, &scale, &min);
      const int64_t b = s * 8 + j;
      uint8_t* out = q4_0.data() + b * q4::kQ4_0BlockBytes;
      const uint16_t half = F32ToF16(scale);
      std::memcpy(out, &half, sizeof half);
      for (int l = 0; l < 16; ++l) out[2 + l] = static_cast<uint8_t>(levels[l] | (levels[l + 16] << 4));
      // scale·q − min = scale·(q − 8) + (8·scale − min), with the scale as q4 keeps it.
      offsets[b] = F32ToF16(8.0f * F16ToF32(half) - min);
      if (!IsFiniteF16(half) || !IsFiniteF16(offsets[b])) return false;
    }
  }
  return q4::FromQ4_0(q4_0.data(), cols, q4_row);
}

bool Q5_KToQ8(const uint8_t* blocks, int64_t cols, uint8_t* q8_row, uint16_t* offsets) {
  std::vector<int8_t> levels(static_cast<size_t>(cols));
  std::vector<float> scales(static_cast<size_t>(cols / kQuantBlock));
  for (int64_t s = 0; s < cols / kSuperBlock; ++s) {
    const uint8_t* block = blocks + s * kQ5_KBytes;
    if (!IsFiniteF16(F16BitsAt(block)) || !IsFiniteF16(F16BitsAt(block + 2))) return false;
    for (int j = 0; j < 8; ++j) {
      uint8_t sub[32];
      float scale, min;
      AffineSubBlock(block, HighBits(Kind::kQ5_K, block), LowBits(Kind::kQ5_K, block), j, sub, &scale, &min);
      const int64_t b = s * 8 + j;
      for (int l = 0; l < 32; ++l) levels[b * 32 + l] = static_cast<int8_t>(sub[l] - 16);
      // The q8 row keeps the scale in f16: the offset is computed for the scale as stored, and a
      // scale f16 cannot hold (d · sc beyond ±65504) refuses the row.
      const uint16_t half = F32ToF16(scale);
      if (!IsFiniteF16(half)) return false;
      scales[b] = F16ToF32(half);
      offsets[b] = F32ToF16(16.0f * scales[b] - min);
      if (!IsFiniteF16(offsets[b])) return false;
    }
  }
  q8::FromLevels(levels.data(), scales.data(), cols, q8_row);
  return true;
}

bool Q6_KToQ8(const uint8_t* blocks, int64_t cols, uint8_t* q8_row) {
  for (int64_t s = 0; s < cols / kSuperBlock; ++s) {
    if (!IsFiniteF16(F16BitsAt(blocks + s * kQ6_KBytes + 208))) return false;
  }
  std::vector<float> weights(static_cast<size_t>(cols));
  DequantizeRow(Kind::kQ6_K, blocks, cols, weights.data());
  q8::QuantizeRow(weights.data(), cols, q8_row);
  return true;
}

}  // namespace engine::cpu::kquants
