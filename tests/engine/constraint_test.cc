// Constrained decoding: which token sequences a JSON Schema or cited-text constraint admits, and
// that sampling at random under the mask — what an untrained model amounts to — always yields
// output that parses and satisfies the schema.
#include "engine/constraint.h"

#include <chrono>
#include <map>
#include <random>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "nlohmann/json.hpp"

namespace engine {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string DataDir() { return AGENTD_TEST_DATA_DIR; }

const Tokenizer& QwenTokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    auto loaded = Tokenizer::Load(DataDir() + "/tokenizers/qwen3");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return std::move(*loaded);
  }();
  return *tokenizer;
}

const Tokenizer& SmallTokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    auto loaded = Tokenizer::Load(DataDir() + "/models/deepseek_v3_tiny_chat");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return std::move(*loaded);
  }();
  return *tokenizer;
}

constexpr char kOutlineSchema[] = R"({
  "type": "object",
  "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": 40},
    "sections": {"type": "array", "minItems": 2, "maxItems": 4, "items": {
      "type": "object",
      "properties": {"heading": {"type": "string", "minLength": 1, "maxLength": 20},
                     "level": {"type": "integer"},
                     "kind": {"enum": ["intro", "body", "conclusion"]},
                     "draft": {"type": "boolean"}},
      "required": ["heading", "kind"]}},
    "note": {"anyOf": [{"type": "string", "maxLength": 10}, {"type": "null"}]}
  },
  "required": ["title", "sections"]
})";

std::unique_ptr<TokenConstraint> Make(const ResponseConstraint& spec, const Tokenizer& tokenizer) {
  auto created = TokenConstraint::Create(spec, tokenizer);
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? std::move(*created) : nullptr;
}

ResponseConstraint Schema(const std::string& schema) {
  return {.kind = ResponseConstraint::Kind::kJsonSchema, .json_schema = schema};
}

// Feeds the text's tokens; returns false at the first refused token.
bool Admits(TokenConstraint& constraint, const Tokenizer& tokenizer, const std::string& text) {
  for (int32_t id : tokenizer.Encode(text)) {
    if (!constraint.Advance(id).ok()) return false;
  }
  return true;
}

bool AdmitsComplete(const ResponseConstraint& spec, const std::string& text) {
  auto constraint = Make(spec, QwenTokenizer());
  return Admits(*constraint, QwenTokenizer(), text) && constraint->IsComplete();
}

TEST(JsonSchemaConstraintTest, AdmitsConformingDocuments) {
  const ResponseConstraint spec = Schema(kOutlineSchema);
  EXPECT_TRUE(AdmitsComplete(spec, R"({"title": "能源报告", "sections": [{"heading": "A", "kind": "intro"}, {"heading": "B \"q\"", "level": -3, "kind": "body", "draft": true}]})"));
  EXPECT_TRUE(AdmitsComplete(spec, R"({"title":"x","sections":[{"heading":"a","kind":"body"},{"heading":"b","kind":"conclusion"}],"note":null})"));
  EXPECT_TRUE(AdmitsComplete(spec, R"({"title":"x","sections":[{"heading":"a","kind":"body"},{"heading":"b","kind":"body"}],"note":"short"})"));
}

