// Constrained decoding: which token sequences a JSON Schema or cited-text constraint admits, and
// that sampling at random under the mask — what an untrained model amounts to — always yields
// output that parses and satisfies the schema.
#include "engine/constraint.h"

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

TEST(JsonSchemaConstraintTest, AnyJsonValue) {
  const ResponseConstraint spec{.kind = ResponseConstraint::Kind::kJsonValue};
  for (const char* ok : {R"({"a": [1, 2.5e-3, true, null, {"b": "c"}], "d": {}})", "[]", "-0.5", "\"s\"", "false"}) {
    EXPECT_TRUE(AdmitsComplete(spec, ok)) << ok;
  }
  for (const char* bad : {"{a: 1}", "[1,]", "01", "tru", "{\"a\" 1}", "\"\\x\""}) {
    EXPECT_FALSE(AdmitsComplete(spec, bad)) << bad;
  }
}

TEST(JsonSchemaConstraintTest, UnsupportedKeywordsAreRefusedByName) {
  auto pattern = TokenConstraint::Create(Schema(R"({"type": "string", "pattern": "^a"})"), SmallTokenizer());
  ASSERT_FALSE(pattern.ok());
  EXPECT_THAT(pattern.status().message(), HasSubstr("keyword 'pattern' is not supported"));
  auto nested = TokenConstraint::Create(
      Schema(R"({"type": "object", "properties": {"n": {"type": "number", "minimum": 1}}})"), SmallTokenizer());
  ASSERT_FALSE(nested.ok());
  EXPECT_THAT(nested.status().message(), HasSubstr("json_schema.properties.n: keyword 'minimum'"));
  auto required = TokenConstraint::Create(Schema(R"({"type": "object", "properties": {}, "required": ["x"]})"),
                                          SmallTokenizer());
  EXPECT_THAT(required.status().message(), HasSubstr("'x', which is not in properties"));
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
  }
}

}  // namespace
}  // namespace engine
