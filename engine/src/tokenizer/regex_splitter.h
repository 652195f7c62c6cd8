// Splitting text by a regular expression with Oniguruma, the engine HF tokenizers uses, so
// patterns such as \p{L}, (?i:'s) and (?!\S) behave exactly as in the reference.
// (Oniguruma's header and glibc's <regex.h> clash, so it is confined to regex_splitter.cc.)
#ifndef AGENTD_ENGINE_TOKENIZER_REGEX_SPLITTER_H_
#define AGENTD_ENGINE_TOKENIZER_REGEX_SPLITTER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace engine::tokenizer {

class RegexSplitter {
 public:
  static absl::StatusOr<std::unique_ptr<RegexSplitter>> Create(const std::string& pattern);
  virtual ~RegexSplitter() = default;
  // Byte spans [begin, end) of the non-empty matches in text, left to right.
  virtual void FindMatches(const std::string& text, std::vector<std::pair<size_t, size_t>>* matches) const = 0;
};

}  // namespace engine::tokenizer

#endif  // AGENTD_ENGINE_TOKENIZER_REGEX_SPLITTER_H_
