// Speculative decoding: every drafter (n-gram, the checkpoint's MTP layer, a draft model)
// leaves greedy output token for token unchanged, with and without penalties; and with
// temperature the rejection sampling keeps the target's distribution, checked statistically on
// a tiny model against exact probabilities.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <gtest/gtest.h>

#include "engine/tiny_chat_model_test_base.h"

#include "engine/constraint.h"
#include "engine/generation.h"
#include "engine/model.h"
#include "engine/random_checkpoint.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

namespace engine {
namespace {

namespace fs = std::filesystem;
using Mode = SpeculationConfig::Mode;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A random model with the tiny chat model's shapes (and so its vocabulary).
std::unique_ptr<Model> RandomTwin(const std::string& name, uint64_t seed, float stddev) {
  const fs::path dir = fs::temp_directory_path() / ("agentd_spec_" + name + "_" + std::to_string(::getpid()));
  RandomCheckpointOptions options{.dtype = DType::kF32, .stddev = stddev, .seed = seed};
  EXPECT_TRUE(WriteRandomCheckpoint(ReadFile(fs::path(TinyChatModel()) / "config.json"), dir.string(), options).ok());
  auto model = Model::Load({.model_dir = dir.string()});
  fs::remove_all(dir);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? std::move(*model) : nullptr;
}

class SpeculationTest : public TinyChatModelTestBase {
 protected:
  GenerationResult Run(const std::string& prompt, GenerationRequest request) {
    request.prompt = tokenizer_->Encode(prompt);
    std::string streamed;
    auto result = Generate(*model_, *tokenizer_, request, [&](const GenerationDelta& d) {
      streamed += d.text;
      return true;
    });
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return {};
    EXPECT_EQ(streamed, result->text);
    return *result;
  }

};

TEST_F(SpeculationTest, GreedyOutputIsUnchangedByEveryDrafter) {
  std::unique_ptr<Model> other = RandomTwin("draft", 7, 0.02f);
  ASSERT_NE(other, nullptr);
  const std::string prompt = "the station of the theory of the station of the theory of the";
  struct Case {
    const char* name;
    Mode mode;
    int k;
    Model* draft;
  };
  const std::vector<Case> cases = {
      {"ngram k=4", Mode::kNgram, 4, nullptr},  {"mtp k=1", Mode::kMtp, 1, nullptr},
      {"mtp k=3", Mode::kMtp, 3, nullptr},      {"draft=self k=4", Mode::kDraftModel, 4, model_.get()},
      {"draft=other k=3", Mode::kDraftModel, 3, other.get()},
  };
  for (float penalty : {1.0f, 1.3f}) {
    for (int max_tokens : {1, 9, 80}) {
      GenerationRequest plain;
      plain.max_tokens = max_tokens;
      plain.ignore_eos = true;
      plain.sampling.repetition_penalty = penalty;
      const GenerationResult expected = Run(prompt, plain);
      ASSERT_EQ(static_cast<int>(expected.tokens.size()), max_tokens);
      for (const Case& c : cases) {
        GenerationRequest speculative = plain;
        speculative.speculation = {.mode = c.mode, .num_draft_tokens = c.k, .draft_model = c.draft};
        const GenerationResult got = Run(prompt, speculative);
        EXPECT_EQ(got.tokens, expected.tokens) << c.name << ", penalty " << penalty << ", max_tokens " << max_tokens;
        EXPECT_EQ(got.text, expected.text) << c.name;
        EXPECT_TRUE(got.speculated);
        EXPECT_EQ(got.speculation_mode, c.mode);
        EXPECT_LE(got.draft_tokens_accepted, got.draft_tokens_proposed);
        if (max_tokens == 80) {
          EXPECT_LT(got.verify_steps, max_tokens) << c.name;
          std::printf("%-16s penalty %.1f: %3lld proposed, %3lld accepted, %2lld verify steps for %d tokens\n", c.name,
                      penalty, static_cast<long long>(got.draft_tokens_proposed),
                      static_cast<long long>(got.draft_tokens_accepted), static_cast<long long>(got.verify_steps),
                      max_tokens);
        }
        if (c.draft == model_.get() && max_tokens > 1) {
          // The model drafting for itself is always right.
          EXPECT_EQ(got.draft_tokens_accepted, got.draft_tokens_proposed) << c.name;
        }
      }
    }
  }
}

TEST_F(SpeculationTest, ConstrainedOutputIsUnchangedBySpeculation) {
  const ResponseConstraint specs[] = {
      {.kind = ResponseConstraint::Kind::kJsonSchema,
       .json_schema = R"({"type": "object", "properties": {"title": {"type": "string", "maxLength": 40},
                          "sections": {"type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": 3}},
                          "required": ["title", "sections"]})"},
      {.kind = ResponseConstraint::Kind::kCitedText, .max_citation = 3},
  };
  for (const ResponseConstraint& spec : specs) {
    for (Mode mode : {Mode::kNgram, Mode::kMtp, Mode::kDraftModel}) {
      auto plain_constraint = TokenConstraint::Create(spec, *tokenizer_);
      auto speculative_constraint = TokenConstraint::Create(spec, *tokenizer_);
      ASSERT_TRUE(plain_constraint.ok() && speculative_constraint.ok());
      GenerationRequest plain;
      plain.max_tokens = 60;
      plain.sampling.repetition_penalty = 1.2f;
      plain.constraint = plain_constraint->get();
      GenerationRequest speculative = plain;
      speculative.constraint = speculative_constraint->get();
      speculative.speculation = {.mode = mode, .num_draft_tokens = 3, .draft_model = model_.get()};
      const GenerationResult expected = Run("the theory of [1] the station", plain);
      const GenerationResult got = Run("the theory of [1] the station", speculative);
      EXPECT_EQ(got.tokens, expected.tokens) << SpeculationModeName(mode);
      EXPECT_TRUE(got.speculated);
      if (mode != Mode::kNgram) {
        EXPECT_GT(got.draft_tokens_proposed, 0) << SpeculationModeName(mode);
      }
    }
  }
}

