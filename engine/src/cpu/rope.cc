#include "cpu/rope.h"

#include <algorithm>
#include <cmath>

namespace engine::cpu {

double YarnMscale(double scale, double mscale) {
  if (scale <= 1) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

RotaryEmbedding::RotaryEmbedding(const ModelConfig& config)
    : dim_(config.rope_dim()), interleaved_(config.rope_interleave) {
  const int half = dim_ / 2;
  const float base = static_cast<float>(config.rope_theta);
  // Computed in float32 as the reference implementation does, so angles agree bit for bit.
  std::vector<float> pos_freqs(half);
  for (int i = 0; i < half; ++i) {
    pos_freqs[i] = std::pow(base, static_cast<float>(2 * i) / static_cast<float>(dim_));
  }
  inv_freq_.resize(half);
  const RopeScaling& s = config.rope_scaling;
  switch (s.type) {
    case RopeScaling::Type::kNone:
      for (int i = 0; i < half; ++i) inv_freq_[i] = 1.0f / pos_freqs[i];
      break;
    case RopeScaling::Type::kLinear:
      for (int i = 0; i < half; ++i) inv_freq_[i] = 1.0f / pos_freqs[i] / static_cast<float>(s.factor);
      break;
    case RopeScaling::Type::kYarn: {
      const double original = s.original_max_position_embeddings > 0
                                  ? s.original_max_position_embeddings
                                  : config.max_position_embeddings;
      // The dimension at which a frequency completes `rotations` turns over the original context.
      auto correction_dim = [&](double rotations) {
        return dim_ * std::log(original / (rotations * 2 * M_PI)) / (2 * std::log(config.rope_theta));
      };
      double low = correction_dim(s.beta_fast), high = correction_dim(s.beta_slow);
      if (s.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, static_cast<double>(dim_ - 1));
      if (low == high) high += 0.001;
      const float factor = static_cast<float>(s.factor);
      for (int i = 0; i < half; ++i) {
        float ramp = std::clamp(static_cast<float>((i - low) / (high - low)), 0.0f, 1.0f);
        float extrapolation_weight = 1.0f - ramp;
        float extrapolated = 1.0f / pos_freqs[i];
        float interpolated = 1.0f / (factor * pos_freqs[i]);
        inv_freq_[i] = interpolated * (1 - extrapolation_weight) + extrapolated * extrapolation_weight;
      }
      if (s.attention_factor >= 0) {
        attention_factor_ = static_cast<float>(s.attention_factor);
      } else if (s.mscale != 0 && s.mscale_all_dim != 0) {
        attention_factor_ = static_cast<float>(YarnMscale(s.factor, s.mscale) /
                                               YarnMscale(s.factor, s.mscale_all_dim));
      } else {
        attention_factor_ = static_cast<float>(YarnMscale(s.factor, 1.0));
      }
      break;
    }
  }
}

void RotaryEmbedding::Apply(float* x, int64_t heads, int64_t stride, int64_t position) const {
  const int half = dim_ / 2;
  const float p = static_cast<float>(position);
  for (int i = 0; i < half; ++i) {
    const float angle = p * inv_freq_[i];
    const float c = std::cos(angle) * attention_factor_;
    const float s = std::sin(angle) * attention_factor_;
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + h * stride;
      const int a = interleaved_ ? 2 * i : i;
      const int b = interleaved_ ? 2 * i + 1 : i + half;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x1 * c + x0 * s;
    }
  }
}

float AttentionSoftmaxScale(const ModelConfig& config) {
  double scale = 1.0 / std::sqrt(static_cast<double>(config.qk_head_dim()));
  const RopeScaling& s = config.rope_scaling;
  if (config.is_mla() && s.type == RopeScaling::Type::kYarn && s.mscale_all_dim != 0) {
    const double m = YarnMscale(s.factor, s.mscale_all_dim);
    scale *= m * m;
  }
  return static_cast<float>(scale);
}

}  // namespace engine::cpu
