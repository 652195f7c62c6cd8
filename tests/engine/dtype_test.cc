// Scalar conversions between float32 and the narrow formats weights are stored in.
#include "engine/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace engine {
namespace {

TEST(HalfPrecisionTest, EveryF16ValueWidensToItsExactFloat) {
  // All 65536 bit patterns against the definition: (−1)^s · 2^(e − 15) · (1 + m/1024), subnormals
  // m · 2^−24, e = 31 infinity or NaN. The product paths convert with F16C (_mm512_cvtph_ps) and
  // the portable ones with F16ToF32: both must give these values.
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const int sign = (bits >> 15) & 1, exponent = (bits >> 10) & 31, mantissa = bits & 1023;
    const float value = F16ToF32(static_cast<uint16_t>(bits));
    if (exponent == 31) {
      if (mantissa == 0) ASSERT_TRUE(std::isinf(value) && std::signbit(value) == (sign == 1)) << bits;
      else ASSERT_TRUE(std::isnan(value)) << bits;
      continue;
    }
    const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    const double expected = sign ? -magnitude : magnitude;
    ASSERT_EQ(static_cast<double>(value), expected) << bits;
    ASSERT_EQ(std::signbit(value), sign == 1) << bits;
    // And back: every finite f16 round-trips.
    ASSERT_EQ(F32ToF16(value), bits) << bits;
  }
}

}  // namespace
}  // namespace engine
