// How closely one model's next-token distributions follow another's on the same positions:
// the measure for quantised weights against the unquantised forward (llama.cpp's perplexity
// tool reports the same pair, top-token agreement and KL divergence). Logits are [positions,
// vocab] row-major; the first argument is the reference.
#ifndef AGENTD_ENGINE_LOGITS_AGREEMENT_H_
#define AGENTD_ENGINE_LOGITS_AGREEMENT_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace engine {

struct LogitsAgreement {
  int64_t positions = 0;
  // Positions where both put the same token first.
  int64_t same_top = 0;
  // KL(reference ‖ other) in nats, averaged over positions, and the largest at any position.
  double mean_kl = 0;
  double max_kl = 0;

  double top_agreement() const { return positions == 0 ? 1.0 : static_cast<double>(same_top) / positions; }
};

LogitsAgreement CompareLogits(std::span<const float> reference, std::span<const float> other, int64_t vocab);

// Mean negative log-likelihood (nats) of `next[i]` under row i of `logits` [next.size(), vocab];
// exp() of it is the perplexity.
double MeanNegativeLogLikelihood(std::span<const float> logits, std::span<const int32_t> next, int64_t vocab);

class Model;

// `ids` cut into consecutive windows of `window` tokens (the last one shorter; none shorter than
// 2, which predict nothing), each to be run from an empty cache.
std::vector<std::vector<int32_t>> CutIntoWindows(std::span<const int32_t> ids, size_t window);

// `model` against `reference` (the same architecture and vocabulary; typically the same
// checkpoint unquantised) over windows of token ids, each from an empty cache: how well each
// predicts every window's next tokens, and how closely `model` follows `reference`.
struct WindowedComparison {
  int64_t predictions = 0;                // tokens predicted: Σ (window length − 1)
  double reference_nll = 0, model_nll = 0;  // mean negative log-likelihood, nats
  LogitsAgreement agreement;              // over every position of every window

  double reference_perplexity() const;
  double model_perplexity() const;
};
absl::StatusOr<WindowedComparison> CompareOnWindows(Model& reference, Model& model,
                                                    std::span<const std::vector<int32_t>> windows);

}  // namespace engine

#endif  // AGENTD_ENGINE_LOGITS_AGREEMENT_H_
