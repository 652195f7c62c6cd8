#include "cpu/quantized_tokens.h"

#include <algorithm>
#include <cmath>

#include "cpu/round.h"

namespace engine::cpu {

float QuantizeBlock8(const float* v, int8_t* q) {
  float top = 0;
  for (int64_t i = 0; i < kQuantBlock; ++i) top = std::max(top, std::abs(v[i]));
  const float inverse = top > 0 ? 127.0f / top : 0.0f;
  for (int64_t i = 0; i < kQuantBlock; ++i) {
    q[i] = static_cast<int8_t>(std::clamp(RoundToNearest(v[i] * inverse), -127.0f, 127.0f));
  }
  return top / 127.0f;
}

int64_t QuantizedTokenBytes(int64_t n, int64_t cols) {
  const int64_t blocks = cols / kQuantBlock;
  return n * cols + n * blocks * static_cast<int64_t>(sizeof(float) + sizeof(int32_t));
}

void QuantizeTokens(const float* x, int64_t n, int64_t cols, uint8_t* out) {
  const int64_t blocks = cols / kQuantBlock;
  int8_t* bytes = reinterpret_cast<int8_t*>(out);
  float* scales = reinterpret_cast<float*>(out + n * cols);
  int32_t* sums = reinterpret_cast<int32_t*>(out + n * cols + n * blocks * static_cast<int64_t>(sizeof(float)));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t b = 0; b < blocks; ++b) {
      int8_t* q = bytes + t * cols + b * kQuantBlock;
      scales[t * blocks + b] = QuantizeBlock8(x + t * cols + b * kQuantBlock, q);
      int32_t sum = 0;
      for (int64_t i = 0; i < kQuantBlock; ++i) sum += q[i];
      sums[t * blocks + b] = -sum;
    }
  }
}

QuantizedTokens::QuantizedTokens(const uint8_t* buffer, int64_t n, int64_t cols)
    : bytes(reinterpret_cast<const int8_t*>(buffer)),
      scales(reinterpret_cast<const float*>(buffer + n * cols)),
      negated_sums(reinterpret_cast<const int32_t*>(buffer + n * cols + n * (cols / kQuantBlock) * 4)),
      n(n),
      cols(cols) {}

void QuantizedTokens::Dequantize(int64_t t, float* out) const {
  const int64_t blocks = cols / kQuantBlock;
  for (int64_t c = 0; c < cols; ++c) out[c] = scales[t * blocks + c / kQuantBlock] * bytes[t * cols + c];
}

}  // namespace engine::cpu
