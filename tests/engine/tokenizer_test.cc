// The tokenizer against Hugging Face tokenizers: every case in tests/data/tokenizers/*/cases.jsonl
// (copied from the shared fixtures) must encode to exactly the same ids and decode to the same
// text; streaming decoding never splits a character.
#include "engine/tokenizer.h"

#include <algorithm>
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

// Added tokens inside literal ranges are text, in both of HF's passes: over the raw text and,
// for "normalized" added tokens, over the normalized text, also where normalizing (NFC here:
// "e" + U+0301 becomes "é") moved the bytes the ranges were given in.
TEST(AddedTokenTest, LiteralRangesKeepAddedTokensSpelledInsideThemAsText) {
  const char* json = R"({
    "normalizer": {"type": "NFC"},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "<": 2, ">": 3, "x": 4, "y": 5, "e": 6, "Ì": 7, "Ã": 8,
                        "ģ": 11, "©": 12, "ab": 13},
              "merges": ["a b"]},
    "added_tokens": [{"id": 9, "content": "<x>", "special": true, "normalized": false},
                     {"id": 10, "content": "<y>", "special": false, "normalized": true}],
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
    "decoder": {"type": "ByteLevel"}})";
  auto made = Tokenizer::FromJson(json, "", "t.json");
  ASSERT_TRUE(made.ok()) << made.status();
  const Tokenizer& tokenizer = **made;
  const std::vector<int32_t> x_as_text = {2, 4, 3}, y_as_text = {2, 5, 3};
  // Markup <x>, then a literal "a<x>b<y>", then markup <y>.
  const std::string text = "<x>a<x>b<y><y>";
  const std::vector<TextRange> literal = {{3, 11}};
  std::vector<int32_t> expected = {9, 0};
  expected.insert(expected.end(), x_as_text.begin(), x_as_text.end());
  expected.push_back(1);
  expected.insert(expected.end(), y_as_text.begin(), y_as_text.end());
  expected.push_back(10);
  EXPECT_EQ(tokenizer.EncodeWithLiteralRanges(text, literal), expected);
  EXPECT_EQ(tokenizer.Encode(text), (std::vector<int32_t>{9, 0, 9, 1, 10, 10}));
  // A range cutting a token's spelling keeps it text too.
  EXPECT_EQ(tokenizer.EncodeWithLiteralRanges("<y>", std::vector<TextRange>{{2, 3}}), y_as_text);

  // NFC moves bytes: "e" + U+0301 (3 bytes) becomes "é" (2). The literal "<y>" after it stays
  // text; the markup "<y>" after that is the token.
  const std::string accented = "e\xcc\x81<y>";
  const std::string moved = "a" + accented + "<y>";
  std::vector<int32_t> ids = tokenizer.EncodeWithLiteralRanges(moved, std::vector<TextRange>{{1, 1 + accented.size()}});
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 10), 1);
  EXPECT_EQ(ids.back(), 10);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 8), 1) << "é, normalized";
  const std::vector<int32_t> unranged = tokenizer.Encode(moved);
  EXPECT_EQ(std::count(unranged.begin(), unranged.end(), 10), 2);
  // Spelling nothing, the ids are Encode's also where NFC moves bytes and a range's edge falls
  // inside a merge: "é" + "a" literal, "b" not, is still é, "ab".
  const std::string composed = "e\xcc\x81" "ab";
  EXPECT_EQ(tokenizer.Encode(composed), (std::vector<int32_t>{8, 12, 13}));
  EXPECT_EQ(tokenizer.EncodeWithLiteralRanges(composed, std::vector<TextRange>{{0, 4}}), tokenizer.Encode(composed));
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
