// A TokenConstraint over any byte-at-a-time matcher: a copyable value with bool Accept(uint8_t)
// (false leaves the byte unread) and bool IsComplete(). TokenConstraint::Create picks the matcher.
#ifndef AGENTD_ENGINE_CONSTRAINT_MATCHER_CONSTRAINT_H_
#define AGENTD_ENGINE_CONSTRAINT_MATCHER_CONSTRAINT_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "constraint/trie_mask.h"
#include "engine/constraint.h"
#include "engine/token_trie.h"

namespace engine::constraint {

template <typename Matcher>
class MatcherConstraint final : public TokenConstraint {
 public:
  MatcherConstraint(Matcher matcher, std::shared_ptr<const TokenTrie> trie)
      : matcher_(std::move(matcher)), trie_(std::move(trie)) {}

  void Mask(std::span<float> logits, std::span<const int32_t> end_tokens) const override {
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();
    std::vector<char> allowed(logits.size(), 0);
    const bool any = MarkAdmittedTokens(*trie_, matcher_, allowed);
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
    const std::string& bytes = trie_->bytes(token);
    if (bytes.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("constrained decoding: token ", token, " is not allowed here"));
    }
    Matcher m = matcher_;
    for (char c : bytes) {
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
  std::shared_ptr<const TokenTrie> trie_;
};

}  // namespace engine::constraint

#endif  // AGENTD_ENGINE_CONSTRAINT_MATCHER_CONSTRAINT_H_
