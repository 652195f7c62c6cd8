#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sampling/truncation.h"

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

// The distribution as Sampler::Distribution computed it before truncation ordered only its
// candidates: the whole vocabulary sorted every step.
std::vector<float> FullSortDistribution(std::span<const float> logits, const SamplingParams& params) {
  const size_t n = logits.size();
  std::vector<float> probs(n, 0.0f);
  const float max_value = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    probs[i] = std::exp((logits[i] - max_value) / params.temperature);
    sum += probs[i];
  }
  for (float& p : probs) p = static_cast<float>(p / sum);
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);
  });
  size_t keep = n;
  if (params.top_k > 0) keep = std::min(keep, static_cast<size_t>(params.top_k));
  if (params.top_p > 0 && params.top_p < 1.0f) {
    double mass = 0;
    size_t i = 0;
    for (; i < keep; ++i) {
      mass += probs[order[i]];
      if (mass >= params.top_p) {
        ++i;
        break;
      }
    }
    keep = std::max<size_t>(1, std::min(keep, i));
  }
  if (params.min_p > 0) {
    const float floor = params.min_p * probs[order[0]];
    size_t i = 1;
    while (i < keep && probs[order[i]] >= floor) ++i;
    keep = i;
  }
  double kept_mass = 0;
  for (size_t i = 0; i < keep; ++i) kept_mass += probs[order[i]];
  for (size_t i = keep; i < n; ++i) probs[order[i]] = 0.0f;
  for (size_t i = 0; i < keep; ++i) probs[order[i]] = static_cast<float>(probs[order[i]] / kept_mass);
  return probs;
}

// Logits of several shapes: spread out, peaked (a few tokens hold most of the mass, as a
// trained model's usually do), flat, full of ties, and with masked (-inf) tokens.
std::vector<std::pair<std::string, std::vector<float>>> LogitSets(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::pair<std::string, std::vector<float>>> sets;
  std::vector<float> spread(n), peaked(n), flat(n), ties(n), masked(n);
  for (size_t i = 0; i < n; ++i) {
    spread[i] = 3.0f * normal(rng);
    peaked[i] = normal(rng) - 2.0f * std::log1p(static_cast<float>((i * 7919) % n));
    flat[i] = 0.01f * normal(rng);
    ties[i] = std::round(2.0f * normal(rng)) / 2.0f;
    masked[i] = i % 3 == 0 ? normal(rng) : -std::numeric_limits<float>::infinity();
  }
  sets = {{"spread", spread}, {"peaked", peaked}, {"flat", flat}, {"ties", ties}, {"masked", masked}};
  return sets;
}

