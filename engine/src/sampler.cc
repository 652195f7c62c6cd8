#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

#include "cpu/ops.h"
#include "sampling/truncation.h"

namespace engine {

std::vector<float> LogSoftmax(std::span<const float> logits) {
  if (logits.empty()) return {};
  const float max_value = logits[cpu::ArgMax(logits.data(), static_cast<int64_t>(logits.size()))];
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v - max_value));
  const float log_sum = static_cast<float>(std::log(sum)) + max_value;
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - log_sum;
  return out;
}

void Sampler::ApplyPenalties(std::span<float> logits, const TokenHistory& history) const {
  const float rp = params_.repetition_penalty;
  if (rp > 0 && rp != 1.0f) {
    auto penalize = [&](int32_t id) {
      if (id < 0 || id >= static_cast<int32_t>(logits.size())) return;
      float& v = logits[id];
      v = v > 0 ? v / rp : v * rp;
    };
    for (const auto& [id, count] : history.prompt) penalize(id);
    for (const auto& [id, count] : history.output) {
      if (!history.prompt.contains(id)) penalize(id);
    }
  }
  if (params_.frequency_penalty != 0 || params_.presence_penalty != 0) {
    for (const auto& [id, count] : history.output) {
      if (id < 0 || id >= static_cast<int32_t>(logits.size())) continue;
      logits[id] -= params_.frequency_penalty * static_cast<float>(count) + params_.presence_penalty;
    }
  }
}

std::vector<float> Sampler::Distribution(std::span<const float> logits) const {
  const size_t n = logits.size();
  if (n == 0) return {};
  std::vector<float> probs(n, 0.0f);
  if (params_.temperature <= 0) {
    probs[cpu::ArgMax(logits.data(), static_cast<int64_t>(n))] = 1.0f;
    return probs;
  }
  const float max_value = logits[cpu::ArgMax(logits.data(), static_cast<int64_t>(n))];
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    probs[i] = std::exp((logits[i] - max_value) / params_.temperature);
    sum += probs[i];
  }
  for (float& p : probs) p = static_cast<float>(p / sum);

  // Only the candidates truncation can keep are put in order (sampling/truncation.h).
  const sampling::Kept kept = sampling::KeptTokens(probs, params_.top_k, params_.top_p, params_.min_p);
  // With nothing dropped the distribution is already normalised: dividing by its mass again (1
  // up to rounding) would only change last bits, and summing that mass in the order the sort
  // gave was what made every step sort the vocabulary.
  if (kept.all) return probs;
  double kept_mass = 0;
  std::vector<float> kept_probs(kept.count);
  for (size_t i = 0; i < kept.count; ++i) {
    kept_probs[i] = probs[kept.order[i]];
    kept_mass += kept_probs[i];
  }
  std::fill(probs.begin(), probs.end(), 0.0f);
  for (size_t i = 0; i < kept.count; ++i) probs[kept.order[i]] = static_cast<float>(kept_probs[i] / kept_mass);
  return probs;
}

int32_t Sampler::Sample(std::span<float> logits, const TokenHistory& history) {
  ApplyPenalties(logits, history);
  if (params_.temperature <= 0) {
    return static_cast<int32_t>(cpu::ArgMax(logits.data(), static_cast<int64_t>(logits.size())));
  }
  std::vector<float> probs = Distribution(logits);
  return Draw(probs).value_or(static_cast<int32_t>(cpu::ArgMax(probs.data(), static_cast<int64_t>(probs.size()))));
}

std::optional<int32_t> Sampler::Draw(std::span<const float> weights) {
  double total = 0;
  for (float w : weights) total += w > 0 ? w : 0;
  if (!(total > 0)) return std::nullopt;
  const double u = Uniform() * total;
  double cumulative = 0;
  int32_t last_nonzero = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0) continue;
    last_nonzero = static_cast<int32_t>(i);
    cumulative += weights[i];
    if (u < cumulative) return static_cast<int32_t>(i);
  }
  return last_nonzero;  // rounding left u just above the total
}

}  // namespace engine