TEST(JsonSchemaConstraintTest, RefusesWhatTheSchemaForbids) {
  const ResponseConstraint spec = Schema(kOutlineSchema);
  // Required property missing, wrong order, unknown key, too few items, too long, wrong enum, bad types.
  EXPECT_FALSE(AdmitsComplete(spec, R"({"sections": []})"));
  EXPECT_FALSE(AdmitsComplete(spec, R"({"sections": [], "title": "x"})"));
  EXPECT_FALSE(AdmitsComplete(spec, R"({"title": "x", "extra": 1})"));
  EXPECT_FALSE(AdmitsComplete(spec, R"({"title": "x", "sections": [{"heading": "a", "kind": "body"}]})"));
  EXPECT_FALSE(AdmitsComplete(spec, R"({"title": "0123456789012345678901234567890123456789X", "sections": []})"));
  EXPECT_FALSE(AdmitsComplete(spec, R"({"title": "x", "sections": [{"heading": "a", "kind": "outro"}, {"heading": "b", "kind": "body"}]})"));
  EXPECT_FALSE(AdmitsComplete(spec, R"({"title": "x", "sections": [{"heading": "a", "level": 1.5, "kind": "body"}, {"heading": "b", "kind": "body"}]})"));
  EXPECT_FALSE(AdmitsComplete(spec, R"({"title": "", "sections": []})"));
  EXPECT_FALSE(AdmitsComplete(spec, R"({"title": "x",  "sections": []})"));  // two spaces
  // A prefix of a valid document is admitted but not complete.
  auto constraint = Make(spec, QwenTokenizer());
  EXPECT_TRUE(Admits(*constraint, QwenTokenizer(), R"({"title": "x", "sec)"));
  EXPECT_FALSE(constraint->IsComplete());
}

TEST(JsonSchemaConstraintTest, SchemasThatExpandExponentiallyAreRefused) {
  // 16 levels of four types each: 1 KB of schema, 4^16 nodes once each type is compiled.
  std::string schema = R"({"type": "string"})";
  for (int level = 0; level < 16; ++level) {
    schema = R"({"type": ["object", "object", "object", "object"], "properties": {"a": )" + schema + "}}";
  }
  auto created = TokenConstraint::Create(Schema(schema), QwenTokenizer());
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.status().message(), ::testing::HasSubstr("expands to more than 20000 nodes"));
}

