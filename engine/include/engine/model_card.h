// What a model directory says about itself to agentd beyond the Hugging Face files:
// `agentd_model.json`, optional. Today one thing: how the model should write reports.
//
//   {"format": "agentd-model-card", "version": 1, "writing_style": "extractive"}
//
// "extractive" declares a model too small to write its own sentences well: plans then quote
// their sources sentence by sentence under the quote constraint and use the model to choose.
// Any other checkpoint (no file) writes "abstractive" (cited free text).
#ifndef AGENTD_ENGINE_MODEL_CARD_H_
#define AGENTD_ENGINE_MODEL_CARD_H_

#include <string>

#include "absl/status/statusor.h"

namespace engine {

struct ModelCard {
  std::string writing_style = "abstractive";  // or "extractive"
};

// The card of a model directory; the defaults when it has no agentd_model.json. A file that
// is not such a card (other format, newer version, unknown style) is INVALID_ARGUMENT naming
// the file.
absl::StatusOr<ModelCard> ReadModelCard(const std::string& model_dir);

}  // namespace engine

#endif  // AGENTD_ENGINE_MODEL_CARD_H_
