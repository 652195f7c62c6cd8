// Element types of model tensors and conversions to float32.
//
// Weights stay in their stored type (bf16 checkpoints are not upcast in memory); kernels convert
// to float32 as they read, and accumulate in float32.
#ifndef AGENTD_ENGINE_DTYPE_H_
#define AGENTD_ENGINE_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>


namespace engine {

enum class DType { kF32, kBF16, kF16, kF8E4M3 };

size_t DTypeSize(DType dtype);
const char* DTypeName(DType dtype);  // "F32", "BF16", "F16", "F8_E4M3" (safetensors spelling)

inline float Bf16ToF32(uint16_t bits) {
  uint32_t widened = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &widened, sizeof value);
  return value;
}

// Round to nearest even, as torch does; NaN stays NaN.
inline uint16_t F32ToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float F16ToF32(uint16_t bits);
uint16_t F32ToF16(float value);
// Whether f16 `bits` is finite (neither infinity nor NaN).
inline bool IsFiniteF16(uint16_t bits) { return (bits & 0x7c00u) != 0x7c00u; }
// The f16 bits stored at `p` (little-endian, unaligned), as GGUF blocks hold their scales.
inline uint16_t F16BitsAt(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return bits;
}
// OCP FP8 E4M3 (the "fn" variant: no infinities, 0x7f/0xff are NaN), as DeepSeek-V3 stores.
float F8E4M3ToF32(uint8_t bits);
// The nearest E4M3 value (ties away from zero), saturating at ±448; NaN stays NaN.
uint8_t F32ToF8E4M3(float value);

}  // namespace engine

#endif  // AGENTD_ENGINE_DTYPE_H_
