// Which tokens top-k, top-p and min-p keep of a distribution, in the order they are kept: higher
// probability first, then lower id (so results are reproducible).
//
// Sorting the whole vocabulary for that cost O(V log V) per sampled token on the scheduler
// thread (151,669 tokens with Qwen3) although only the kept ones are ever read in order. Here
// only candidates that can be kept are ordered: the top_k best (the k-th best probability found
// by nth_element over the bare values, then the tokens at or above it sorted), for top_p the
// best in growing chunks until their mass reaches it, and under min_p only tokens at or above
// its floor. The kept tokens and their order are exactly the full sort's, since (probability,
// id) orders every pair of tokens one way.
#ifndef AGENTD_ENGINE_SAMPLING_TRUNCATION_H_
#define AGENTD_ENGINE_SAMPLING_TRUNCATION_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace engine::sampling {

struct Kept {
  // Nothing can be dropped (no top_k below the vocabulary, no top_p, no min_p): `order` is
  // empty and every token is kept.
  bool all = false;
  // order[0, count) are the kept tokens, best first (tokens tied with the last may follow).
  std::vector<int32_t> order;
  size_t count = 0;
  // Tokens put in order: count, or more when ties or top_p's chunks took more.
  size_t ordered = 0;
};

// `probs`: a distribution (temperature applied). top_k 0, top_p outside (0, 1) and min_p ≤ 0
// mean no limit, as in SamplingParams. At least the most likely token is always kept.
Kept KeptTokens(std::span<const float> probs, int top_k, float top_p, float min_p);

}  // namespace engine::sampling

#endif  // AGENTD_ENGINE_SAMPLING_TRUNCATION_H_
