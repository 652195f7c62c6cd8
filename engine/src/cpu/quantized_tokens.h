// The tokens a quantised product multiplies: each row of float32 activations cut into blocks of
// 32, each block one float32 scale d = max|x| / 127 and 32 int8 q = round(x / d) (llama.cpp
// quantises activations the same way for its Q8_0 and Q4_0 products). Stored as the kernels read
// them, in one buffer per job: all tokens' bytes [n, cols], then their scales [n, cols / 32],
// then each block's Σ q negated [n, cols / 32] (the weights' offset, 128 for 8 bits and 8 for
// 4, times this sum is what the unsigned weight bytes add and what is taken back off).
#ifndef AGENTD_ENGINE_CPU_QUANTIZED_TOKENS_H_
#define AGENTD_ENGINE_CPU_QUANTIZED_TOKENS_H_

#include <cstdint>

namespace engine::cpu {

constexpr int64_t kQuantBlock = 32;

// One block of 32 values to 8 bits: writes q = round(v / d), clamped to −127..127, and returns
// the scale d = max|v| / 127. The tokens' blocks and the 8-bit weights' are made alike by it.
float QuantizeBlock8(const float* v, int8_t* q);

// Bytes of n quantised tokens of width cols (a multiple of 32).
int64_t QuantizedTokenBytes(int64_t n, int64_t cols);
// x [n, cols] quantised into `out` (QuantizedTokenBytes(n, cols) bytes).
void QuantizeTokens(const float* x, int64_t n, int64_t cols, uint8_t* out);

// A view of a quantised token buffer.
struct QuantizedTokens {
  QuantizedTokens(const uint8_t* buffer, int64_t n, int64_t cols);
  const int8_t* bytes;         // [n, cols]
  const float* scales;         // [n, cols / 32]
  const int32_t* negated_sums; // [n, cols / 32]
  int64_t n, cols;
  // Token t back to float32 (d · q), for the reference product.
  void Dequantize(int64_t t, float* out) const;
};

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_QUANTIZED_TOKENS_H_
