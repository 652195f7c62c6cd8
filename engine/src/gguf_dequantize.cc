#include "gguf_dequantize.h"

#include <cstring>

#include "cpu/kquants.h"
#include "cpu/legacy_quants.h"
#include "cpu/matmul_q4.h"
#include "cpu/matmul_q8.h"
#include "engine/dtype.h"

namespace engine {

bool IsDequantizableGgmlType(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K: return true;
  }
  return false;
}

bool DequantizeGgufRow(GgmlType type, const uint8_t* row, int64_t cols, float* out) {
  switch (type) {
    case GgmlType::kF32: std::memcpy(out, row, static_cast<size_t>(cols) * sizeof(float)); return true;
    case GgmlType::kF16:
    case GgmlType::kBF16:
      for (int64_t i = 0; i < cols; ++i) {
        uint16_t bits;
        std::memcpy(&bits, row + 2 * i, 2);
        out[i] = type == GgmlType::kF16 ? F16ToF32(bits) : Bf16ToF32(bits);
      }
      return true;
    case GgmlType::kQ4_K: cpu::kquants::DequantizeRow(cpu::kquants::Kind::kQ4_K, row, cols, out); return true;
    case GgmlType::kQ5_K: cpu::kquants::DequantizeRow(cpu::kquants::Kind::kQ5_K, row, cols, out); return true;
    case GgmlType::kQ6_K: cpu::kquants::DequantizeRow(cpu::kquants::Kind::kQ6_K, row, cols, out); return true;
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
      cpu::legacy_quants::DequantizeRow(static_cast<cpu::legacy_quants::Kind>(type), row, cols, out);
      return true;
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0: break;
    default: return false;
  }
  const bool q8 = type == GgmlType::kQ8_0;
  const int64_t block_bytes = q8 ? cpu::q8::kQ8_0BlockBytes : cpu::q4::kQ4_0BlockBytes;
  for (int64_t b = 0; b < cols / 32; ++b) {
    const uint8_t* block = row + b * block_bytes;
    uint16_t d_bits;
    std::memcpy(&d_bits, block, 2);
    const float d = F16ToF32(d_bits);
    for (int64_t i = 0; i < 32; ++i) {
      const int level = q8 ? static_cast<int8_t>(block[2 + i]) : ((block[2 + i % 16] >> (i < 16 ? 0 : 4)) & 15) - 8;
      out[b * 32 + i] = d * static_cast<float>(level);
    }
  }
  return true;
}

}  // namespace engine
