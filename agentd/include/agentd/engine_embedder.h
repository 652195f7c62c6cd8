// The memory component's Embedder implemented over an engine: the model's pooled final hidden
// states, L2-normalised, with the query prompt before search queries when the model declares
// one (see engine/embedding.h).
#ifndef AGENTD_AGENTD_ENGINE_EMBEDDER_H_
#define AGENTD_AGENTD_ENGINE_EMBEDDER_H_

#include "engine/engine.h"
#include "memory/embedder.h"

namespace agentd {

class EngineEmbedder final : public memory::Embedder {
 public:
  explicit EngineEmbedder(engine::Engine* engine) : engine_(engine) {}
  std::string model_name() const override { return engine_->info().name; }
  int dimension() const override { return engine_->info().hidden_size; }
  absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    return engine_->Embed(texts, {.role = engine::EmbedRole::kDocument, .normalize = true});
  }
  absl::StatusOr<std::vector<float>> EmbedQuery(const std::string& query) override {
    auto vectors = engine_->Embed({query}, {.role = engine::EmbedRole::kQuery, .normalize = true});
    if (!vectors.ok()) return vectors.status();
    return std::move((*vectors)[0]);
  }

 private:
  engine::Engine* engine_;
};

}  // namespace agentd

#endif  // AGENTD_AGENTD_ENGINE_EMBEDDER_H_
