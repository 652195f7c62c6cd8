#include "engine/dtype.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <limits>

namespace engine {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kBF16: return 2;
    case DType::kF16: return 2;
    case DType::kF8E4M3: return 1;
  }
  return 0;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kBF16: return "BF16";
    case DType::kF16: return "F16";
    case DType::kF8E4M3: return "F8_E4M3";
  }
  return "?";
}

float F16ToF32(uint16_t bits) {
  // By bits, not ldexp: the K-quant products convert a block offset per 32 weights.
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t rest = bits & 0x7fffu;
  uint32_t out;
  if (rest >= 0x7c00u) {
    out = sign | 0x7f800000u | ((rest & 0x3ffu) != 0 ? 0x400000u : 0u);  // infinity, or a quiet NaN
  } else if (rest >= 0x0400u) {
    out = sign | ((rest + (112u << 10)) << 13);  // normal: the exponent rebiased by 127 − 15
  } else {
    const float magnitude = static_cast<float>(rest) * 5.9604644775390625e-8f;  // subnormal: m · 2^-24
    std::memcpy(&out, &magnitude, sizeof out);
    out |= sign;
  }
  float value;
  std::memcpy(&value, &out, sizeof value);
  return value;
}

uint16_t F32ToF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t abs_bits = bits & 0x7fffffffu;
  if (abs_bits > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (abs_bits >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow → inf
  if (abs_bits < 0x38800000u) {
    // Subnormal or zero in f16: scale into the integer range and round to nearest even.
    float magnitude;
    std::memcpy(&magnitude, &abs_bits, sizeof magnitude);
    float scaled = magnitude * 16777216.0f;  // 2^24
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(scaled)));
  }
  uint32_t rounded = abs_bits + 0xfffu + ((abs_bits >> 13) & 1u);
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

float F8E4M3ToF32(uint8_t bits) {
  const uint32_t sign = bits >> 7;
  const uint32_t exponent = (bits >> 3) & 0xfu;
  const uint32_t mantissa = bits & 0x7u;
  float magnitude;
  if (exponent == 0xf && mantissa == 0x7) {
    magnitude = std::numeric_limits<float>::quiet_NaN();
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -9);  // subnormal: m/8 * 2^-6
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x8u), static_cast<int>(exponent) - 10);
  }
  return sign ? -magnitude : magnitude;
}

uint8_t F32ToF8E4M3(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const auto sign = static_cast<uint8_t>((bits >> 24) & 0x80u);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint8_t>(sign | 0x7f);
  const float magnitude = std::min(std::abs(value), 448.0f);
  if (magnitude < 0x1.0p-6f) {
    // Subnormal steps of 2^-9; a result of 8 steps is the smallest normal, whose code is 8 too.
    return static_cast<uint8_t>(sign | static_cast<uint8_t>(std::lround(magnitude * 512.0f)));
  }
  std::memcpy(&bits, &magnitude, sizeof bits);
  // Keep 3 mantissa bits, rounding half away from zero; a carry moves into the exponent.
  const uint32_t rounded = (bits + (1u << 19)) >> 20;
  const uint32_t exponent = ((rounded >> 3) & 0xffu) - 127 + 7;
  return static_cast<uint8_t>(sign | (exponent << 3) | (rounded & 0x7u));
}

}  // namespace engine
