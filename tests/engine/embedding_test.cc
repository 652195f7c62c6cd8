// Embeddings: the sentence-transformers settings of a model directory (pooling, prompts), the
// pooling arithmetic, and Engine::Embed against an independent computation from the model's
// own forward pass, one text at a time, on the tiny DeepSeek-V3 chat checkpoint.
#include "engine/embedding.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine.h"

namespace engine {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string TinyChatModel() { return std::string(AGENTD_TEST_DATA_DIR) + "/models/deepseek_v3_tiny_chat"; }

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A copy of the tiny model's directory (weights linked) with sentence-transformers files added.
class EmbeddingModelDir {
 public:
  EmbeddingModelDir(const std::string& pooling_json, const std::string& st_json) {
    dir_ = fs::temp_directory_path() / ("agentd-embedding-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    for (const auto& entry : fs::directory_iterator(TinyChatModel())) {
      fs::create_symlink(fs::absolute(entry.path()), dir_ / entry.path().filename());
    }
    if (!pooling_json.empty()) WriteFile(dir_ / "1_Pooling" / "config.json", pooling_json);
    if (!st_json.empty()) WriteFile(dir_ / "config_sentence_transformers.json", st_json);
  }
  ~EmbeddingModelDir() { fs::remove_all(dir_); }
  std::string path() const { return dir_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

// Final hidden states of [BOS] + tokens(text), one forward pass of one sequence.
std::vector<float> HiddenStates(Engine& engine, const std::string& text, int64_t* tokens) {
  std::vector<int32_t> ids{*engine.tokenizer().bos_id()};
  for (int32_t id : engine.tokenizer().Encode(text)) ids.push_back(id);
  auto cache = engine.model().NewCache();
  ForwardResult result;
  EXPECT_TRUE(engine.model().Forward(ids, cache.get(), {.return_hidden = true}, &result).ok());
  *tokens = static_cast<int64_t>(ids.size());
  return result.hidden;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = a.size() == b.size() ? 0 : INFINITY;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  return worst;
}

TEST(PoolTest, MeanLastAndFirstToken) {
  // Three tokens, hidden size 2.
  const std::vector<float> hidden{1, 2, 3, 4, 8, 9};
  EXPECT_EQ(Pool(Pooling::kMean, true, hidden, 3, 2, 1), (std::vector<float>{4, 5}));
  EXPECT_EQ(Pool(Pooling::kMean, false, hidden, 3, 2, 1), (std::vector<float>{5.5, 6.5}));
  // A prompt covering every token: the mean falls back to all of them rather than nothing.
  EXPECT_EQ(Pool(Pooling::kMean, false, hidden, 3, 2, 3), (std::vector<float>{4, 5}));
  EXPECT_EQ(Pool(Pooling::kLastToken, true, hidden, 3, 2, 1), (std::vector<float>{8, 9}));
  EXPECT_EQ(Pool(Pooling::kFirstToken, true, hidden, 3, 2, 1), (std::vector<float>{1, 2}));
  std::vector<float> v{3, 4};
  NormalizeL2(v);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero{0, 0};
  NormalizeL2(zero);
  EXPECT_EQ(zero, (std::vector<float>{0, 0}));
}

TEST(EmbeddingSettingsTest, PlainModelDirectoriesGetMeanPoolingAndNoPrompts) {
  auto settings = ReadEmbeddingSettings(TinyChatModel());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->pooling, Pooling::kMean);
  EXPECT_FALSE(settings->declared);
  EXPECT_EQ(settings->PromptFor(EmbedRole::kQuery), "");
}

TEST(EmbeddingSettingsTest, SentenceTransformersFilesAreRead) {
  EmbeddingModelDir dir(R"({"pooling_mode_lasttoken": true, "pooling_mode_mean_tokens": false, "include_prompt": true})",
                        R"({"prompts": {"query": "Instruct: find the passage\nQuery:", "passage": "P: "}})");
  auto settings = ReadEmbeddingSettings(dir.path());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_TRUE(settings->declared);
  EXPECT_EQ(settings->pooling, Pooling::kLastToken);
  EXPECT_EQ(settings->PromptFor(EmbedRole::kQuery), "Instruct: find the passage\nQuery:");
  EXPECT_EQ(settings->PromptFor(EmbedRole::kDocument), "P: ");
}

TEST(EmbeddingSettingsTest, MalformedFilesAreErrorsNamingTheFile) {
  EmbeddingModelDir two_modes(R"({"pooling_mode_lasttoken": true, "pooling_mode_mean_tokens": true})", "");
  EXPECT_THAT(ReadEmbeddingSettings(two_modes.path()).status().message(), HasSubstr("1_Pooling/config.json"));
  EmbeddingModelDir max_pooling(R"({"pooling_mode_max_tokens": true})", "");
  EXPECT_THAT(ReadEmbeddingSettings(max_pooling.path()).status().message(), HasSubstr("not supported"));
  EmbeddingModelDir not_json("{pooling", "");
  EXPECT_THAT(ReadEmbeddingSettings(not_json.path()).status().message(), HasSubstr("not a JSON object"));
  EmbeddingModelDir bad_prompt("", R"({"prompts": {"query": 7}})");
  EXPECT_THAT(ReadEmbeddingSettings(bad_prompt.path()).status().message(), HasSubstr("prompts.query"));
  // The engine refuses to load such a directory rather than embedding some other way.
  EXPECT_THAT(Engine::Load({.model_dir = two_modes.path()}).status().message(), HasSubstr("1_Pooling"));
}

TEST(EngineEmbedTest, BatchedEmbeddingsEqualTheMeanOfEachTextsOwnForwardPass) {
  auto engine = Engine::Load({.model_dir = TinyChatModel()});
  ASSERT_TRUE(engine.ok()) << engine.status();
  // Lengths differ, so one batched pass holds sequences of different sizes.
  const std::vector<std::string> texts{"a", "the station at the end of the line", "two words", std::string(300, 'x')};
  auto batched = (*engine)->Embed(texts, {.normalize = false});
  ASSERT_TRUE(batched.ok()) << batched.status();
  const int64_t hidden_size = (*engine)->info().hidden_size;
  for (size_t i = 0; i < texts.size(); ++i) {
    int64_t n = 0;
    std::vector<float> hidden = HiddenStates(**engine, texts[i], &n);
    std::vector<float> mean(hidden_size, 0.0f);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t j = 0; j < hidden_size; ++j) mean[j] += hidden[t * hidden_size + j] / n;
    }
    EXPECT_LT(MaxAbsDiff((*batched)[i], mean), 1e-4) << texts[i];
  }
}