// Every alternative alive at a step is fed the vocabulary at every mask, on the scheduler thread
// every tenant's batch waits on: when that was a copy per token, with Qwen3's vocabulary one
// mask took 2.1 s with 64 strings in an anyOf, 42 s with 1,024 in nested anyOf, 116 s with 3,072
// (a 200 KB schema under the node bound). At most 16 may be open at once now (and the
// vocabulary's prefix tree is walked once per mask; token_trie_test.cc).
TEST(JsonSchemaConstraintTest, SchemasHoldingManyAlternativesOpenAtOnceAreRefused) {
  int length = 0;
  auto strings = [&](int n) {
    Json forms = Json::array();
    for (int i = 0; i < n; ++i) forms.push_back(Json{{"type", "string"}, {"maxLength", ++length}});
    return Json{{"anyOf", forms}};
  };
  auto refusal = [](const Json& schema) {
    auto created = TokenConstraint::Create(Schema(schema.dump()), QwenTokenizer());
    return created.ok() ? std::string("accepted") : std::string(created.status().message());
  };
  EXPECT_THAT(refusal(strings(17)), HasSubstr("json_schema: up to 17 alternatives"));
  EXPECT_THAT(refusal(strings(17)), HasSubstr("at most 16"));
  Json nested = Json::array();
  for (int i = 0; i < 64; ++i) nested.push_back(strings(16));
  EXPECT_THAT(refusal(Json{{"anyOf", nested}}), HasSubstr("up to 1024 alternatives"));
  // Alternatives inside array items or a property count where they are open: under each other
  // they add up, side by side in one object only one property's are open.
  EXPECT_THAT(refusal(Json{{"anyOf", {{{"type", "array"}, {"items", strings(9)}}, strings(8)}}}),
              HasSubstr("up to 17 alternatives"));
  EXPECT_EQ(refusal(strings(16)), "accepted");
  EXPECT_EQ(refusal(Json{{"type", "object"}, {"properties", {{"a", strings(16)}, {"b", strings(16)}}}}), "accepted");
  EXPECT_EQ(refusal(Json{{"type", "array"}, {"items", {{"type", {"string", "null", "integer"}}}}}), "accepted");

  // What one step costs with one alternative and with the most allowed, measured (the figures
  // in RELIABILITY.md).
  for (int open : {1, 16}) {
    auto constraint = Make(Schema(strings(open).dump()), QwenTokenizer());
    ASSERT_TRUE(Admits(*constraint, QwenTokenizer(), "\""));
    std::vector<float> logits(QwenTokenizer().vocab_size(), 0.f);
    const auto start = std::chrono::steady_clock::now();
    constraint->Mask(logits, {});
    std::printf("  one mask with %d alternatives open over %d tokens: %.0f ms\n", open, QwenTokenizer().vocab_size(),
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
}

TEST(JsonSchemaConstraintTest, AnyJsonValue) {
  const ResponseConstraint spec{.kind = ResponseConstraint::Kind::kJsonValue};
  for (const char* ok : {R"({"a": [1, 2.5e-3, true, null, {"b": "c"}], "d": {}})", "[]", "-0.5", "\"s\"", "false"}) {
    EXPECT_TRUE(AdmitsComplete(spec, ok)) << ok;
  }
  for (const char* bad : {"{a: 1}", "[1,]", "01", "tru", "{\"a\" 1}", "\"\\x\""}) {
    EXPECT_FALSE(AdmitsComplete(spec, bad)) << bad;
  }
}

TEST(JsonSchemaConstraintTest, ObjectAndArrayKeywordsWithoutATypeMeanThatType) {
  // Found by fuzz_json_matcher: {"properties": ...} without "type" was matched as any value, so
  // its property schemas (an unknown type here) went unchecked while validation applied them.
  auto unknown = TokenConstraint::Create(
      Schema(R"({"properties": {"n": {"type": "integer"}, "s": {"type": "st.ing"}}, "required": ["n"]})"), SmallTokenizer());
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown type 'st.ing'"));
  const ResponseConstraint object = Schema(R"({"properties": {"n": {"type": "integer"}}, "required": ["n"]})");
  EXPECT_TRUE(AdmitsComplete(object, R"({"n": 3})"));
  EXPECT_FALSE(AdmitsComplete(object, "5"));
  EXPECT_FALSE(AdmitsComplete(object, R"({"n": "3"})"));
  const ResponseConstraint array = Schema(R"({"items": {"type": "boolean"}})");
  EXPECT_TRUE(AdmitsComplete(array, "[true, false]"));
  EXPECT_FALSE(AdmitsComplete(array, "[1]"));
  EXPECT_FALSE(AdmitsComplete(array, R"({"a": true})"));
  // Item counts and string lengths alone imply arrays and strings too.
  auto impossible = TokenConstraint::Create(Schema(R"({"minItems": 1, "maxItems": 0})"), SmallTokenizer());
  ASSERT_FALSE(impossible.ok());
  EXPECT_THAT(impossible.status().message(), HasSubstr("minItems is larger than maxItems"));
  EXPECT_TRUE(AdmitsComplete(Schema(R"({"maxItems": 1})"), R"(["a"])"));
  EXPECT_FALSE(AdmitsComplete(Schema(R"({"maxLength": 2})"), R"("abc")"));
  EXPECT_FALSE(AdmitsComplete(Schema(R"({"maxLength": 2})"), "12"));
}

TEST(JsonSchemaConstraintTest, StringsAreValidUtf8AndSurrogatesComeInPairs) {
  // Found by fuzz_json_matcher: ED A1 94 (a UTF-16 surrogate in UTF-8) passed as a character,
  // and JSON parsers refuse the result.
  const ResponseConstraint any{.kind = ResponseConstraint::Kind::kJsonValue};
  EXPECT_FALSE(AdmitsComplete(any, "\"\xED\xA1\x94\""));
  EXPECT_FALSE(AdmitsComplete(any, "\"\xE0\x80\xAF\""));  // overlong
  EXPECT_FALSE(AdmitsComplete(any, "\"\xF4\x90\x80\x80\""));  // past U+10FFFF
  EXPECT_TRUE(AdmitsComplete(any, "\"\xED\x9F\xBF \xF0\x9F\x98\x80 中\""));
  EXPECT_TRUE(AdmitsComplete(any, R"("\uD83D\uDE00 \u00e9")"));
  EXPECT_FALSE(AdmitsComplete(any, R"("\uD83D")"));
  EXPECT_FALSE(AdmitsComplete(any, R"("\uD83Dx")"));
  EXPECT_FALSE(AdmitsComplete(any, R"("\uDE00")"));
  EXPECT_FALSE(AdmitsComplete(any, R"("\uD83D\u0041")"));
}

TEST(JsonSchemaConstraintTest, UnsupportedKeywordsAreRefusedByName) {
  auto pattern = TokenConstraint::Create(Schema(R"({"type": "string", "pattern": "^a"})"), SmallTokenizer());
  ASSERT_FALSE(pattern.ok());
  EXPECT_THAT(pattern.status().message(), HasSubstr("keyword 'pattern' is not supported"));
  auto nested = TokenConstraint::Create(
      Schema(R"({"type": "object", "properties": {"n": {"type": "number", "format": "float"}}})"), SmallTokenizer());
  ASSERT_FALSE(nested.ok());
  EXPECT_THAT(nested.status().message(), HasSubstr("json_schema.properties.n: keyword 'format'"));
  // Value bounds keep the structure enforced and leave the bound to validation afterwards.
  const ResponseConstraint bounded = Schema(
      R"({"type": "object", "properties": {"units": {"type": "integer", "minimum": 1, "maximum": 10}}, "required": ["units"]})");
  EXPECT_TRUE(AdmitsComplete(bounded, R"({"units": 3})"));
  EXPECT_FALSE(AdmitsComplete(bounded, R"({"units": "3"})"));
  auto required = TokenConstraint::Create(Schema(R"({"type": "object", "properties": {}, "required": ["x"]})"),
                                          SmallTokenizer());
  EXPECT_THAT(required.status().message(), HasSubstr("'x', which is not in properties"));
  // Required names and no properties at all (typed or implied): refused alike, not matched as any
  // object (which let {"hedaing": …} through where validation wants "heading").
  for (const char* schema : {R"({"type": "object", "required": ["heading"]})", R"({"required": ["heading"]})",
                             R"({"type": "array", "items": {"required": ["heading"]}})"}) {
    auto unnamed = TokenConstraint::Create(Schema(schema), SmallTokenizer());
    EXPECT_FALSE(unnamed.ok()) << schema;
    EXPECT_THAT(unnamed.status().message(), HasSubstr("required")) << schema;
  }
  EXPECT_TRUE(TokenConstraint::Create(Schema(R"({"type": "object", "required": []})"), SmallTokenizer()).ok());
  EXPECT_FALSE(TokenConstraint::Create(Schema("{not json"), SmallTokenizer()).ok());
}

// Samples uniformly among the allowed tokens until an end token is chosen.
std::string SampleUnderMask(TokenConstraint& constraint, const Tokenizer& tokenizer, std::mt19937& rng,
                            int32_t end_token, int max_tokens) {
  std::vector<int32_t> ids;
  std::vector<float> logits(tokenizer.vocab_size());
  const int32_t ends[] = {end_token};
  for (int step = 0; step < max_tokens; ++step) {
    std::uniform_real_distribution<float> noise(0.0f, 1.0f);
    for (float& l : logits) l = noise(rng);
    constraint.Mask(logits, ends);
    const int32_t token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    EXPECT_GT(logits[token], -1e30f) << "no token allowed after " << tokenizer.Decode(ids);
    if (token == end_token) break;
    EXPECT_TRUE(constraint.Advance(token).ok());
    ids.push_back(token);
  }
  return tokenizer.Decode(ids);
}

TEST(JsonSchemaConstraintTest, RandomSamplingUnderTheMaskAlwaysYieldsValidDocuments) {
  const Tokenizer& tokenizer = SmallTokenizer();
  const int32_t end = *tokenizer.eos_id();
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    auto constraint = Make(Schema(kOutlineSchema), tokenizer);
    const std::string text = SampleUnderMask(*constraint, tokenizer, rng, end, 4000);
    ASSERT_TRUE(constraint->IsComplete()) << text;
    Json doc = Json::parse(text, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << text;
    ASSERT_TRUE(doc["title"].is_string());
    ASSERT_TRUE(doc["sections"].is_array());
    EXPECT_GE(doc["sections"].size(), 2u);
    EXPECT_LE(doc["sections"].size(), 4u);
    for (const Json& section : doc["sections"]) {
      EXPECT_TRUE(section["heading"].is_string());
      EXPECT_THAT((std::vector<std::string>{"intro", "body", "conclusion"}),
                  ::testing::Contains(section["kind"].get<std::string>()));
      if (section.contains("level")) {
        EXPECT_TRUE(section["level"].is_number_integer()) << text;
      }
    }
  }
}

TEST(JsonSchemaConstraintTest, RandomSamplingOfAnyJsonParses) {
  const Tokenizer& tokenizer = SmallTokenizer();
  std::mt19937 rng(11);
  int complete = 0;
  for (int trial = 0; trial < 40; ++trial) {
    auto constraint = Make({.kind = ResponseConstraint::Kind::kJsonValue}, tokenizer);
    const std::string text = SampleUnderMask(*constraint, tokenizer, rng, *tokenizer.eos_id(), 300);
    if (!constraint->IsComplete()) continue;  // unbounded shapes may run past the budget
    ++complete;
    EXPECT_FALSE(Json::parse(text, nullptr, false).is_discarded()) << text;
  }
  EXPECT_GT(complete, 10);
}

TEST(CitedTextConstraintTest, OnlyCitationsOfGivenPassages) {
  const ResponseConstraint spec{.kind = ResponseConstraint::Kind::kCitedText, .max_citation = 12};
  EXPECT_TRUE(AdmitsComplete(spec, "装机量增长了 35% [3]。Growth was strong [12][1]."));
  EXPECT_FALSE(AdmitsComplete(spec, "see [13]"));
  EXPECT_FALSE(AdmitsComplete(spec, "see [0]"));
  EXPECT_FALSE(AdmitsComplete(spec, "see [03]"));
  EXPECT_FALSE(AdmitsComplete(spec, "see [a]"));
  EXPECT_FALSE(AdmitsComplete(spec, "unfinished [1"));
  EXPECT_FALSE(TokenConstraint::Create({.kind = ResponseConstraint::Kind::kCitedText}, SmallTokenizer()).ok());
  const Tokenizer& tokenizer = SmallTokenizer();
  std::mt19937 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    auto constraint = Make({.kind = ResponseConstraint::Kind::kCitedText, .max_citation = 3}, tokenizer);
    const std::string text = SampleUnderMask(*constraint, tokenizer, rng, *tokenizer.eos_id(), 200);
    for (size_t at = text.find('['); at != std::string::npos; at = text.find('[', at + 1)) {
      if (at + 2 >= text.size()) break;  // the budget ran out inside a citation
      EXPECT_TRUE(text[at + 1] >= '1' && text[at + 1] <= '3' && text[at + 2] == ']') << text;
    }
  }
}

// Splits quote-grounded output into (sentence, citation) units; false when it is not one.
bool ParseUnits(const std::string& text, const std::string& separator, std::vector<std::pair<std::string, int>>* units) {
  size_t at = 0;
  while (at < text.size()) {
    if (!units->empty()) {
      if (text.compare(at, separator.size(), separator) != 0) return false;
      at += separator.size();
    }
    const size_t open = text.find('[', at);
    const size_t close = text.find(']', open);
    if (open == std::string::npos || close == std::string::npos) return false;
    units->push_back({text.substr(at, open - at), std::stoi(text.substr(open + 1, close - open - 1))});
    at = close + 1;
  }
  return true;
}

ResponseConstraint Quotes(std::vector<Quote> quotes, int min_units, int max_units, std::string separator) {
  return {.kind = ResponseConstraint::Kind::kQuotedSentences, .quotes = std::move(quotes), .min_units = min_units,
          .max_units = max_units, .quote_separator = std::move(separator)};
}

TEST(QuotedSentencesConstraintTest, AdmitsOnlyWholeSentencesWithTheirOwnCitation) {
  const ResponseConstraint spec = Quotes({{"2023 年中国 AI Agent 市场规模为 554 亿元。", 1},
                                          {"预计至 2028 年将达 8520 亿元。", 2},
                                          {"Growth was strong.", 2}},
                                         1, 2, "");
  EXPECT_TRUE(AdmitsComplete(spec, "2023 年中国 AI Agent 市场规模为 554 亿元。[1]"));
  EXPECT_TRUE(AdmitsComplete(spec, "预计至 2028 年将达 8520 亿元。[2]Growth was strong.[2]"));
  EXPECT_FALSE(AdmitsComplete(spec, "2023 年中国 AI Agent 市场规模为 554 亿元。[2]"));    // another passage's number
  EXPECT_FALSE(AdmitsComplete(spec, "2023 年中国 AI Agent 市场规模为 555 亿元。[1]"));    // not verbatim
  EXPECT_FALSE(AdmitsComplete(spec, "2023 年中国 AI Agent 市场规模为 554 亿元。"));       // no citation
  EXPECT_FALSE(AdmitsComplete(spec, "Growth was strong.[2]Growth was strong.[2]"));     // a sentence twice
  EXPECT_FALSE(AdmitsComplete(spec, "Growth was strong.[2]预计至 2028 年将达 8520 亿元。[2]2023 年中国 AI Agent 市场规模为 554 亿元。[1]"));  // over max
  EXPECT_FALSE(AdmitsComplete(spec, ""));  // under min
  EXPECT_FALSE(AdmitsComplete(spec, "Growth was"));
  // The separator sits between units only.
  const ResponseConstraint spaced = Quotes({{"A first one.", 1}, {"A second one.", 2}}, 1, 0, " ");
  EXPECT_TRUE(AdmitsComplete(spaced, "A first one.[1] A second one.[2]"));
  EXPECT_FALSE(AdmitsComplete(spaced, "A first one.[1]A second one.[2]"));
  EXPECT_FALSE(AdmitsComplete(spaced, "A first one.[1] "));
}

TEST(QuotedSentencesConstraintTest, RefusesWhatCannotBeQuotedWithAClearError) {
  const Tokenizer& tokenizer = SmallTokenizer();
  auto empty = TokenConstraint::Create({.kind = ResponseConstraint::Kind::kQuotedSentences}, tokenizer);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("no sentences"));
  auto bracket = TokenConstraint::Create(Quotes({{"ok.", 1}, {"see [3] here.", 1}}, 1, 0, ""), tokenizer);
  EXPECT_THAT(bracket.status().message(), HasSubstr("quote.sentences[1].text"));
  auto citation = TokenConstraint::Create(Quotes({{"ok.", 0}}, 1, 0, ""), tokenizer);
  EXPECT_THAT(citation.status().message(), HasSubstr("quote.sentences[0].citation"));
  auto bounds = TokenConstraint::Create(Quotes({{"one.", 1}, {"two.", 1}}, 3, 0, ""), tokenizer);
  EXPECT_THAT(bounds.status().message(), HasSubstr("quote.min_units"));
}

