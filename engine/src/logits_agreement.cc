#include "engine/logits_agreement.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/model.h"

namespace engine {
namespace {

// log-softmax of one row, in double precision.
void LogSoftmax(const float* row, int64_t vocab, std::vector<double>* out) {
  out->resize(static_cast<size_t>(vocab));
  const double top = *std::max_element(row, row + vocab);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(row[i] - top);
  const double log_sum = top + std::log(sum);
  for (int64_t i = 0; i < vocab; ++i) (*out)[i] = row[i] - log_sum;
}

}  // namespace

LogitsAgreement CompareLogits(std::span<const float> reference, std::span<const float> other, int64_t vocab) {
  LogitsAgreement out;
  if (vocab <= 0 || reference.size() != other.size()) return out;
  std::vector<double> p, q;
  for (size_t row = 0; (row + 1) * vocab <= reference.size(); ++row) {
    const float* r = reference.data() + row * vocab;
    const float* o = other.data() + row * vocab;
    ++out.positions;
    out.same_top += std::max_element(r, r + vocab) - r == std::max_element(o, o + vocab) - o;
    LogSoftmax(r, vocab, &p);
    LogSoftmax(o, vocab, &q);
    double kl = 0;
    for (int64_t i = 0; i < vocab; ++i) kl += std::exp(p[i]) * (p[i] - q[i]);
    out.mean_kl += kl;
    out.max_kl = std::max(out.max_kl, kl);
  }
  if (out.positions > 0) out.mean_kl /= static_cast<double>(out.positions);
  return out;
}

double MeanNegativeLogLikelihood(std::span<const float> logits, std::span<const int32_t> next, int64_t vocab) {
  std::vector<double> log_p;
  double total = 0;
  for (size_t i = 0; i < next.size(); ++i) {
    LogSoftmax(logits.data() + i * vocab, vocab, &log_p);
    total -= log_p[static_cast<size_t>(next[i])];
  }
  return next.empty() ? 0.0 : total / static_cast<double>(next.size());
}

std::vector<std::vector<int32_t>> CutIntoWindows(std::span<const int32_t> ids, size_t window) {
  std::vector<std::vector<int32_t>> windows;
  for (size_t start = 0; window > 0 && start + 2 <= ids.size(); start += window) {
    const std::span<const int32_t> piece = ids.subspan(start, std::min(ids.size() - start, window));
    windows.emplace_back(piece.begin(), piece.end());
  }
  return windows;
}

double WindowedComparison::reference_perplexity() const { return std::exp(reference_nll); }
double WindowedComparison::model_perplexity() const { return std::exp(model_nll); }

absl::StatusOr<WindowedComparison> CompareOnWindows(Model& reference, Model& model,
                                                    std::span<const std::vector<int32_t>> windows) {
  const int64_t vocab = reference.config().vocab_size;
  if (model.config().vocab_size != vocab) return absl::InvalidArgumentError("the two models' vocabularies differ");
  WindowedComparison out;
  double mean_kl_sum = 0;
  for (const std::vector<int32_t>& window : windows) {
    if (window.size() < 2) continue;
    ForwardResult expected, actual;
    for (auto [m, result] : {std::pair{&reference, &expected}, std::pair{&model, &actual}}) {
      auto cache = m->NewCache();
      absl::Status status = m->Forward(window, cache.get(), {.all_logits = true}, result);
      if (!status.ok()) return status;
    }
    const std::span<const int32_t> next = std::span(window).subspan(1);
    const size_t predicted = next.size() * static_cast<size_t>(vocab);
    const std::span<const float> expected_rows(expected.logits.data(), predicted);
    const std::span<const float> actual_rows(actual.logits.data(), predicted);
    const auto n = static_cast<double>(next.size());
    out.reference_nll += MeanNegativeLogLikelihood(expected_rows, next, vocab) * n;
    out.model_nll += MeanNegativeLogLikelihood(actual_rows, next, vocab) * n;
    const LogitsAgreement a = CompareLogits(expected.logits, actual.logits, vocab);
    out.agreement.positions += a.positions;
    out.agreement.same_top += a.same_top;
    mean_kl_sum += a.mean_kl * static_cast<double>(a.positions);
    out.agreement.max_kl = std::max(out.agreement.max_kl, a.max_kl);
    out.predictions += static_cast<int64_t>(next.size());
  }
  if (out.predictions > 0) {
    out.reference_nll /= static_cast<double>(out.predictions);
    out.model_nll /= static_cast<double>(out.predictions);
  }
  if (out.agreement.positions > 0) out.agreement.mean_kl = mean_kl_sum / static_cast<double>(out.agreement.positions);
  return out;
}

}  // namespace engine
