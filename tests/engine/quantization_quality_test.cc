// What quantised weights cost the shipped default model on text it was not trained on (the
// English seed documents): the quantised model keeps the unquantised one's top token and
// distribution within bounds set below the figures measured when the schemes were written
// (BENCHMARKS.md: q8 98.7% and KL 0.0001, q4 93.7% and KL 0.002), so a quantiser or kernel that
// loses precision fails here, not in a benchmark nobody reruns.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/logits_agreement.h"
#include "engine/model.h"
#include "engine/tokenizer.h"

namespace engine {
namespace {

namespace fs = std::filesystem;

std::vector<std::vector<int32_t>> HeldOutWindows(const Tokenizer& tokenizer, size_t window) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(std::string(AGENTD_TEST_DATA_DIR) + "/corpus_en/seeds")) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::vector<int32_t>> windows;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    for (std::vector<int32_t>& w : CutIntoWindows(tokenizer.Encode(text.str()), window)) windows.push_back(std::move(w));
  }
  return windows;
}

TEST(QuantizationQualityTest, TheDefaultModelKeepsItsPredictionsOnHeldOutText) {
  const std::string dir = std::string(AGENTD_SOURCE_DIR) + "/engine/models/agentd-default";
  auto tokenizer = Tokenizer::Load(dir);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::vector<std::vector<int32_t>> windows = HeldOutWindows(**tokenizer, 512);
  ASSERT_GE(windows.size(), 5u);
  auto reference = Model::Load({.model_dir = dir});
  ASSERT_TRUE(reference.ok()) << reference.status();
  struct Bound {
    std::string scheme;
    double min_same_top, max_mean_kl, max_perplexity_ratio;
  };
  // q4-pure's output head at 4 bits nearly doubles q4's KL (0.0041 against 0.0023 here) and
  // costs a point of top-token agreement (92.5% against 93.7%).
  for (const Bound& bound : {Bound{"q8", 0.98, 0.0005, 1.005}, Bound{"q4", 0.92, 0.005, 1.02},
                             Bound{"q4-pure", 0.90, 0.008, 1.02}}) {
    auto model = Model::Load({.model_dir = dir, .quantize = bound.scheme});
    ASSERT_TRUE(model.ok()) << model.status();
    auto result = CompareOnWindows(**reference, **model, windows);
    ASSERT_TRUE(result.ok()) << result.status();
    std::printf("%s: %lld predictions, perplexity %.2f (unquantised %.2f), same top token %.4f, KL mean %.5f max %.3f\n",
                bound.scheme.c_str(), static_cast<long long>(result->predictions), result->model_perplexity(),
                result->reference_perplexity(), result->agreement.top_agreement(), result->agreement.mean_kl,
                result->agreement.max_kl);
    EXPECT_GE(result->agreement.top_agreement(), bound.min_same_top) << bound.scheme;
    EXPECT_LE(result->agreement.mean_kl, bound.max_mean_kl) << bound.scheme;
    EXPECT_GT(result->agreement.mean_kl, 0) << bound.scheme << ": nothing was quantised";
    EXPECT_LE(result->model_perplexity(), result->reference_perplexity() * bound.max_perplexity_ratio) << bound.scheme;
  }
}

}  // namespace
}  // namespace engine
