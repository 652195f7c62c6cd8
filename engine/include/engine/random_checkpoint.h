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
  // An FP8 matrix's block scales (`<name>_scale_inv`): written with the matrices' scale.
  bool is_scale = false;
};

// Every tensor a checkpoint of this config has, in the names Model::Load reads.
std::vector<TensorSpec> ExpectedTensors(const ModelConfig& config);

struct RandomCheckpointOptions {
  // Stored dtype of matrices: kBF16 (default), kF16, kF32, or kF8E4M3 (DeepSeek-V3's layout:
  // a float32 `<name>_scale_inv` per 128×128 block beside each matrix; a third of bf16's size,
  // so shapes too big for the disk in bf16 — Qwen3-30B-A3B, 61 GB — fit as 31 GB).
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
