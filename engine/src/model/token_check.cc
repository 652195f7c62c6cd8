#include "model/token_check.h"

#include "absl/strings/str_cat.h"

namespace engine::model {

absl::Status CheckTokens(const ModelConfig& config, std::span<const int32_t> tokens, int64_t start) {
  if (tokens.empty()) return absl::InvalidArgumentError("no tokens to run");
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= config.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", tokens[i], " at index ", i,
                                                     " is outside the vocabulary (", config.vocab_size, ")"));
    }
  }
  if (start + static_cast<int64_t>(tokens.size()) > config.max_position_embeddings) {
    return absl::OutOfRangeError(absl::StrCat("context of ", start + tokens.size(),
                                              " tokens exceeds max_position_embeddings (",
                                              config.max_position_embeddings, ")"));
  }
  return absl::OkStatus();
}

}  // namespace engine::model
