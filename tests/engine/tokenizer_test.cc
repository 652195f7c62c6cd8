// The tokenizer against Hugging Face tokenizers: every case in tests/data/tokenizers/*/cases.jsonl
// (copied from the shared fixtures) must encode to exactly the same ids and decode to the same
// text; streaming decoding never splits a character.
#include "engine/tokenizer.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

namespace engine {
namespace {

std::string TokenizerDir(const std::string& name) {
  return std::string(AGENTD_TEST_DATA_DIR) + "/tokenizers/" + name;
}

class TokenizerParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  static const Tokenizer& Get(const std::string& name) {
    static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
    auto& slot = loaded[name];
    if (!slot) {
      auto tokenizer = Tokenizer::Load(TokenizerDir(name));
      EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
      slot = std::move(*tokenizer);
    }
    return *slot;
  }
};

TEST_P(TokenizerParityTest, EveryCaseMatchesHuggingFace) {
  const Tokenizer& tokenizer = Get(GetParam());
  std::ifstream in(TokenizerDir(GetParam()) + "/cases.jsonl");
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    nlohmann::json c = nlohmann::json::parse(line);
    const std::string text = c["text"];
    const auto expected = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer.Encode(text), expected) << "text: " << text;
    EXPECT_EQ(tokenizer.Decode(expected), c["decoded"].get<std::string>()) << "ids of: " << text;
    ++cases;
  }
  EXPECT_GT(cases, 50);
}

// The seed corpus (Chinese research reports with tables and numbers), paragraph by paragraph,
// against transformers.js: a second, independent reference on real text of the product's kind.
TEST_P(TokenizerParityTest, SeedCorpusMatchesTransformersJs) {
  const Tokenizer& tokenizer = Get(GetParam());
  std::ifstream in(TokenizerDir(GetParam()) + "/corpus_cases.jsonl");
  std::string line;
  int cases = 0, mismatches = 0;
  while (std::getline(in, line)) {
    nlohmann::json c = nlohmann::json::parse(line);
    const std::string text = c["text"];
    const auto expected = c["ids"].get<std::vector<int32_t>>();
    std::vector<int32_t> ids = tokenizer.Encode(text);
    if (ids != expected && ++mismatches <= 3) ADD_FAILURE() << "mismatch on: " << text.substr(0, 200);
    EXPECT_EQ(tokenizer.Decode(ids), text);
    ++cases;
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(cases, 1000);
}

TEST_P(TokenizerParityTest, StreamingDecodeNeverSplitsACharacter) {
  const Tokenizer& tokenizer = Get(GetParam());
  const std::string text = "深度求索（DeepSeek）发布 V3 模型，训练成本约 557.6 万美元 🚀！";
  std::vector<int32_t> ids = tokenizer.Encode(text);
  IncrementalDecoder decoder(&tokenizer);
  std::string streamed;
  for (int32_t id : ids) {
    std::string piece = decoder.Push(id);
    EXPECT_EQ(CompleteUtf8Prefix(piece), piece.size());
    EXPECT_EQ(ToValidUtf8(piece), piece) << "a delta must be valid UTF-8";
    streamed += piece;
  }
  streamed += decoder.Flush();
  EXPECT_EQ(streamed, text);
}

TEST_P(TokenizerParityTest, SpecialTokensAndConfig) {
  const Tokenizer& tokenizer = Get(GetParam());
  ASSERT_TRUE(tokenizer.eos_id().has_value());
  EXPECT_TRUE(tokenizer.IsSpecial(*tokenizer.eos_id()));
  std::vector<int32_t> ids = tokenizer.Encode("hi");
  ids.push_back(*tokenizer.eos_id());
  EXPECT_EQ(tokenizer.Decode(ids, /*skip_special_tokens=*/true), "hi");
  if (GetParam() == "deepseek_v3") {
    EXPECT_TRUE(tokenizer.add_bos());
    EXPECT_EQ(tokenizer.bos_id(), 0);
    EXPECT_EQ(tokenizer.TokenString(0), "<｜begin▁of▁sentence｜>");
  } else {
    EXPECT_FALSE(tokenizer.add_bos());
    EXPECT_EQ(tokenizer.TokenId("<|im_end|>"), tokenizer.eos_id());
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerParityTest, ::testing::Values("deepseek_v3", "qwen3"));

TEST(Utf8Test, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(ToValidUtf8("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ToValidUtf8("\xe6\xb7"), "\xEF\xBF\xBD");         // cut 3-byte character
  EXPECT_EQ(ToValidUtf8("\xe6\xb7x"), "\xEF\xBF\xBDx");
  EXPECT_EQ(CompleteUtf8Prefix("ab\xe6\xb7"), 2u);            // held back, not replaced
  EXPECT_EQ(CompleteUtf8Prefix("ab\xff"), 3u);                // invalid: complete (replaced)
}

// An added token with lstrip/rstrip swallows the whitespace around it, Unicode spaces included.
TEST(AddedTokenTest, StripFlagsAbsorbNeighbouringWhitespace) {
  const char* json = R"({
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "Ġ": 2, "ã": 3, "Ģ": 4, "Ģ€": 5, "Ģ€Ģ€": 6}, "merges": []},
    "added_tokens": [{"id": 7, "content": "<x>", "special": true, "lstrip": true, "rstrip": true},
                     {"id": 8, "content": "<y>", "special": false, "single_word": true}],
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
    "decoder": {"type": "ByteLevel"}})";
  auto tokenizer = Tokenizer::FromJson(json, "", "t.json");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  // "a", U+3000 (ideographic space) and " " before the token, " " after: all absorbed.
  EXPECT_EQ((*tokenizer)->Encode("a\u3000 <x> b"), (std::vector<int32_t>{0, 7, 1}));
  // single_word: "<y>" inside a word is not the added token.
  std::vector<int32_t> inside = (*tokenizer)->Encode("a<y>");
  EXPECT_EQ(std::count(inside.begin(), inside.end(), 8), 0);
  EXPECT_EQ((*tokenizer)->Encode("<y>"), (std::vector<int32_t>{8}));
}