TEST(QuotedSentencesConstraintTest, RandomSamplingOnlyYieldsVerbatimSentencesWithTheirCitation) {
  // Sampling at random under the mask is what an untrained model amounts to: whatever it picks
  // is a sequence of given sentences, each with the citation of the passage it came from.
  const std::vector<Quote> chinese = {{"2023 年中国 AI Agent 市场规模为 554 亿元，预计至 2028 年将达 8520 亿元。", 1},
                                      {"DeepSeek-V3 的完整训练成本为 557.6 万美元。", 2},
                                      {"DeepSeek-V3 在 2048 块 H800 GPU 的集群上训练。", 2},
                                      {"2024 年特效厅产出的票房为 85.3 亿元，约占国内电影总票房的 20%。", 3},
                                      {"2024 年特效厅产出的票房为 85.3 亿元。", 4},  // a prefix of another sentence
                                      {"特效厅又称特殊厅。", 3}};
  const std::vector<Quote> english = {{"The AI agent market grew 35% in 2024.", 1},
                                      {"The AI agent market grew 35%.", 2},
                                      {"Training cost 5.6 million dollars.", 1},
                                      {"Revenue rose; margins fell!", 3}};
  struct Case {
    const std::vector<Quote>* quotes;
    std::string separator;
  };
  const Tokenizer& tokenizer = SmallTokenizer();
  std::mt19937 rng(5);
  int sentences_seen = 0;
  for (const Case& c : {Case{&chinese, ""}, Case{&english, " "}}) {
    std::map<std::string, std::set<int>> citation_of;
    for (const Quote& q : *c.quotes) citation_of[q.text].insert(q.citation);
    for (int trial = 0; trial < 60; ++trial) {
      auto constraint = Make(Quotes(*c.quotes, 2, 4, c.separator), tokenizer);
      const std::string text = SampleUnderMask(*constraint, tokenizer, rng, *tokenizer.eos_id(), 400);
      ASSERT_TRUE(constraint->IsComplete()) << text;
      std::vector<std::pair<std::string, int>> units;
      ASSERT_TRUE(ParseUnits(text, c.separator, &units)) << text;
      EXPECT_GE(units.size(), 2u) << text;
      EXPECT_LE(units.size(), 4u) << text;
      std::set<std::string> written;
      for (const auto& [sentence, citation] : units) {
        ASSERT_TRUE(citation_of.count(sentence)) << "not a given sentence: " << sentence;
        EXPECT_TRUE(citation_of[sentence].count(citation)) << sentence << " cited as " << citation;
        EXPECT_TRUE(written.insert(sentence).second) << "repeated: " << sentence;
        ++sentences_seen;
      }
    }
  }
  EXPECT_GT(sentences_seen, 300);
}

