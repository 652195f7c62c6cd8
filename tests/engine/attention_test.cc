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

// A panel with the memory it lives in.
struct OwnedPanel {
  std::vector<float> storage;
  KeyValuePanel panel;
};

OwnedPanel RandomPanel(int64_t length, int64_t dim, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> keys(length * dim), values(length * dim);
  for (float& v : keys) v = normal(rng);
  for (float& v : values) v = normal(rng);
  // Poisoned, so that a score read past the keys would show.
  OwnedPanel p{std::vector<float>(PanelFloats(length, dim, dim), NAN), {}};
  GatherPanel(
      length, dim, [&](int64_t s) { return &keys[s * dim]; }, [&](int64_t s) { return &values[s * dim]; },
      p.storage.data(), &p.panel);
  return p;
}

// MLA's absorbed form: each position's key is its latent then its rotary key, its value the
// latent itself.
OwnedPanel RandomLatentPanel(int64_t length, int64_t rank, int64_t rope, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> latents(length * rank), rotary(length * rope);
  for (float& v : latents) v = normal(rng);
  for (float& v : rotary) v = normal(rng);
  OwnedPanel p{std::vector<float>(PanelFloats(length, rank + rope, rank), NAN), {}};
  GatherPanel(
      length, rank, [&](int64_t s) { return &latents[s * rank]; }, rope, [&](int64_t s) { return &rotary[s * rope]; },
      rank, [&](int64_t s) { return &latents[s * rank]; }, p.storage.data(), &p.panel);
  return p;
}

TEST(AttentionTest, MatchesTheReferenceAcrossLengthsAndDims) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t dim : {8, 64, 128}) {
    for (int64_t length : {1, 15, 16, 17, 100, 300}) {
      const int64_t count = std::min<int64_t>(length, 37);
      const int64_t first = length - count + 1;
      const OwnedPanel owned = RandomPanel(length, dim, rng);
      const KeyValuePanel& panel = owned.panel;
      std::vector<float> q(count * dim), fast(count * dim), reference(count * dim),
          scratch(AttentionScoreFloats(panel.length));
      for (float& v : q) v = normal(rng);
      const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
      CausalAttention(q.data(), count, first, scale, panel, fast.data(), scratch.data());
      CausalAttentionReference(q.data(), count, first, scale, panel, reference.data());
      for (size_t i = 0; i < fast.size(); ++i) {
        ASSERT_NEAR(fast[i], reference[i], 2e-5) << "dim " << dim << " length " << length << " at " << i;
      }
    }
  }
}

TEST(AttentionTest, LatentKeysWiderThanTheirValuesMatchTheReference) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // (rank, rope): the DeepSeek-V3 CPU bench shape's, the shipped model's, and one whose latent
  // is not a multiple of 64 (the portable weighted sum).
  for (const auto& [rank, rope] : {std::pair<int64_t, int64_t>{256, 32}, {64, 16}, {40, 8}}) {
    for (int64_t length : {1, 17, 130}) {
      const int64_t count = std::min<int64_t>(length, 9);
      const int64_t first = length - count + 1;
      const OwnedPanel owned = RandomLatentPanel(length, rank, rope, rng);
      const KeyValuePanel& panel = owned.panel;
      ASSERT_EQ(panel.key_dim, rank + rope);
      std::vector<float> q(count * (rank + rope)), fast(count * rank), reference(count * rank),
          scratch(AttentionScoreFloats(panel.length));
      for (float& v : q) v = normal(rng);
      const float scale = 1.0f / std::sqrt(static_cast<float>(rank + rope));
      CausalAttention(q.data(), count, first, scale, panel, fast.data(), scratch.data());
      CausalAttentionReference(q.data(), count, first, scale, panel, reference.data());
      for (size_t i = 0; i < fast.size(); ++i) {
        ASSERT_NEAR(fast[i], reference[i], 2e-5) << "rank " << rank << " length " << length << " at " << i;
      }
      // The same bits for each query alone (decode) as inside the run.
      for (int64_t i = 0; i < count; ++i) {
        std::vector<float> alone(rank);
        CausalAttention(&q[i * (rank + rope)], 1, first + i, scale, panel, alone.data(), scratch.data());
        ASSERT_EQ(std::memcmp(alone.data(), &fast[i * rank], rank * sizeof(float)), 0) << "query " << i;
      }
    }
  }
}

