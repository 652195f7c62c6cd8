// A byte-at-a-time recogniser for exactly one of a fixed set of strings (a tool's name).
#ifndef AGENTD_ENGINE_CONSTRAINT_LITERAL_CHOICE_MATCHER_H_
#define AGENTD_ENGINE_CONSTRAINT_LITERAL_CHOICE_MATCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace engine::constraint {

class LiteralChoiceMatcher {
 public:
  explicit LiteralChoiceMatcher(std::shared_ptr<const std::vector<std::string>> choices)
      : choices_(std::move(choices)), alive_(choices_->size(), true) {}

  bool Accept(uint8_t byte) {
    std::vector<bool> next(alive_.size(), false);
    bool any = false;
    for (size_t i = 0; i < alive_.size(); ++i) {
      const std::string& choice = (*choices_)[i];
      if (alive_[i] && pos_ < choice.size() && static_cast<uint8_t>(choice[pos_]) == byte) {
        next[i] = true;
        any = true;
      }
    }
    if (!any) return false;
    alive_.swap(next);
    ++pos_;
    return true;
  }

  bool IsComplete() const {
    for (size_t i = 0; i < alive_.size(); ++i) {
      if (alive_[i] && (*choices_)[i].size() == pos_) return true;
    }
    return false;
  }

 private:
  std::shared_ptr<const std::vector<std::string>> choices_;
  std::vector<bool> alive_;
  size_t pos_ = 0;
};

}  // namespace engine::constraint

#endif  // AGENTD_ENGINE_CONSTRAINT_LITERAL_CHOICE_MATCHER_H_
