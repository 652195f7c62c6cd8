// What one step of constrained decoding costs: TokenConstraint::Mask over the whole vocabulary,
// on the scheduler thread, once per constrained sequence per token. Each case advances a
// constraint past a prefix of output and times its mask (median of --rounds); the first
// constraint made on the tokenizer also builds what the masks share, timed apart.
//
//   constraint_mask --tokenizer tests/data/tokenizers/qwen3
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "engine/constraint.h"
#include "engine/tokenizer.h"
#include "nlohmann/json.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double Ms(Clock::time_point since) { return std::chrono::duration<double, std::milli>(Clock::now() - since).count(); }

// `open` string alternatives side by side (each a different maxLength, so none merge).
std::string Strings(int open) {
  Json forms = Json::array();
  for (int i = 0; i < open; ++i) forms.push_back(Json{{"type", "string"}, {"maxLength", 40 + i}});
  return Json{{"anyOf", forms}}.dump();
}

constexpr char kOutline[] = R"({"type": "object", "properties": {
  "title": {"type": "string", "maxLength": 40},
  "sections": {"type": "array", "items": {"type": "object", "properties": {
    "heading": {"type": "string"}, "level": {"type": "integer"},
    "kind": {"enum": ["intro", "body", "conclusion"]}}, "required": ["heading", "kind"]}}},
  "required": ["title", "sections"]})";

struct Case {
  std::string name;
  engine::ResponseConstraint spec;
  std::string prefix;  // output already written
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"constraint_mask: the time of one constrained-decoding mask over the vocabulary"};
  std::string tokenizer_dir;
  int rounds = 20;
  app.add_option("--tokenizer", tokenizer_dir, "directory with tokenizer.json")->required();
  app.add_option("--rounds", rounds, "masks timed per case (default 20)");
  CLI11_PARSE(app, argc, argv);

  auto tokenizer = engine::Tokenizer::Load(tokenizer_dir);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "%s\n", tokenizer.status().ToString().c_str());
    return 1;
  }
  using Kind = engine::ResponseConstraint::Kind;
  const std::vector<Case> cases = {
      {"1 string alternative, inside the string", {.kind = Kind::kJsonSchema, .json_schema = Strings(1)}, "\""},
      {"16 string alternatives, inside the string", {.kind = Kind::kJsonSchema, .json_schema = Strings(16)}, "\""},
      {"outline schema, at the start", {.kind = Kind::kJsonSchema, .json_schema = kOutline}, ""},
      {"outline schema, in a heading", {.kind = Kind::kJsonSchema, .json_schema = kOutline},
       R"({"title": "Solar", "sections": [{"heading": "Grow)"},
      {"any JSON value, in an array", {.kind = Kind::kJsonValue}, R"([1, "a", )"},
      {"cited text, in prose", {.kind = Kind::kCitedText, .max_citation = 12}, "Growth was strong "},
  };
  std::printf("vocabulary: %d tokens\n", (*tokenizer)->vocab_size());
  std::vector<float> logits((*tokenizer)->vocab_size());
  bool first = true;
  for (const Case& c : cases) {
    const auto create_start = Clock::now();
    auto constraint = engine::TokenConstraint::Create(c.spec, **tokenizer);
    const double create_ms = Ms(create_start);
    if (!constraint.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(), constraint.status().ToString().c_str());
      return 1;
    }
    if (first) std::printf("first constraint made (builds the shared vocabulary index): %.1f ms\n", create_ms);
    first = false;
    for (int32_t id : (*tokenizer)->Encode(c.prefix)) {
      if (absl::Status s = (*constraint)->Advance(id); !s.ok()) {
        std::fprintf(stderr, "%s: prefix refused: %s\n", c.name.c_str(), s.ToString().c_str());
        return 1;
      }
    }
    std::vector<double> times;
    size_t admitted = 0;
    for (int r = 0; r < rounds; ++r) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      const auto start = Clock::now();
      (*constraint)->Mask(logits, {});
      times.push_back(Ms(start));
      admitted = static_cast<size_t>(std::count(logits.begin(), logits.end(), 0.0f));
    }
    std::sort(times.begin(), times.end());
    std::printf("%-45s create %7.2f ms  mask median %8.2f ms  min %8.2f ms  (%zu tokens admitted)\n", c.name.c_str(),
                create_ms, times[times.size() / 2], times.front(), admitted);
  }
  return 0;
}