TEST(AttentionTest, AQueryGivesTheSameBitsAloneAsInARun) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t dim = 64, length = 77, count = 20, first = length - count + 1;
  const OwnedPanel owned = RandomPanel(length, dim, rng);
  const KeyValuePanel& panel = owned.panel;
  std::vector<float> q(count * dim), run(count * dim), scratch(AttentionScoreFloats(panel.length));
  for (float& v : q) v = normal(rng);
  CausalAttention(q.data(), count, first, 0.125f, panel, run.data(), scratch.data());
  for (int64_t i = 0; i < count; ++i) {
    std::vector<float> alone(dim);
    CausalAttention(&q[i * dim], 1, first + i, 0.125f, panel, alone.data(), scratch.data());
    ASSERT_EQ(std::memcmp(alone.data(), &run[i * dim], dim * sizeof(float)), 0) << "query " << i;
  }
}

TEST(AttentionTest, SharedRowsGiveEachHeadTheBitsOfItsPanelAlone) {
  // Decoding one position for many heads over rows read in place (MLA's absorbed form, and keys
  // without a tail): each head's output must be CausalAttention's for that head alone over a
  // panel of the same rows, bit for bit, however the positions and heads are split.
  if (!SharedRowsSuit(SharedRows{.value_dim = 64})) GTEST_SKIP() << "no AVX-512: the shared-row steps are not used";
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const auto& [rank, rope] : {std::pair<int64_t, int64_t>{256, 32}, {64, 16}, {64, 0}, {128, 0}}) {
    for (int64_t heads : {1, 3, 4, 5, 8, 16, 17, 20}) {
      for (int64_t length : {1, 3, 4, 5, 17, 130}) {
        std::vector<float> latents(length * rank), rotary(length * std::max<int64_t>(rope, 1));
        for (float& v : latents) v = normal(rng);
        for (float& v : rotary) v = normal(rng);
        std::vector<const float*> keys(length), tails(length);
        for (int64_t s = 0; s < length; ++s) {
          keys[s] = &latents[s * rank];
          tails[s] = &rotary[s * rope];
        }
        const SharedRows rows{.length = length, .key_dim = rank, .tail_dim = rope, .value_dim = rank, .keys = keys.data(),
                              .tails = tails.data(), .values = keys.data()};
        const int64_t dim = rank + rope;
        std::vector<float> q(heads * dim);
        for (float& v : q) v = normal(rng);
        const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
        std::vector<float> queries_t(TransposedQueryFloats(heads, dim));
        TransposeQueries(q.data(), heads, dim, queries_t.data());
        const int64_t stride = PanelStride(length);
        std::vector<float> scores(heads * stride, NAN), out(heads * rank);
        const int64_t split = length / 3;  // two "threads'" shares of the positions
        SharedKeyScores(queries_t.data(), heads, rows, 0, split, scale, scores.data(), stride);
        SharedKeyScores(queries_t.data(), heads, rows, split, length, scale, scores.data(), stride);
        for (int64_t h = 0; h < heads; ++h) AttentionProbabilities(&scores[h * stride], length);
        SharedValueSums(scores.data(), stride, 0, heads / 2, rows, out.data());
        SharedValueSums(scores.data(), stride, heads / 2, heads, rows, out.data());

        const OwnedPanel owned = [&] {
          OwnedPanel p{std::vector<float>(PanelFloats(length, dim, rank), NAN), {}};
          GatherPanel(
              length, rank, [&](int64_t s) { return keys[s]; }, rope, [&](int64_t s) { return tails[s]; }, rank,
              [&](int64_t s) { return keys[s]; }, p.storage.data(), &p.panel);
          return p;
        }();
        std::vector<float> alone(rank), buffer(AttentionScoreFloats(length));
        for (int64_t h = 0; h < heads; ++h) {
          CausalAttention(&q[h * dim], 1, length, scale, owned.panel, alone.data(), buffer.data());
          ASSERT_EQ(std::memcmp(alone.data(), &out[h * rank], rank * sizeof(float)), 0)
              << "rank " << rank << " rope " << rope << " heads " << heads << " length " << length << " head " << h;
        }
      }
    }
  }
}

}  // namespace
}  // namespace engine::cpu
