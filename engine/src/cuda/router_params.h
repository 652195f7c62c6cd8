// The device router's parameters (cuda/ops.h: RouterParams) from a model's config: the CPU
// router's per-architecture rules (model/router.h) written as flags once, at load.
#ifndef AGENTD_ENGINE_CUDA_ROUTER_PARAMS_H_
#define AGENTD_ENGINE_CUDA_ROUTER_PARAMS_H_

#include "cuda/ops.h"
#include "engine/model_config.h"

namespace engine::cuda {

// `correction_bias` is the device copy of the layer's bias, or nullptr.
RouterParams RouterParamsFor(const ModelConfig& config, const float* correction_bias);

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_ROUTER_PARAMS_H_