// The truncated distribution and the tokens drawn from it for fixed seeds are those of the full
// sort, bit for bit; with nothing to drop (no top_k, top_p or min_p) the distribution is no
// longer divided again by its own mass of 1, which moves probabilities by rounding only and
// draws not at all.
TEST(SamplerTest, DistributionAndDrawsAreThoseOfTheFullSort) {
  int compared = 0;
  for (size_t n : {size_t{7}, size_t{4096}, size_t{151669}}) {
    const std::vector<int> top_ks = n > 5000 ? std::vector<int>{0, 40} : std::vector<int>{0, 1, 3, 40, 1000};
    const std::vector<float> top_ps = n > 5000 ? std::vector<float>{1.0f, 0.9f} : std::vector<float>{1.0f, 0.0f, 0.3f, 0.9f, 0.999f};
    const std::vector<float> min_ps = n > 5000 ? std::vector<float>{0.0f, 0.05f} : std::vector<float>{0.0f, 0.05f, 0.6f};
    for (const auto& [shape, logits] : LogitSets(n, static_cast<uint32_t>(n))) {
      for (float temperature : {0.6f, 1.3f}) {
        for (int top_k : top_ks) {
          for (float top_p : top_ps) {
            for (float min_p : min_ps) {
              SamplingParams params{.temperature = temperature, .top_k = top_k, .top_p = top_p, .min_p = min_p,
                                    .seed = static_cast<uint64_t>(compared)};
              const std::string what = shape + " n=" + std::to_string(n) + " T=" + std::to_string(temperature) +
                                       " top_k=" + std::to_string(top_k) + " top_p=" + std::to_string(top_p) +
                                       " min_p=" + std::to_string(min_p);
              const std::vector<float> expected = FullSortDistribution(logits, params);
              const std::vector<float> got = Sampler(params).Distribution(logits);
              ASSERT_EQ(got.size(), expected.size());
              const bool drops = top_k > 0 || (top_p > 0 && top_p < 1) || min_p > 0;
              size_t differences = 0;
              for (size_t i = 0; i < n; ++i) {
                if (drops ? got[i] != expected[i] : std::abs(got[i] - expected[i]) > 4e-7f * expected[i]) ++differences;
                if (!drops) {
                  EXPECT_EQ(got[i] == 0, expected[i] == 0) << what << ": token " << i;
                }
              }
              EXPECT_EQ(differences, 0u) << what;
              // The same seed draws the same tokens from either.
              Sampler sampler(params), reference(params);
              for (int draw = 0; draw < (n > 5000 ? 20 : 50); ++draw) {
                std::vector<float> row = logits;
                const int32_t token = sampler.Sample(row, {});
                const int32_t expected_token = reference.Draw(expected).value_or(-1);
                ASSERT_EQ(token, expected_token) << what << ", draw " << draw;
              }
              ++compared;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(compared, 700);
}

// Sorting the whole vocabulary per sampled token was O(V log V) on the scheduler thread; only
// the candidates truncation can keep are put in order now.
TEST(SamplerTest, TruncationOrdersOnlyTheCandidatesItCanKeep) {
  const size_t n = 151669;  // Qwen3's vocabulary
  const auto sets = LogitSets(n, 11);
  const std::vector<float>& peaked = sets[1].second;
  const std::vector<float>& flat = sets[2].second;
  auto probs = [&](const std::vector<float>& logits) {
    std::vector<float> p(n);
    const float max_value = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(logits[i] - max_value);
    for (float& v : p) v = static_cast<float>(v / sum);
    return p;
  };
  const std::vector<float> p_peaked = probs(peaked), p_flat = probs(flat);

  // No limit: nothing is ordered.
  sampling::Kept kept = sampling::KeptTokens(p_flat, 0, 1.0f, 0.0f);
  EXPECT_TRUE(kept.all);
  EXPECT_EQ(kept.ordered, 0u);
  // top_k: the k best, whatever the shape.
  for (const auto* p : {&p_peaked, &p_flat}) {
    kept = sampling::KeptTokens(*p, 40, 1.0f, 0.0f);
    EXPECT_EQ(kept.count, 40u);
    EXPECT_LT(kept.ordered, 50u);  // 40, and any tied with the 40th
    kept = sampling::KeptTokens(*p, 40, 0.95f, 0.0f);
    EXPECT_LT(kept.ordered, 50u);
  }
  // top_p over a peaked distribution: a few chunks of its best tokens.
  kept = sampling::KeptTokens(p_peaked, 0, 0.9f, 0.0f);
  EXPECT_GT(kept.count, 1u);
  EXPECT_LE(kept.ordered, 4 * kept.count + 64);  // chunks of 64, 256, 1,024, ...
  EXPECT_LT(kept.ordered, n / 10);
  // min_p: only the tokens at or above its floor.
  kept = sampling::KeptTokens(p_peaked, 0, 1.0f, 0.05f);
  const float floor = 0.05f * *std::max_element(p_peaked.begin(), p_peaked.end());
  const size_t above = static_cast<size_t>(std::count_if(p_peaked.begin(), p_peaked.end(), [&](float v) { return v >= floor; }));
  EXPECT_EQ(kept.count, above);
  EXPECT_LE(kept.ordered, above);
  EXPECT_LT(above, n / 100);
  std::printf("  peaked: top_p 0.9 keeps %zu, ordered %zu; min_p 0.05 keeps %zu of %zu\n",
              sampling::KeptTokens(p_peaked, 0, 0.9f, 0.0f).count, sampling::KeptTokens(p_peaked, 0, 0.9f, 0.0f).ordered,
              above, n);
}

}  // namespace
}  // namespace engine
