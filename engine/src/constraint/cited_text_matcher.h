// A byte-at-a-time recogniser for prose with citations: any text, except that "[" must be
// followed by a citation number 1..N (no leading zero) and "]". Everything else passes.
#ifndef AGENTD_ENGINE_CONSTRAINT_CITED_TEXT_MATCHER_H_
#define AGENTD_ENGINE_CONSTRAINT_CITED_TEXT_MATCHER_H_

#include <cstdint>

namespace engine::constraint {

class CitedTextMatcher {
 public:
  explicit CitedTextMatcher(int max_citation) : max_citation_(max_citation) {}

  bool Accept(uint8_t byte) {
    if (!in_citation_) {
      if (byte == '[') {
        in_citation_ = true;
        number_ = 0;
      }
      return true;
    }
    if (byte == ']') {
      if (number_ == 0) return false;
      in_citation_ = false;
      return true;
    }
    if (byte < '0' || byte > '9') return false;
    const int digit = byte - '0';
    if (number_ == 0 && digit == 0) return false;
    const int64_t next = static_cast<int64_t>(number_) * 10 + digit;
    if (next > max_citation_) return false;
    number_ = static_cast<int>(next);
    return true;
  }
  bool IsComplete() const { return !in_citation_; }

 private:
  int max_citation_;
  bool in_citation_ = false;
  int number_ = 0;
};

}  // namespace engine::constraint

#endif  // AGENTD_ENGINE_CONSTRAINT_CITED_TEXT_MATCHER_H_
