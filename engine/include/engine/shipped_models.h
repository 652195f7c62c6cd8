// Where the models that ship with agentd are: the default language model (agentd-default)
// and retrieval model (agentd-embed), in `share/agentd/models/` beside the executable's `bin/`
// — the build tree links `build/share/agentd/models` to the sources' engine/models, and
// `cmake --install` copies them to PREFIX/share/agentd/models.
//
//   auto dir = engine::FindShippedModel(engine::kDefaultModel);   // "…/share/agentd/models/agentd-default"
#ifndef AGENTD_ENGINE_SHIPPED_MODELS_H_
#define AGENTD_ENGINE_SHIPPED_MODELS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace engine {

inline constexpr std::string_view kDefaultModel = "agentd-default";
inline constexpr std::string_view kDefaultEmbeddingModel = "agentd-embed";

// The directory of the shipped model `name`; NOT_FOUND naming the places looked in when it is
// missing (a partial install).
absl::StatusOr<std::string> FindShippedModel(std::string_view name);

}  // namespace engine

#endif  // AGENTD_ENGINE_SHIPPED_MODELS_H_
