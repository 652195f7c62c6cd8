// MoE routing: which experts a token goes to and with what weights, for every gating scheme
// the supported checkpoints use.
//
//   DeepSeek-V3 (noaux_tc): s = sigmoid(logits); the correction bias b is added for selection
//     only: groups ranked by the sum of their two best s+b, the best topk_group groups kept,
//     top-k experts by s+b among them; weights are the plain s of those experts, normalised
//     (norm_topk_prob) and multiplied by routed_scaling_factor.
//   DeepSeek-V2 (greedy / group_limited_greedy): s = softmax(logits); top-k by s (optionally
//     within the best groups by max s); normalised when norm_topk_prob and k > 1, otherwise
//     scaled by routed_scaling_factor.
//   Qwen3-MoE: s = softmax(logits); top-k; normalised when norm_topk_prob.
#ifndef AGENTD_ENGINE_MODEL_ROUTER_H_
#define AGENTD_ENGINE_MODEL_ROUTER_H_

#include <vector>

#include "engine/model_config.h"

namespace engine::model {

struct RouterChoice {
  std::vector<int> experts;
  std::vector<float> weights;
};

// `logits` has num_routed_experts entries; `correction_bias` is empty or the same size.
void Route(const ModelConfig& config, const float* logits, const std::vector<float>& correction_bias,
           RouterChoice* choice);

}  // namespace engine::model

#endif  // AGENTD_ENGINE_MODEL_ROUTER_H_
