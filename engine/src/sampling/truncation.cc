#include "sampling/truncation.h"

#include <algorithm>
#include <functional>

namespace engine::sampling {

Kept KeptTokens(std::span<const float> probs, int top_k, float top_p, float min_p) {
  const size_t n = probs.size();
  Kept kept;
  if (n == 0) return kept;
  const bool nucleus = top_p > 0 && top_p < 1.0f;
  size_t limit = n;
  if (top_k > 0) limit = std::min(limit, static_cast<size_t>(top_k));
  if (limit == n && !nucleus && !(min_p > 0)) {
    kept.all = true;
    kept.count = n;
    return kept;
  }

  // The candidates: under min_p only tokens at or above its floor can be kept, and they are the
  // best ones (the order is by probability first), so the rest need no ordering at all.
  const bool floored = min_p > 0;
  const float floor = floored ? min_p * *std::max_element(probs.begin(), probs.end()) : 0.0f;
  const auto candidate = [&](size_t i) { return !floored || probs[i] >= floor; };
  size_t candidates = n;
  if (floored) candidates = static_cast<size_t>(std::count_if(probs.begin(), probs.end(), [&](float p) { return p >= floor; }));
  limit = std::min(limit, candidates);

  const auto better = [&](int32_t a, int32_t b) { return probs[a] > probs[b] || (probs[a] == probs[b] && a < b); };
  std::vector<int32_t>& order = kept.order;
  std::vector<float> values;
  // order[0, sorted) holds the best candidates, best first, as a full sort would.
  size_t sorted = 0;
  // Makes it at least the best `count`: those at or above the count-th best probability (found
  // over the bare values, with no lookups through token ids), sorted.
  constexpr size_t kHeapLimit = 4096;
  const auto order_first = [&](size_t count) {
    count = std::min(count, candidates);
    if (count <= sorted) return;
    float threshold = floor;
    if (count < candidates && count <= kHeapLimit) {
      // A few: the best `count` values in a min-heap, in one pass that rarely touches it.
      values.clear();
      for (size_t i = 0; i < n; ++i) {
        if (!candidate(i)) continue;
        if (values.size() < count) {
          values.push_back(probs[i]);
          std::push_heap(values.begin(), values.end(), std::greater<float>());
        } else if (probs[i] > values.front()) {
          std::pop_heap(values.begin(), values.end(), std::greater<float>());
          values.back() = probs[i];
          std::push_heap(values.begin(), values.end(), std::greater<float>());
        }
      }
      threshold = values.front();
    } else if (count < candidates) {
      values.clear();
      for (size_t i = 0; i < n; ++i) {
        if (candidate(i)) values.push_back(probs[i]);
      }
      std::nth_element(values.begin(), values.begin() + (count - 1), values.end(), std::greater<float>());
      threshold = values[count - 1];
    }
    order.clear();
    for (size_t i = 0; i < n; ++i) {
      if (candidate(i) && (count == candidates || probs[i] >= threshold)) order.push_back(static_cast<int32_t>(i));
    }
    std::sort(order.begin(), order.end(), better);
    sorted = order.size();  // ties at the threshold may make it more than `count`
  };

  size_t keep = limit;
  if (nucleus) {
    // The smallest prefix whose mass reaches top_p, found over chunks ordered as needed (a
    // peaked distribution needs a handful of tokens; a flat one a larger part of the vocabulary,
    // in a few rounds of growing chunks).
    double mass = 0;
    size_t i = 0;
    size_t chunk = 64;
    bool reached = false;
    while (i < keep && !reached) {
      order_first(std::min(keep, sorted + chunk));
      chunk *= 4;
      for (; i < sorted; ++i) {
        mass += probs[order[i]];
        if (mass >= top_p) {
          ++i;
          reached = true;
          break;
        }
      }
    }
    keep = std::max<size_t>(1, std::min(keep, i));
  }
  order_first(keep);
  kept.count = keep;
  kept.ordered = sorted;
  return kept;
}

}  // namespace engine::sampling