TEST(TokenizerErrorsTest, MalformedFilesAreRejectedWithAReason) {
  EXPECT_THAT(Tokenizer::FromJson("{", "", "t.json").status().message(), ::testing::HasSubstr("not valid JSON"));
  EXPECT_THAT(Tokenizer::FromJson(R"({"model": {"type": "Unigram"}})", "", "t.json").status().message(),
              ::testing::HasSubstr("Unigram"));
  EXPECT_THAT(Tokenizer::FromJson(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", "", "t.json")
                  .status().message(),
              ::testing::HasSubstr("merges[0]"));
  const char* bad_regex = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
    "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"}})";
  EXPECT_THAT(Tokenizer::FromJson(bad_regex, "", "t.json").status().message(), ::testing::HasSubstr("(unclosed"));
  EXPECT_EQ(Tokenizer::Load("/nonexistent").status().code(), absl::StatusCode::kNotFound);
}

TEST(TokenizerErrorsTest, FieldsOfAnotherTypeAreRejectedByName) {
  // Each of these threw nlohmann's type_error out of the loader and ended the process (the first
  // found by fuzz_tokenizer_json): now an error naming the field.
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []})";
  const std::string byte_level = R"("pre_tokenizer": {"type": "ByteLevel"})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{" + model + ", " + byte_level + R"(, "added_tokens": [{"id": 2, "content": "<s>", "lstrip": 1}]})",
       "added_tokens[2].lstrip"},
      {"{" + model + ", " + byte_level + R"(, "added_tokens": [{"id": 2, "content": "<s>", "normalized": "no"}]})",
       "added_tokens[2].normalized"},
      {"{" + model + ", " + byte_level + R"(, "added_tokens": {"id": 2}})", "added_tokens: must be a list"},
      {R"({"model": {"type": 7, "vocab": {"a": 0}}})", "model.type"},
      {"{" + model + R"(, "normalizer": 5, )" + byte_level + "}", "normalizer: must be an object"},
      {"{" + model + R"(, "normalizer": {"type": ["NFC"]}, )" + byte_level + "}", "normalizer.type"},
      {"{" + model + R"(, "normalizer": {"type": "Sequence", "normalizers": 3}, )" + byte_level + "}",
       "normalizer.normalizers"},
      {"{" + model + R"(, "pre_tokenizer": [1, 2]})", "pre_tokenizer: must be an object"},
      {"{" + model + R"(, "pre_tokenizer": {"type": "ByteLevel", "use_regex": "yes"}})", "pre_tokenizer.use_regex"},
      {"{" + model + R"(, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": 0}})",
       "pre_tokenizer.add_prefix_space"},
      {"{" + model + R"(, "pre_tokenizer": {"type": "Split", "invert": null, "pattern": {"String": " "}}})",
       "pre_tokenizer.invert"},
      {"{" + model + R"(, "pre_tokenizer": {"type": "Split", "behavior": 1, "pattern": {"String": " "}}})",
       "pre_tokenizer.behavior"},
      {"{" + model + ", " + byte_level + R"(, "decoder": {"type": false}})", "decoder.type"},
  };
  for (const auto& [json, field] : cases) {
    auto tokenizer = Tokenizer::FromJson(json, "", "t.json");
    ASSERT_FALSE(tokenizer.ok()) << json;
    EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_THAT(tokenizer.status().message(), ::testing::HasSubstr(field)) << json;
  }
  // The same file with its fields well typed loads.
  EXPECT_TRUE(Tokenizer::FromJson("{" + model + ", " + byte_level +
                                      R"(, "added_tokens": [{"id": 2, "content": "<s>", "lstrip": false, "special": true}]})",
                                  "", "t.json")
                  .ok());
}

}  // namespace
}  // namespace engine