TEST(ConstrainedGenerationTest, TheEngineProducesSchemaValidJson) {
  auto engine = Engine::Load({.model_dir = DataDir() + "/models/deepseek_v3_tiny_chat"});
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (uint64_t seed : {1, 2, 3}) {
    CompletionOptions options;
    options.max_tokens = 2000;
    options.sampling.temperature = 1.0f;
    options.sampling.seed = seed;
    options.constraint = Schema(kOutlineSchema);
    auto result = (*engine)->Chat({{.role = ChatMessage::Role::kUser, .content = "Outline a report on solar power."}}, {}, options, nullptr);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->generation.finish_reason, FinishReason::kStopToken);
    Json doc = Json::parse(result->reply.content, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << result->reply.content;
    EXPECT_TRUE(doc["sections"].is_array());
  }
  CompletionOptions bad;
  bad.constraint = Schema(R"({"type": "string", "format": "date"})");
  EXPECT_THAT((*engine)->Complete("x", bad, nullptr).status().message(), HasSubstr("keyword 'format'"));
}

}  // namespace
}  // namespace engine

namespace engine {
namespace {

std::vector<ToolSpec> CalculatorTools() {
  return {{"calculator", "Evaluates arithmetic.",
           R"({"type": "object", "properties": {"expression": {"type": "string", "minLength": 1, "maxLength": 20}},
               "required": ["expression"]})"},
          {"lookup", "Looks a word up.",
           R"({"type": "object", "properties": {"word": {"type": "string", "maxLength": 12},
               "limit": {"type": "integer"}}, "required": ["word", "limit"]})"}};
}

