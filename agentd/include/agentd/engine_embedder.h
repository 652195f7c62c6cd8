// The memory component's Embedder implemented over the engine: pooled, L2-normalised final
// hidden states of the loaded model.
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
    return engine_->Embed(texts, /*normalize=*/true);
  }

 private:
  engine::Engine* engine_;
};

}  // namespace agentd

#endif  // AGENTD_AGENTD_ENGINE_EMBEDDER_H_