TEST(EngineEmbedTest, QueriesGetTheQueryPromptAndLastTokenPooling) {
  EmbeddingModelDir dir(R"({"pooling_mode_lasttoken": true})", R"({"prompts": {"query": "query: ", "document": ""}})");
  auto engine = Engine::Load({.model_dir = dir.path()});
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_TRUE((*engine)->info().embedding_model);
  EXPECT_EQ((*engine)->info().embedding_pooling, "last_token");
  auto query = (*engine)->Embed({"where is the station"}, {.role = EmbedRole::kQuery, .normalize = false});
  auto document = (*engine)->Embed({"where is the station"}, {.role = EmbedRole::kDocument, .normalize = false});
  ASSERT_TRUE(query.ok() && document.ok());
  int64_t n = 0;
  const int64_t hidden_size = (*engine)->info().hidden_size;
  std::vector<float> with_prompt = HiddenStates(**engine, "query: where is the station", &n);
  std::vector<float> expected(with_prompt.end() - hidden_size, with_prompt.end());
  EXPECT_LT(MaxAbsDiff((*query)[0], expected), 1e-4);
  std::vector<float> without_prompt = HiddenStates(**engine, "where is the station", &n);
  expected.assign(without_prompt.end() - hidden_size, without_prompt.end());
  EXPECT_LT(MaxAbsDiff((*document)[0], expected), 1e-4);
  EXPECT_GT(MaxAbsDiff((*query)[0], (*document)[0]), 1e-3);
}

TEST(EngineEmbedTest, MeanPoolingCanLeaveThePromptOut) {
  EmbeddingModelDir dir(R"({"pooling_mode_mean_tokens": true, "include_prompt": false})",
                        R"({"prompts": {"query": "query: "}})");
  auto engine = Engine::Load({.model_dir = dir.path()});
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto query = (*engine)->Embed({"station"}, {.role = EmbedRole::kQuery, .normalize = false});
  ASSERT_TRUE(query.ok()) << query.status();
  int64_t n = 0;
  const int64_t hidden_size = (*engine)->info().hidden_size;
  std::vector<float> hidden = HiddenStates(**engine, "query: station", &n);
  const int64_t prompt = 1 + static_cast<int64_t>((*engine)->tokenizer().Encode("query: ").size());
  std::vector<float> mean(hidden_size, 0.0f);
  for (int64_t t = prompt; t < n; ++t) {
    for (int64_t j = 0; j < hidden_size; ++j) mean[j] += hidden[t * hidden_size + j] / (n - prompt);
  }
  EXPECT_LT(MaxAbsDiff((*query)[0], mean), 1e-4);
}

}  // namespace
}  // namespace engine
