// The engine against Hugging Face transformers: logits at every position, MTP logits and
// KV-cached greedy decoding on the tiny random checkpoints in tests/data/models (copied from
// the shared fixtures; see their README). Relative error ‖ours − ref‖ / ‖ref‖ < 1e-4.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/fixture_expectations.h"
#include "engine/logits_agreement.h"
#include "engine/model.h"
#include "engine/safetensors.h"
#include "nlohmann/json.hpp"

namespace engine {
namespace {

using namespace testing_fixtures;  // the fixtures' expectations and comparisons

class ModelParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelParityTest, FullForwardLogitsMatch) {
  auto model = Model::Load({.model_dir = ModelDir(GetParam())});
  ASSERT_TRUE(model.ok()) << model.status();
  Expected expected = LoadExpected(GetParam());
  for (size_t s = 0; s < expected.sequences.size(); ++s) {
    ForwardResult result;
    std::vector<float> ref;
    ASSERT_NO_FATAL_FAILURE(ForwardEveryPosition(**model, expected, s, &result, &ref));
    const double error = RelativeError(result.logits.data(), ref);
    std::printf("%s sequence %zu: relative error %.3g\n", GetParam().c_str(), s, error);
    EXPECT_LT(error, 1e-4) << "sequence " << s;
  }
}

TEST_P(ModelParityTest, IncrementalDecodingMatchesFullForward) {
  auto model = Model::Load({.model_dir = ModelDir(GetParam())});
  ASSERT_TRUE(model.ok()) << model.status();
  Expected expected = LoadExpected(GetParam());
  const auto& tokens = expected.sequences[0];
  const int64_t vocab = (*model)->config().vocab_size;
  std::vector<float> ref = expected.Tensor("logits_0");
  auto cache = (*model)->NewCache();
  ForwardResult result;
  // A prompt of 5, then one token at a time: every row must match the reference.
  ASSERT_TRUE((*model)->Forward(std::span(tokens).first(5), cache.get(), {.all_logits = true}, &result).ok());
  for (size_t t = 5; t < tokens.size(); ++t) {
    ASSERT_TRUE((*model)->Forward(std::span(tokens).subspan(t, 1), cache.get(), {}, &result).ok());
    std::vector<float> ref_row(ref.begin() + t * vocab, ref.begin() + (t + 1) * vocab);
    EXPECT_LT(RelativeError(result.logits.data(), ref_row), 1e-4) << "position " << t;
  }
  EXPECT_EQ(cache->length(), static_cast<int64_t>(tokens.size()));
}

TEST_P(ModelParityTest, CachedGreedyDecodingMatches) {
  auto model = Model::Load({.model_dir = ModelDir(GetParam())});
  ASSERT_TRUE(model.ok()) << model.status();
  Expected expected = LoadExpected(GetParam());
  const int64_t vocab = (*model)->config().vocab_size;
  for (size_t s = 0; s < expected.sequences.size(); ++s) {
    auto cache = (*model)->NewCache();
    ForwardResult result;
    ASSERT_TRUE((*model)->Forward(expected.sequences[s], cache.get(), {}, &result).ok());
    std::vector<int32_t> generated;
    while (generated.size() < expected.greedy[s].size()) {
      int32_t next = ArgMax(result.logits.data(), vocab);
      generated.push_back(next);
      ASSERT_TRUE((*model)->Forward(std::span(&next, 1), cache.get(), {}, &result).ok());
    }
    EXPECT_EQ(generated, expected.greedy[s]) << "sequence " << s;
  }
}

// Weights quantised at load, against the same transformers reference: the logits stay within
// the scheme's error, and the top token is the reference's wherever the reference's own margin
// between its top two is not itself within that error. Agreement with the engine's own
// unquantised forward (top token, KL) is printed for BENCHMARKS.md.
TEST_P(ModelParityTest, QuantizedWeightsStayCloseToTheReference) {
  auto unquantized = Model::Load({.model_dir = ModelDir(GetParam())});
  ASSERT_TRUE(unquantized.ok()) << unquantized.status();
  for (const std::string scheme : {"q8", "q4"}) {
    auto model = Model::Load({.model_dir = ModelDir(GetParam()), .quantize = scheme});
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_EQ((*model)->weight_dtype(), scheme);
    Expected expected = LoadExpected(GetParam());
    const int64_t vocab = (*model)->config().vocab_size;
    for (size_t s = 0; s < expected.sequences.size(); ++s) {
      ForwardResult result, exact;
      std::vector<float> ref;
      ASSERT_NO_FATAL_FAILURE(ForwardEveryPosition(**model, expected, s, &result, &ref));
      ASSERT_NO_FATAL_FAILURE(ForwardEveryPosition(**unquantized, expected, s, &exact, &ref));
      const double error = RelativeError(result.logits.data(), ref);
      int positions = 0, same_top = 0, clear = 0, clear_same = 0;
      for (size_t row = 0; row * vocab < ref.size(); ++row) {
        const float* ours = &result.logits[row * vocab];
        const float* theirs = &ref[row * vocab];
        const int32_t top = ArgMax(theirs, vocab);
        std::vector<float> sorted(theirs, theirs + vocab);
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
        const double scale = std::sqrt(std::inner_product(theirs, theirs + vocab, theirs, 0.0) / vocab);
        ++positions;
        same_top += ArgMax(ours, vocab) == top;
        if (sorted[0] - sorted[1] > 4 * error * scale) {
          ++clear;
          clear_same += ArgMax(ours, vocab) == top;
        }
      }
      const LogitsAgreement agreement = CompareLogits(exact.logits, result.logits, vocab);
      std::printf("%s %s sequence %zu: relative error %.3g, top token as the reference at %d of %d positions "
                  "(%d of %d with a clear margin); against the unquantised forward: top token %.3f, KL mean %.2e "
                  "max %.2e\n",
                  GetParam().c_str(), scheme.c_str(), s, error, same_top, positions, clear_same, clear,
                  agreement.top_agreement(), agreement.mean_kl, agreement.max_kl);
      // Rounding the weights to bf16 alone moves these fixtures' logits by 0.6% (qwen3_moe_tiny),
      // 1.8% (deepseek_v2_lite_tiny) and 0.9% (deepseek_v3_tiny); 8 bits by 1.5-2.5% (2-3% with
      // the input embeddings rounded too, as before they stayed in bf16), 4 bits by
      // 13-22% (each product 8.7% off, and these random models' widths of 64-128 average little
      // of it out). deepseek_v3_tiny moves out of proportion, 18-24% at 8 bits and 34-44% at 4,
      // and it is its routing: with only the embeddings at 8 bits, positions 0-16 of sequence 0
      // move by 0.7-1.5% and position 17 by 71% — a near-tied expert choice (4 groups, the best
      // 2, random weights) flips — after which attention carries it into later positions. So
      // it is bounded loosely and still must keep every clear top token. The others can flip
      // one position alone at 8 bits: qwen3_moe_tiny's sequence 0 at position 11 moves by 33%
      // (f16 block scales) while the other 23 stay at 1.2-3.0% — the position whose expert
      // choice bf16 rounding flips on the GPU too (cuda_model_test.cc). So, as there, one
      // position in 20 may be off, and otherwise the sequence as a whole keeps the bound.
      // At 4 bits every position moves by 10-40%: the sequence's error is the measure.
      // The trained default model is the measure of quality (bench/quantization_quality,
      // BENCHMARKS.md).
      const bool v3 = GetParam() == "deepseek_v3_tiny";
      const double bound = scheme == "q8" ? (v3 ? 0.3 : 0.035) : (v3 ? 0.6 : 0.3);
      if (v3 || scheme == "q4") {
        EXPECT_LT(error, bound) << scheme << " sequence " << s;
      } else {
        const PositionsOff moved = CountPositionsOff(result.logits, ref, vocab, bound);
        EXPECT_TRUE(error < bound || moved.off <= std::max(1, moved.positions / 20))
            << scheme << " sequence " << s << ": relative error " << error << ", by position:" << moved.by_position;
      }
      EXPECT_EQ(clear_same, clear) << scheme << " sequence " << s;
    }
  }
}

TEST(QuantizedWeightsTest, AnUnknownQuantizationIsRefused) {
  auto model = Model::Load({.model_dir = ModelDir("qwen3_moe_tiny"), .quantize = "q3"});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(model.status().message()), ::testing::HasSubstr("quantize"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelParityTest,
                         ::testing::Values("deepseek_v3_tiny", "deepseek_v2_lite_tiny", "qwen3_moe_tiny",
                                           "qwen3_dense_tiny"));

TEST(MtpParityTest, DeepseekV3MtpLogitsMatch) {
  auto model = Model::Load({.model_dir = ModelDir("deepseek_v3_tiny")});
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE((*model)->has_mtp());
  Expected expected = LoadExpected("deepseek_v3_tiny");
  const auto& tokens = expected.sequences[0];
  const int64_t hidden = (*model)->config().hidden_size;
  auto cache = (*model)->NewCache();
  ForwardResult main;
  ASSERT_TRUE((*model)->Forward(tokens, cache.get(), {.return_hidden = true}, &main).ok());

  // Row i: hidden at i with token i+1, for i = 0..T-2.
  const size_t n = tokens.size() - 1;
  std::vector<float> ref = expected.Tensor("mtp_logits_0");
  auto mtp_cache = (*model)->NewMtpCache();
  ForwardResult mtp;
  ASSERT_TRUE((*model)->ForwardMtp(std::span(main.hidden).first(n * hidden), std::span(tokens).subspan(1),
                                   mtp_cache.get(), &mtp).ok());
  ASSERT_EQ(mtp.logits.size(), ref.size());
  const double error = RelativeError(mtp.logits.data(), ref);
  std::printf("deepseek_v3_tiny MTP: relative error %.3g\n", error);
  EXPECT_LT(error, 1e-4);

  // The same positions fed one at a time through the MTP cache.
  auto step_cache = (*model)->NewMtpCache();
  const int64_t vocab = (*model)->config().vocab_size;
  for (size_t i = 0; i < n; ++i) {
    ForwardResult step;
    ASSERT_TRUE((*model)->ForwardMtp(std::span(main.hidden).subspan(i * hidden, hidden),
                                     std::span(tokens).subspan(i + 1, 1), step_cache.get(), &step).ok());
    std::vector<float> ref_row(ref.begin() + i * vocab, ref.begin() + (i + 1) * vocab);
    EXPECT_LT(RelativeError(step.logits.data(), ref_row), 1e-4) << "MTP position " << i;
  }
}

TEST(MtpParityTest, ModelsWithoutMtpSaySo) {
  auto model = Model::Load({.model_dir = ModelDir("qwen3_moe_tiny")});
  ASSERT_TRUE(model.ok());
  EXPECT_FALSE((*model)->has_mtp());
  ForwardResult result;
  std::vector<float> hidden((*model)->config().hidden_size);
  std::vector<int32_t> token = {1};
  EXPECT_EQ((*model)->ForwardMtp(hidden, token, (*model)->NewMtpCache().get(), &result).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace engine
