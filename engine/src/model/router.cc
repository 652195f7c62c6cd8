#include "model/router.h"

#include <algorithm>
#include <numeric>

#include "cpu/ops.h"

namespace engine::model {
namespace {

// Indices of the k largest values, largest first (ties: lower index first).
std::vector<int> TopK(const std::vector<float>& values, int k) {
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
    return values[a] > values[b] || (values[a] == values[b] && a < b);
  });
  order.resize(k);
  return order;
}

}  // namespace

void Route(const ModelConfig& c, const float* logits, const std::vector<float>& correction_bias,
           RouterChoice* choice) {
  const int experts = c.num_routed_experts, k = c.num_experts_per_tok;
  std::vector<float> scores(logits, logits + experts);
  if (c.scoring_func == ScoringFunc::kSigmoid) {
    for (float& s : scores) s = cpu::Sigmoid(s);
  } else {
    cpu::Softmax(scores.data(), experts);
  }

  // What selection ranks by: the scores, plus the correction bias when the checkpoint has one.
  std::vector<float> rank_by = scores;
  if (!correction_bias.empty()) {
    for (int e = 0; e < experts; ++e) rank_by[e] += correction_bias[e];
  }

  if (c.topk_method != TopkMethod::kGreedy && c.n_group > 1) {
    const int per_group = experts / c.n_group;
    std::vector<float> group_scores(c.n_group);
    for (int g = 0; g < c.n_group; ++g) {
      std::vector<float> members(rank_by.begin() + g * per_group, rank_by.begin() + (g + 1) * per_group);
      if (c.topk_method == TopkMethod::kNoauxTc) {
        // Sum of the group's best two.
        std::vector<int> best = TopK(members, std::min(2, per_group));
        group_scores[g] = 0;
        for (int i : best) group_scores[g] += members[i];
      } else {
        group_scores[g] = *std::max_element(members.begin(), members.end());
      }
    }
    std::vector<int> kept = TopK(group_scores, c.topk_group);
    std::vector<bool> keep(c.n_group, false);
    for (int g : kept) keep[g] = true;
    // Experts of dropped groups are masked to 0, as the reference implementation does.
    for (int e = 0; e < experts; ++e) {
      if (!keep[e / per_group]) rank_by[e] = 0.0f;
    }
  }

  choice->experts = TopK(rank_by, k);
  choice->weights.resize(k);
  for (int i = 0; i < k; ++i) choice->weights[i] = scores[choice->experts[i]];

  float sum = 0;
  for (float w : choice->weights) sum += w;
  switch (c.architecture) {
    case Architecture::kDeepseekV3:
      if (c.norm_topk_prob) {
        for (float& w : choice->weights) w /= sum + 1e-20f;
      }
      for (float& w : choice->weights) w *= static_cast<float>(c.routed_scaling_factor);
      break;
    case Architecture::kDeepseekV2:
      if (k > 1 && c.norm_topk_prob) {
        for (float& w : choice->weights) w /= sum + 1e-20f;
      } else {
        for (float& w : choice->weights) w *= static_cast<float>(c.routed_scaling_factor);
      }
      break;
    default:
      if (c.norm_topk_prob) {
        for (float& w : choice->weights) w /= sum;
      }
      break;
  }
}

}  // namespace engine::model
