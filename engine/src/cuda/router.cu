// MoE routing, one block per token; CPU reference model::Route (model/router.h has the rules of
// each gating scheme). Selection is k rounds of a block-wide arg-max that prefers the lower index
// on ties, which is what the CPU's partial sort with its tie rule yields.
#include <climits>

#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

constexpr int kMaxExperts = 1024, kMaxK = 32, kMaxGroups = 64, kThreads = 256;

__global__ void RouteKernel(const float* logits, RouterParams p, int32_t* experts_out, float* weights_out) {
  __shared__ float scores[kMaxExperts], rank_by[kMaxExperts], group_scores[kMaxGroups];
  __shared__ unsigned char taken[kMaxExperts], keep_group[kMaxGroups];
  __shared__ float partial[kWarp];
  __shared__ Best warp_best[kWarp];
  __shared__ int chosen[kMaxK];
  const int E = p.experts;
  const float* row = logits + static_cast<int64_t>(blockIdx.x) * E;

  for (int e = threadIdx.x; e < E; e += blockDim.x) scores[e] = row[e];
  __syncthreads();
  if (p.sigmoid) {
    for (int e = threadIdx.x; e < E; e += blockDim.x) scores[e] = 1.0f / (1.0f + expf(-scores[e]));
  } else {
    float m = -INFINITY;
    for (int e = threadIdx.x; e < E; e += blockDim.x) m = fmaxf(m, scores[e]);
    m = BlockReduce<true>(m, partial);
    float sum = 0.0f;
    for (int e = threadIdx.x; e < E; e += blockDim.x) {
      scores[e] = expf(scores[e] - m);
      sum += scores[e];
    }
    sum = BlockReduce<false>(sum, partial);
    const float inv = 1.0f / sum;
    for (int e = threadIdx.x; e < E; e += blockDim.x) scores[e] *= inv;
  }
  for (int e = threadIdx.x; e < E; e += blockDim.x) {
    rank_by[e] = scores[e] + (p.correction_bias != nullptr ? p.correction_bias[e] : 0.0f);
    taken[e] = 0;
  }
  __syncthreads();

  if (p.n_group > 1) {
    const int per_group = E / p.n_group;
    if (threadIdx.x < p.n_group) {
      const float* members = rank_by + threadIdx.x * per_group;
      // The best member, and for noaux_tc the best two's sum (ties do not change a sum).
      int first = 0;
      for (int i = 1; i < per_group; ++i) {
        if (members[i] > members[first]) first = i;
      }
      float score = members[first];
      if (p.group_by_top_two_sum && per_group > 1) {
        int second = -1;
        for (int i = 0; i < per_group; ++i) {
          if (i != first && (second < 0 || members[i] > members[second])) second = i;
        }
        score = 0.0f + members[first] + members[second];
      }
      group_scores[threadIdx.x] = score;
      keep_group[threadIdx.x] = 0;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int round = 0; round < p.topk_group; ++round) {
        int best = -1;
        for (int g = 0; g < p.n_group; ++g) {
          if (!keep_group[g] && (best < 0 || group_scores[g] > group_scores[best])) best = g;
        }
        keep_group[best] = 1;
      }
    }
    __syncthreads();
    // Experts of dropped groups rank as 0, as the reference implementation masks them.
    for (int e = threadIdx.x; e < E; e += blockDim.x) {
      if (!keep_group[e / per_group]) rank_by[e] = 0.0f;
    }
    __syncthreads();
  }

  for (int i = 0; i < p.k; ++i) {
    const Best best = BlockArgmax(rank_by, taken, E, warp_best);
    if (threadIdx.x == 0) {
      chosen[i] = best.index;
      taken[best.index] = 1;
    }
    __syncthreads();
  }

  if (threadIdx.x == 0) {
    float w[kMaxK];
    float sum = 0.0f;
    for (int i = 0; i < p.k; ++i) {
      w[i] = scores[chosen[i]];
      sum += w[i];
    }
    for (int i = 0; i < p.k; ++i) {
      if (p.normalise) w[i] /= sum + p.normalise_eps;
      w[i] *= p.scale;
      experts_out[static_cast<int64_t>(blockIdx.x) * p.k + i] = chosen[i];
      weights_out[static_cast<int64_t>(blockIdx.x) * p.k + i] = w[i];
    }
  }
}

}  // namespace

cudaError_t Route(const float* logits, int64_t n, const RouterParams& params, int32_t* experts_out,
                  float* weights_out, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  if (n > INT_MAX || params.experts <= 0 || params.experts > kMaxExperts || params.k <= 0 || params.k > kMaxK ||
      params.k > params.experts || params.n_group <= 0 || params.n_group > kMaxGroups ||
      params.experts % params.n_group != 0 || params.topk_group <= 0 || params.topk_group > params.n_group) {
    return cudaErrorInvalidValue;
  }
  RouteKernel<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(logits, params, experts_out, weights_out);
  return LaunchError();
}

}  // namespace engine::cuda
