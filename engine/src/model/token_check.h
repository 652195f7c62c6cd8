// What every forward pass (CPU and CUDA) refuses before touching a cache: no tokens, an id outside
// the vocabulary, or a context past max_position_embeddings. Errors name the token and index.
#ifndef AGENTD_ENGINE_MODEL_TOKEN_CHECK_H_
#define AGENTD_ENGINE_MODEL_TOKEN_CHECK_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "engine/model_config.h"

namespace engine::model {

// `tokens` appended at position `start` of a sequence of the model `config` describes.
absl::Status CheckTokens(const ModelConfig& config, std::span<const int32_t> tokens, int64_t start);

}  // namespace engine::model

#endif  // AGENTD_ENGINE_MODEL_TOKEN_CHECK_H_
