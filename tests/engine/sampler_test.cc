#include "engine/sampler.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace engine {
namespace {

TEST(SamplerTest, GreedyTakesTheArgmax) {
  Sampler sampler({});
  std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
  EXPECT_EQ(sampler.Sample(logits, {}), 1);
}

TEST(SamplerTest, SameSeedSameTokens) {
  SamplingParams params;
  params.temperature = 1.0f;
  params.seed = 42;
  std::vector<float> base = {0.0f, 0.5f, 1.0f, 0.2f, -0.3f, 0.9f};
  std::vector<int32_t> a, b;
  Sampler first(params), second(params);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> l1 = base, l2 = base;
    a.push_back(first.Sample(l1, {}));
    b.push_back(second.Sample(l2, {}));
  }
  EXPECT_EQ(a, b);
  params.seed = 43;
  Sampler third(params);
  std::vector<int32_t> c;
  for (int i = 0; i < 50; ++i) {
    std::vector<float> l = base;
    c.push_back(third.Sample(l, {}));
  }
  EXPECT_NE(a, c);
}

// Over many draws the empirical frequencies follow softmax(logits / T).
TEST(SamplerTest, SamplesFollowTheTemperedDistribution) {
  SamplingParams params;
  params.temperature = 0.7f;
  params.seed = 7;
  Sampler sampler(params);
  std::vector<float> logits = {1.0f, 0.0f, 2.0f, 0.5f};
  std::vector<double> expected(4);
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += expected[i] = std::exp(logits[i] / 0.7);
  std::vector<int> counts(4, 0);
  const int draws = 40000;
  for (int i = 0; i < draws; ++i) {
    std::vector<float> l = logits;
    ++counts[sampler.Sample(l, {})];
  }
  for (int i = 0; i < 4; ++i) {
    const double p = expected[i] / sum;
    const double sigma = std::sqrt(p * (1 - p) / draws);
    EXPECT_NEAR(counts[i] / double(draws), p, 5 * sigma) << "token " << i;
  }
}

TEST(SamplerTest, TruncationKeepsOnlyTheAllowedTokens) {
  std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f, -1.0f};
  SamplingParams params;
  params.temperature = 1.0f;
  params.top_k = 2;
  std::vector<float> p = Sampler(params).Distribution(logits);
  EXPECT_GT(p[0], 0);
  EXPECT_GT(p[1], 0);
  EXPECT_EQ(p[2], 0);
  EXPECT_NEAR(p[0] + p[1], 1.0, 1e-6);

  params.top_k = 0;
  params.top_p = 0.5f;  // p[0] alone is ~0.64
  p = Sampler(params).Distribution(logits);
  EXPECT_NEAR(p[0], 1.0, 1e-6);

  params.top_p = 1.0f;
  params.min_p = 0.3f;  // keeps tokens with p >= 0.3 * p_max: 0 and 1 (e^-1 ≈ 0.37)
  p = Sampler(params).Distribution(logits);
  EXPECT_GT(p[1], 0);
  EXPECT_EQ(p[2], 0);
}

TEST(SamplerTest, PenaltiesFollowHfAndOpenAiDefinitions) {
  SamplingParams params;
  params.repetition_penalty = 2.0f;
  params.frequency_penalty = 0.5f;
  params.presence_penalty = 0.25f;
  TokenHistory history;
  std::vector<int32_t> prompt = {0};
  history.AddPrompt(prompt);
  history.AddOutput(1);
  history.AddOutput(1);
  std::vector<float> logits = {4.0f, -2.0f, 1.0f};
  Sampler(params).ApplyPenalties(logits, history);
  EXPECT_FLOAT_EQ(logits[0], 2.0f);                    // prompt token: 4 / 2
  EXPECT_FLOAT_EQ(logits[1], -4.0f - 2 * 0.5f - 0.25f);  // output token twice: -2 * 2, then penalties
  EXPECT_FLOAT_EQ(logits[2], 1.0f);
}

TEST(SamplerTest, LogSoftmaxNormalises) {
  std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  std::vector<float> lp = LogSoftmax(logits);
  double total = 0;
  for (float v : lp) total += std::exp(v);
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_GT(lp[2], lp[1]);
}

}  // namespace
}  // namespace engine
