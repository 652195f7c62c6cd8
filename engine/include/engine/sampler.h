// Choosing the next token from logits: penalties, then greedy or temperature sampling with
// top-k / top-p / min-p truncation, from a seeded generator so that a request with a seed
// always produces the same tokens.
//
// Order (as vLLM and HF apply them): repetition penalty (prompt and output tokens), frequency
// and presence penalties (output tokens), temperature, top-k, top-p, min-p, draw.
#ifndef AGENTD_ENGINE_SAMPLER_H_
#define AGENTD_ENGINE_SAMPLER_H_

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace engine {

struct SamplingParams {
  // 0 = greedy (argmax). Default 0.
  float temperature = 0.0f;
  // Keep only the k most likely tokens; 0 = no limit.
  int top_k = 0;
  // Nucleus mass in (0, 1]; 1 = no limit.
  float top_p = 1.0f;
  // Drop tokens below min_p × the best probability; 0 = off.
  float min_p = 0.0f;
  // HF's repetition penalty: positive logits divided by it, negative multiplied; 1 = off.
  float repetition_penalty = 1.0f;
  // OpenAI-style: logit -= frequency_penalty × count and presence_penalty × (count > 0), over
  // generated tokens. 0 = off.
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  // Generator seed.
  uint64_t seed = 0;
};

// Token counts the penalties need.
struct TokenHistory {
  absl::flat_hash_map<int32_t, int> prompt;
  absl::flat_hash_map<int32_t, int> output;
  void AddPrompt(std::span<const int32_t> ids) {
    for (int32_t id : ids) ++prompt[id];
  }
  void AddOutput(int32_t id) { ++output[id]; }
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

  // Applies the penalties to `logits` in place, then picks a token.
  int32_t Sample(std::span<float> logits, const TokenHistory& history);

  // The penalties alone (also what logprobs are computed from).
  void ApplyPenalties(std::span<float> logits, const TokenHistory& history) const;
  // The distribution Sample draws from after penalties: temperature and truncation applied,
  // renormalised; zero for dropped tokens. Greedy gives a one-hot distribution.
  std::vector<float> Distribution(std::span<const float> penalized_logits) const;

  // A token drawn from a distribution over the vocabulary that need not sum to 1 (it is
  // normalised); nullopt when it has no mass.
  std::optional<int32_t> Draw(std::span<const float> weights);
  // A uniform double in [0, 1) from 53 random bits, the same on every platform.
  double Uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
};

// log-softmax of the row.
std::vector<float> LogSoftmax(std::span<const float> logits);

}  // namespace engine

#endif  // AGENTD_ENGINE_SAMPLER_H_
