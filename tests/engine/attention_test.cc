// Causal attention over a key/value panel against its double-precision reference, and the same
// bits for a query computed alone (decode) or inside a run of queries (prefill, verify passes).
#include "cpu/attention.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace engine::cpu {
namespace {

KeyValuePanel RandomPanel(int64_t length, int64_t dim, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> keys(length * dim), values(length * dim);
  for (float& v : keys) v = normal(rng);
  for (float& v : values) v = normal(rng);
  KeyValuePanel panel;
  GatherPanel(
      length, dim, [&](int64_t s) { return &keys[s * dim]; }, [&](int64_t s) { return &values[s * dim]; }, &panel);
  return panel;
}

TEST(AttentionTest, MatchesTheReferenceAcrossLengthsAndDims) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t dim : {8, 64, 128}) {
    for (int64_t length : {1, 15, 16, 17, 100, 300}) {
      const int64_t count = std::min<int64_t>(length, 37);
      const int64_t first = length - count + 1;
      KeyValuePanel panel = RandomPanel(length, dim, rng);
      std::vector<float> q(count * dim), fast(count * dim), reference(count * dim), scratch;
      for (float& v : q) v = normal(rng);
      const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
      CausalAttention(q.data(), count, first, scale, panel, fast.data(), &scratch);
      CausalAttentionReference(q.data(), count, first, scale, panel, reference.data());
      for (size_t i = 0; i < fast.size(); ++i) {
        ASSERT_NEAR(fast[i], reference[i], 2e-5) << "dim " << dim << " length " << length << " at " << i;
      }
    }
  }
}

TEST(AttentionTest, AQueryGivesTheSameBitsAloneAsInARun) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t dim = 64, length = 77, count = 20, first = length - count + 1;
  KeyValuePanel panel = RandomPanel(length, dim, rng);
  std::vector<float> q(count * dim), run(count * dim), scratch;
  for (float& v : q) v = normal(rng);
  CausalAttention(q.data(), count, first, 0.125f, panel, run.data(), &scratch);
  for (int64_t i = 0; i < count; ++i) {
    std::vector<float> alone(dim);
    CausalAttention(&q[i * dim], 1, first + i, 0.125f, panel, alone.data(), &scratch);
    ASSERT_EQ(std::memcmp(alone.data(), &run[i * dim], dim * sizeof(float)), 0) << "query " << i;
  }
}

}  // namespace
}  // namespace engine::cpu
