#include "absl/strings/str_cat.h"
#include "constraint/cited_text_matcher.h"
#include "constraint/json_matcher.h"
#include "constraint/literal_choice_matcher.h"
#include "constraint/matcher_constraint.h"
#include "constraint/quote_matcher.h"
#include "engine/constraint.h"

namespace engine {

absl::StatusOr<std::unique_ptr<TokenConstraint>> TokenConstraint::Create(const ResponseConstraint& spec,
                                                                        const Tokenizer& tokenizer) {
  using Kind = ResponseConstraint::Kind;
  if (spec.kind == Kind::kNone) return absl::InvalidArgumentError("constraint: no kind given");
  // Built once per tokenizer; each request used to build its own table of the vocabulary.
  std::shared_ptr<const TokenTrie> trie = tokenizer.token_trie();
  if (spec.kind == Kind::kCitedText) {
    if (spec.max_citation < 1) return absl::InvalidArgumentError("constraint: max_citation must be at least 1");
    return std::unique_ptr<TokenConstraint>(
        new constraint::MatcherConstraint<constraint::CitedTextMatcher>(constraint::CitedTextMatcher(spec.max_citation), trie));
  }
  if (spec.kind == Kind::kLiteralChoice) {
    if (spec.choices.empty()) return absl::InvalidArgumentError("constraint: no choices given");
    for (const std::string& choice : spec.choices) {
      if (choice.empty()) return absl::InvalidArgumentError("constraint: an empty choice");
    }
    auto choices = std::make_shared<const std::vector<std::string>>(spec.choices);
    return std::unique_ptr<TokenConstraint>(
        new constraint::MatcherConstraint<constraint::LiteralChoiceMatcher>(constraint::LiteralChoiceMatcher(choices), trie));
  }
  if (spec.kind == Kind::kQuotedSentences) {
    auto set = constraint::QuoteSet::Create(spec);
    if (!set.ok()) return set.status();
    return std::unique_ptr<TokenConstraint>(
        new constraint::MatcherConstraint<constraint::QuoteMatcher>(constraint::QuoteMatcher(*std::move(set)), trie));
  }
  if (spec.kind == Kind::kJsonSchema && spec.json_schema.empty()) {
    return absl::InvalidArgumentError("json_schema: is empty");
  }
  auto schema = constraint::CompiledSchema::Compile(spec.kind == Kind::kJsonSchema ? spec.json_schema : "");
  if (!schema.ok()) return schema.status();
  return std::unique_ptr<TokenConstraint>(
      new constraint::MatcherConstraint<constraint::JsonMatcher>(constraint::JsonMatcher(*schema), trie));
}

}  // namespace engine