TEST_F(SpeculationTest, QuotedSentencesAreUnchangedBySpeculationAndCopyingIsDrafted) {
  // Quote grounding copies sentences the prompt already holds: prompt lookup drafts them, and
  // the output is the same token for token as without speculation.
  const ResponseConstraint spec{.kind = ResponseConstraint::Kind::kQuotedSentences,
                                .quotes = {{"The station was built in 1998.", 1},
                                           {"The theory of the station is simple.", 2},
                                           {"Its crew grew to seven people.", 1}},
                                .min_units = 2,
                                .quote_separator = " "};
  const std::string prompt =
      "[1] The station was built in 1998.\n[2] The theory of the station is simple.\n[1] Its crew grew to seven "
      "people.\nQuote: ";
  for (Mode mode : {Mode::kNgram, Mode::kMtp}) {
    auto plain_constraint = TokenConstraint::Create(spec, *tokenizer_);
    auto speculative_constraint = TokenConstraint::Create(spec, *tokenizer_);
    ASSERT_TRUE(plain_constraint.ok() && speculative_constraint.ok());
    GenerationRequest plain;
    plain.max_tokens = 80;
    plain.constraint = plain_constraint->get();
    GenerationRequest speculative = plain;
    speculative.constraint = speculative_constraint->get();
    speculative.speculation = {.mode = mode, .num_draft_tokens = 4};
    const GenerationResult expected = Run(prompt, plain);
    const GenerationResult got = Run(prompt, speculative);
    EXPECT_EQ(got.tokens, expected.tokens) << SpeculationModeName(mode);
    EXPECT_TRUE(got.speculated);
    EXPECT_GT(got.draft_tokens_proposed, 0) << SpeculationModeName(mode);
    if (mode == Mode::kNgram) {
      EXPECT_GT(got.draft_tokens_accepted, 0);
    }
  }
}

