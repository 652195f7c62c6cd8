// Writes a checkpoint of random weights in the hub's layout for a given config.json, so
// benchmarks and GPU checks can run real model shapes (Qwen3-30B-A3B, DeepSeek-V2-Lite, ...)
// without downloading them. The result loads with Model::Load like any real checkpoint.
#ifndef AGENTD_ENGINE_RANDOM_CHECKPOINT_H_
#define AGENTD_ENGINE_RANDOM_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/dtype.h"
#include "engine/model_config.h"

namespace engine {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  // Norm weights are ones; everything else random.
  bool is_norm = false;
};

// Every tensor a checkpoint of this config has, in the names Model::Load reads.
std::vector<TensorSpec> ExpectedTensors(const ModelConfig& config);

struct RandomCheckpointOptions {
  // Stored dtype of matrices: kBF16 (default), kF16 or kF32.
  DType dtype = DType::kBF16;
  // Weights are uniform with this standard deviation (default 0.02, as HF initialises).
  float stddev = 0.02f;
  uint64_t seed = 1;
};

// Writes DIR/config.json (the given text) and DIR/model.safetensors. The directory is created.
absl::Status WriteRandomCheckpoint(const std::string& config_json, const std::string& dir,
                                   const RandomCheckpointOptions& options = {});

}  // namespace engine

#endif  // AGENTD_ENGINE_RANDOM_CHECKPOINT_H_
