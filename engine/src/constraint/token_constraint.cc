#include <array>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "constraint/cited_text_matcher.h"
#include "constraint/json_matcher.h"
#include "constraint/literal_choice_matcher.h"
#include "constraint/quote_matcher.h"
#include "engine/constraint.h"

namespace engine {
namespace {

// The vocabulary as byte strings, grouped by first byte so that a mask only examines tokens
// whose first byte the matcher takes.
struct TokenTable {
  // Empty for added tokens (special or chat markup such as "<｜Assistant｜>"): never allowed
  // inside constrained output, where they would be read as structure rather than text.
  std::vector<std::string> bytes;
  std::array<std::vector<int32_t>, 256> by_first_byte;
  int32_t vocab = 0;

  explicit TokenTable(const Tokenizer& tokenizer) : vocab(tokenizer.vocab_size()) {
    bytes.resize(vocab);
    for (int32_t id = 0; id < vocab; ++id) {
      if (tokenizer.IsSpecial(id) || tokenizer.IsAdded(id)) continue;
      bytes[id] = tokenizer.TokenBytes(id);
      if (!bytes[id].empty()) by_first_byte[static_cast<uint8_t>(bytes[id][0])].push_back(id);
    }
  }
};

// Drives any matcher type with Accept(byte) and IsComplete() over tokens.
template <typename Matcher>
class MatcherConstraint final : public TokenConstraint {
 public:
  MatcherConstraint(Matcher matcher, std::shared_ptr<const TokenTable> table)
      : matcher_(std::move(matcher)), table_(std::move(table)) {}

  void Mask(std::span<float> logits, std::span<const int32_t> end_tokens) const override {
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();
    std::vector<char> allowed(logits.size(), 0);
    bool any = false;
    for (int first = 0; first < 256; ++first) {
      const auto& bucket = table_->by_first_byte[first];
      if (bucket.empty()) continue;
      Matcher after_first = matcher_;
      if (!after_first.Accept(static_cast<uint8_t>(first))) continue;
      for (int32_t id : bucket) {
        if (static_cast<size_t>(id) >= logits.size()) continue;
        const std::string& bytes = table_->bytes[id];
        if (bytes.size() == 1) {
          allowed[id] = 1;
          any = true;
          continue;
        }
        Matcher m = after_first;
        bool ok = true;
        for (size_t i = 1; i < bytes.size() && ok; ++i) ok = m.Accept(static_cast<uint8_t>(bytes[i]));
        if (ok) {
          allowed[id] = 1;
          any = true;
        }
      }
    }
    // At the end of the value — or, defensively, at a dead end no token can leave — only the
    // end tokens remain, so generation stops instead of running on unconstrained.
    if (matcher_.IsComplete() || !any) {
      for (int32_t id : end_tokens) {
        if (id >= 0 && static_cast<size_t>(id) < logits.size()) allowed[id] = 1;
      }
    }
    for (size_t i = 0; i < logits.size(); ++i) {
      if (!allowed[i]) logits[i] = kNegInf;
    }
  }

  absl::Status Advance(int32_t token) override {
    if (token < 0 || token >= table_->vocab || table_->bytes[token].empty()) {
      return absl::FailedPreconditionError(absl::StrCat("constrained decoding: token ", token, " is not allowed here"));
    }
    Matcher m = matcher_;
    for (char c : table_->bytes[token]) {
      if (!m.Accept(static_cast<uint8_t>(c))) {
        return absl::FailedPreconditionError(absl::StrCat("constrained decoding: token ", token, " is not allowed here"));
      }
    }
    matcher_ = std::move(m);
    return absl::OkStatus();
  }

  bool IsComplete() const override { return matcher_.IsComplete(); }

 private:
  Matcher matcher_;
  std::shared_ptr<const TokenTable> table_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TokenConstraint>> TokenConstraint::Create(const ResponseConstraint& spec,
                                                                        const Tokenizer& tokenizer) {
  using Kind = ResponseConstraint::Kind;
  if (spec.kind == Kind::kNone) return absl::InvalidArgumentError("constraint: no kind given");
  auto table = std::make_shared<const TokenTable>(tokenizer);
  if (spec.kind == Kind::kCitedText) {
    if (spec.max_citation < 1) return absl::InvalidArgumentError("constraint: max_citation must be at least 1");
    return std::unique_ptr<TokenConstraint>(
        new MatcherConstraint<constraint::CitedTextMatcher>(constraint::CitedTextMatcher(spec.max_citation), table));
  }
  if (spec.kind == Kind::kLiteralChoice) {
    if (spec.choices.empty()) return absl::InvalidArgumentError("constraint: no choices given");
    for (const std::string& choice : spec.choices) {
      if (choice.empty()) return absl::InvalidArgumentError("constraint: an empty choice");
    }
    auto choices = std::make_shared<const std::vector<std::string>>(spec.choices);
    return std::unique_ptr<TokenConstraint>(
        new MatcherConstraint<constraint::LiteralChoiceMatcher>(constraint::LiteralChoiceMatcher(choices), table));
  }
  if (spec.kind == Kind::kQuotedSentences) {
    auto set = constraint::QuoteSet::Create(spec);
    if (!set.ok()) return set.status();
    return std::unique_ptr<TokenConstraint>(
        new MatcherConstraint<constraint::QuoteMatcher>(constraint::QuoteMatcher(*std::move(set)), table));
  }
  if (spec.kind == Kind::kJsonSchema && spec.json_schema.empty()) {
    return absl::InvalidArgumentError("json_schema: is empty");
  }
  auto schema = constraint::CompiledSchema::Compile(spec.kind == Kind::kJsonSchema ? spec.json_schema : "");
  if (!schema.ok()) return schema.status();
  return std::unique_ptr<TokenConstraint>(
      new MatcherConstraint<constraint::JsonMatcher>(constraint::JsonMatcher(*schema), table));
}

}  // namespace engine