TEST_F(SpeculationTest, RequestsThatCannotSpeculateAreRefused) {
  std::unique_ptr<Model> other = RandomTwin("refuse", 3, 0.02f);
  GenerationRequest request;
  request.prompt = tokenizer_->Encode("the");
  request.speculation = {.mode = Mode::kDraftModel, .num_draft_tokens = 2};
  EXPECT_EQ(Generate(*model_, *tokenizer_, request, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  request.speculation.num_draft_tokens = 65;
  request.speculation.draft_model = other.get();
  EXPECT_EQ(Generate(*model_, *tokenizer_, request, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  auto no_mtp = Model::Load({.model_dir = std::string(AGENTD_TEST_DATA_DIR) + "/models/qwen3_moe_tiny"});
  ASSERT_TRUE(no_mtp.ok());
  request.speculation = {.mode = Mode::kMtp, .num_draft_tokens = 2};
  request.prompt = {1, 2, 3};
  auto refused = Generate(**no_mtp, *tokenizer_, request, nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("MTP"), std::string::npos);
}

// Pearson's χ² of observed counts against expected probabilities, over bins of about equal
// expected mass (tokens sorted by probability), so that no bin is nearly empty.
double BinnedChiSquare(const std::vector<double>& expected, const std::vector<int>& observed, int total, int bins) {
  std::vector<int> order(expected.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return expected[a] > expected[b]; });
  double chi = 0, mass = 0, count = 0, filled = 0;
  int made = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    mass += expected[order[i]];
    count += observed[order[i]];
    filled += expected[order[i]];
    const bool last = i + 1 == order.size();
    if (last || (made < bins - 1 && filled >= static_cast<double>(made + 1) / bins)) {
      const double e = mass * total;
      chi += (count - e) * (count - e) / e;
      mass = count = 0;
      ++made;
    }
  }
  return chi;
}

std::vector<double> Softmax(const std::vector<float>& logits, size_t from, size_t n) {
  std::vector<double> p(n);
  const float max_value = *std::max_element(logits.begin() + from, logits.begin() + from + n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(static_cast<double>(logits[from + i] - max_value));
  for (double& v : p) v /= sum;
  return p;
}

TEST_F(SpeculationTest, RejectionSamplingKeepsTheTargetDistribution) {
  // Peaked, unrelated target and drafter distributions: many rejections, and a drafter whose
  // own distribution is far from the target's.
  std::unique_ptr<Model> target = RandomTwin("target", 11, 0.25f);
  std::unique_ptr<Model> drafter = RandomTwin("drafter", 12, 0.25f);
  ASSERT_NE(target, nullptr);
  ASSERT_NE(drafter, nullptr);
  const int64_t vocab = target->config().vocab_size;
  const std::vector<int32_t> prompt = tokenizer_->Encode("the theory of");

  // Exact marginals of the first and second generated token under the target (p) and, for
  // comparison, when every draft were kept (the drafter's own second token, q).
  auto next_probs = [&](Model& m, const std::vector<int32_t>& ids) {
    auto cache = m.NewCache();
    ForwardResult out;
    EXPECT_TRUE(m.Forward(ids, cache.get(), {}, &out).ok());
    return Softmax(out.logits, 0, vocab);
  };
  const std::vector<double> first = next_probs(*target, prompt);
  std::vector<double> second(vocab, 0.0), second_if_drafts_kept(vocab, 0.0);
  for (int32_t t1 = 0; t1 < vocab; ++t1) {
    std::vector<int32_t> ids = prompt;
    ids.push_back(t1);
    const std::vector<double> p = next_probs(*target, ids), q = next_probs(*drafter, ids);
    for (int64_t x = 0; x < vocab; ++x) {
      second[x] += first[t1] * p[x];
      second_if_drafts_kept[x] += first[t1] * q[x];
    }
  }

  auto tokenizer = Tokenizer::Load(TinyChatModel());
  ASSERT_TRUE(tokenizer.ok());
  const int runs = 3000;
  std::vector<int> first_counts(vocab, 0), second_counts(vocab, 0);
  int64_t proposed = 0, accepted = 0;
  for (int seed = 1; seed <= runs; ++seed) {
    GenerationRequest request;
    request.prompt = prompt;
    request.max_tokens = 2;
    request.ignore_eos = true;
    request.sampling.temperature = 1.0f;
    request.sampling.seed = static_cast<uint64_t>(seed);
    request.speculation = {.mode = Mode::kDraftModel, .num_draft_tokens = 1, .draft_model = drafter.get()};
    auto result = Generate(*target, **tokenizer, request, nullptr);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->tokens.size(), 2u);
    ++first_counts[result->tokens[0]];
    ++second_counts[result->tokens[1]];
    proposed += result->draft_tokens_proposed;
    accepted += result->draft_tokens_accepted;
  }
  // χ² with 9 degrees of freedom: 27.9 is the 0.001 critical value.
  const double chi_first = BinnedChiSquare(first, first_counts, runs, 10);
  const double chi_second = BinnedChiSquare(second, second_counts, runs, 10);
  std::vector<int> drafter_expected(vocab);
  for (int64_t x = 0; x < vocab; ++x) drafter_expected[x] = static_cast<int>(std::lround(second_if_drafts_kept[x] * runs));
  const double chi_drafter = BinnedChiSquare(second, drafter_expected, runs, 10);
  std::printf("χ²(9): first token %.1f, second token %.1f; a sampler that kept every draft: %.1f; "
              "drafts accepted %lld of %lld\n",
              chi_first, chi_second, chi_drafter, static_cast<long long>(accepted), static_cast<long long>(proposed));
  EXPECT_LT(chi_first, 27.9);
  EXPECT_LT(chi_second, 27.9);
  // The test can tell: keeping the drafter's tokens would fail it by far.
  EXPECT_GT(chi_drafter, 10 * 27.9);
  EXPECT_EQ(proposed, runs);
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, proposed);
}

}  // namespace
}  // namespace engine