void ExpectValidCall(const ToolCall& call) {
  Json args = Json::parse(call.arguments_json, nullptr, false);
  ASSERT_FALSE(args.is_discarded()) << call.arguments_json;
  if (call.name == "calculator") {
    EXPECT_TRUE(args["expression"].is_string()) << call.arguments_json;
  } else {
    ASSERT_EQ(call.name, "lookup");
    EXPECT_TRUE(args["word"].is_string()) << call.arguments_json;
    EXPECT_TRUE(args["limit"].is_number_integer()) << call.arguments_json;
  }
}

TEST(ConstrainedToolCallTest, RequiredToolCallsAreValidForTheChosenToolsSchema) {
  auto engine = Engine::Load({.model_dir = DataDir() + "/models/deepseek_v3_tiny_chat"});
  ASSERT_TRUE(engine.ok()) << engine.status();
  std::set<std::string> names;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    CompletionOptions options;
    options.max_tokens = 400;
    options.sampling.temperature = 1.0f;
    options.sampling.seed = seed;
    options.tool_choice = CompletionOptions::ToolChoice::kRequired;
    auto result = (*engine)->Chat({{.role = ChatMessage::Role::kUser, .content = "What is 6 times 7?"}},
                                  CalculatorTools(), options, nullptr);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->reply.tool_calls.size(), 1u);
    ExpectValidCall(result->reply.tool_calls[0]);
    names.insert(result->reply.tool_calls[0].name);
  }
  for (const std::string& name : names) EXPECT_TRUE(name == "calculator" || name == "lookup") << name;
}

TEST(ConstrainedToolCallTest, CallsTheModelStartsOnItsOwnAreConstrainedToo) {
  auto engine = Engine::Load({.model_dir = DataDir() + "/models/deepseek_v3_tiny_chat"});
  ASSERT_TRUE(engine.ok()) << engine.status();
  int calls = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CompletionOptions options;
    options.max_tokens = 300;
    options.sampling.temperature = 1.0f;
    options.sampling.seed = seed;
    auto result = (*engine)->Chat({{.role = ChatMessage::Role::kUser, .content = "Use a tool."}}, CalculatorTools(),
                                  options, nullptr);
    if (!result.ok()) {
      // The only acceptable failure: the arguments ran out of max_tokens.
      EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted) << result.status();
      continue;
    }
    for (const ToolCall& call : result->reply.tool_calls) ExpectValidCall(call);
    calls += static_cast<int>(result->reply.tool_calls.size());
  }
  // Some of the samples must have started a call, or nothing above was checked.
  EXPECT_GT(calls, 0);
}

}  // namespace
}  // namespace engine
