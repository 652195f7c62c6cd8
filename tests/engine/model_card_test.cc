#include "engine/model_card.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace engine {
namespace {

class ModelCardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("model_card_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& text) { std::ofstream(dir_ / "agentd_model.json") << text; }
  std::filesystem::path dir_;
};

TEST_F(ModelCardTest, ADirectoryWithoutACardWritesAbstractively) {
  auto card = ReadModelCard(dir_.string());
  ASSERT_TRUE(card.ok()) << card.status();
  EXPECT_EQ(card->writing_style, "abstractive");
}

TEST_F(ModelCardTest, ACardDeclaresItsWritingStyle) {
  Write(R"({"format": "agentd-model-card", "version": 1, "writing_style": "extractive"})");
  auto card = ReadModelCard(dir_.string());
  ASSERT_TRUE(card.ok()) << card.status();
  EXPECT_EQ(card->writing_style, "extractive");
}

TEST_F(ModelCardTest, AnythingElseIsRefusedNamingTheFileAndField) {
  // A "format" that is no string threw nlohmann's type_error out of the loader (the process
  // ended); every case is now INVALID_ARGUMENT naming the file and what is wrong.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"format": 5, "version": 1})", "format"},
      {R"({"format": ["agentd-model-card"], "version": 1})", "format"},
      {R"({"version": 1})", "format"},
      {R"({"format": "agentd-model-card", "version": "1"})", "version"},
      {R"({"format": "agentd-model-card", "version": 2})", "version"},
      {R"({"format": "agentd-model-card", "version": 1, "writing_style": "poetic"})", "writing_style"},
      {R"({"format": "agentd-model-card", "version": 1, "writing_style": 1})", "writing_style"},
      {R"([1, 2])", "not a JSON object"},
      {R"({"format": )", "not a JSON object"},
  };
  for (const auto& [text, field] : cases) {
    Write(text);
    auto card = ReadModelCard(dir_.string());
    ASSERT_FALSE(card.ok()) << text;
    EXPECT_EQ(card.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(card.status().message(), ::testing::HasSubstr("agentd_model.json")) << text;
    EXPECT_THAT(card.status().message(), ::testing::HasSubstr(field)) << text;
  }
}

}  // namespace
}  // namespace engine
