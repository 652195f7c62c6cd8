// Constrained decoding: before each token is sampled, the tokens that cannot continue a valid
// output are masked out, so even a small or untrained model produces output that parses.
//
// Two constraints are offered:
//   - JSON: a JSON Schema (a subset: type, properties, required, items, minItems, maxItems,
//     minLength, maxLength, enum, const, anyOf/oneOf; minimum, maximum, exclusiveMinimum,
//     exclusiveMaximum and multipleOf are accepted but left to validation after decoding) or
//     any JSON value. Objects are written
//     with their properties in the schema's order (optional ones may be left out), compact, with
//     at most one space after ':' and ','. Unsupported keywords are refused by name rather than
//     silently ignored.
//   - Cited text: free text in which "[" may only start a citation "[n]" with 1 ≤ n ≤ N, so
//     every citation the model writes points at one of the N passages it was given.
//   - One of a set of strings (a tool's name in a constrained tool call).
//   - Quoted sentences (quote grounding): a sequence of units, each one of the given sentences
//     copied verbatim followed by its own citation "[n]", joined by a separator, no sentence
//     twice, between min_units and max_units units. The model only chooses which sentences, in
//     what order, and when to stop; every citation is right by construction and no sentence
//     can say what its source does not.
//
//   engine::ResponseConstraint spec{.kind = engine::ResponseConstraint::Kind::kJsonSchema,
//                                   .json_schema = R"({"type": "object", ...})"};
//   auto constraint = engine::TokenConstraint::Create(spec, tokenizer);
//   request.constraint = constraint->get();   // Generate masks and advances it
#ifndef AGENTD_ENGINE_CONSTRAINT_H_
#define AGENTD_ENGINE_CONSTRAINT_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/tokenizer.h"

namespace engine {

// A sentence that quote-grounded output may copy, and the passage number it is cited with.
struct Quote {
  std::string text;  // no '[' or ']' (those only start and end citations)
  int citation = 0;  // ≥ 1
};

struct ResponseConstraint {
  enum class Kind { kNone, kJsonSchema, kJsonValue, kCitedText, kLiteralChoice, kQuotedSentences };
  Kind kind = Kind::kNone;
  // kJsonSchema: the schema as JSON text. Required for that kind.
  std::string json_schema;
  // kCitedText: the largest citation number allowed (N ≥ 1).
  int max_citation = 0;
  // kLiteralChoice: the strings allowed (at least one, none empty).
  std::vector<std::string> choices;
  // kQuotedSentences: the sentences (at least one), the bounds on how many are written
  // (min_units default 1; max_units 0 = as many as there are sentences) and what goes between
  // two of them (default none: Chinese sentences follow each other directly; " " for English).
  std::vector<Quote> quotes;
  int min_units = 1;
  int max_units = 0;
  std::string quote_separator;
};

class TokenConstraint {
 public:
  // INVALID_ARGUMENT naming the schema keyword (e.g. "json_schema: keyword 'pattern' is not
  // supported") when the specification cannot be enforced.
  static absl::StatusOr<std::unique_ptr<TokenConstraint>> Create(const ResponseConstraint& spec,
                                                                 const Tokenizer& tokenizer);
  virtual ~TokenConstraint() = default;

  // Sets to -infinity the logit of every token that cannot come next. `end_tokens` (EOS, end of
  // turn) stay allowed only where the output may end. Special tokens are never allowed inside
  // the output. Logits beyond the tokenizer's vocabulary are masked too.
  virtual void Mask(std::span<float> logits, std::span<const int32_t> end_tokens) const = 0;
  // Moves past a generated token; FAILED_PRECONDITION when the token was not allowed.
  virtual absl::Status Advance(int32_t token) = 0;
  // Whether the output so far is complete (the constrained value has ended).
  virtual bool IsComplete() const = 0;
};

}  // namespace engine

#endif  // AGENTD_ENGINE_CONSTRAINT_H_
