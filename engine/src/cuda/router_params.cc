#include "cuda/router_params.h"

namespace engine::cuda {

RouterParams RouterParamsFor(const ModelConfig& c, const float* correction_bias) {
  RouterParams p;
  p.experts = c.num_routed_experts;
  p.k = c.num_experts_per_tok;
  p.sigmoid = c.scoring_func == ScoringFunc::kSigmoid;
  p.correction_bias = correction_bias;
  const bool grouped = c.topk_method != TopkMethod::kGreedy && c.n_group > 1;
  p.n_group = grouped ? c.n_group : 1;
  p.topk_group = grouped ? c.topk_group : 1;
  p.group_by_top_two_sum = c.topk_method == TopkMethod::kNoauxTc;
  const float routed_scaling = static_cast<float>(c.routed_scaling_factor);
  switch (c.architecture) {
    case Architecture::kDeepseekV3:
      p.normalise = c.norm_topk_prob;
      p.normalise_eps = 1e-20f;
      p.scale = routed_scaling;
      break;
    case Architecture::kDeepseekV2:
      p.normalise = p.k > 1 && c.norm_topk_prob;
      p.normalise_eps = 1e-20f;
      p.scale = p.normalise ? 1.0f : routed_scaling;
      break;
    default:
      p.normalise = c.norm_topk_prob;
      p.normalise_eps = 0.0f;
      p.scale = 1.0f;
      break;
  }
  return p;
}

}  // namespace engine::cuda
