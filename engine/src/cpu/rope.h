// Rotary position embedding with the scalings real checkpoints use (none, linear, YaRN with
// both mscale terms), in the two layouts found in the wild: DeepSeek rotates adjacent pairs
// (x[2i], x[2i+1]); Qwen rotates halves (x[i], x[i + d/2]).
#ifndef AGENTD_ENGINE_CPU_ROPE_H_
#define AGENTD_ENGINE_CPU_ROPE_H_

#include <cstdint>
#include <vector>

#include "engine/model_config.h"

namespace engine::cpu {

class RotaryEmbedding {
 public:
  // Frequencies for config.rope_dim() dimensions, in the layout config.rope_interleave says.
  explicit RotaryEmbedding(const ModelConfig& config);

  // Rotates `heads` vectors of rope_dim floats, `stride` floats apart, to `position`.
  void Apply(float* x, int64_t heads, int64_t stride, int64_t position) const;

  int dim() const { return dim_; }
  const std::vector<float>& inv_freq() const { return inv_freq_; }
  // YaRN's magnitude correction applied to cos and sin (1 without YaRN).
  float attention_factor() const { return attention_factor_; }

 private:
  int dim_;
  bool interleaved_;
  std::vector<float> inv_freq_;
  float attention_factor_ = 1.0f;
};

// YaRN's mscale: 0.1 · mscale · ln(scale) + 1 for scale > 1, else 1.
double YarnMscale(double scale, double mscale);

// The softmax scale of attention: 1/sqrt(qk_head_dim), times DeepSeek's mscale_all_dim
// correction squared under YaRN.
float AttentionSoftmaxScale(const ModelConfig& config);

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_ROPE_H_
