// CPU references for the CUDA ops that have no op of their own on the CPU path (where the CPU
// path has one — RmsNorm, SiluMul, RotaryEmbedding, Route, CausalAttention, MatmulTransposed —
// the tests compare against it directly). Plain loops over host memory with the same arguments
// as the kernels (cuda/ops.h), written for clarity, not speed.
#ifndef AGENTD_ENGINE_CUDA_REFERENCE_H_
#define AGENTD_ENGINE_CUDA_REFERENCE_H_

#include <cstdint>
#include <vector>

#include "cuda/ops.h"

namespace engine::cuda::reference {

struct Dispatch {
  std::vector<int32_t> offsets, order, slot_of;
};
Dispatch MoeDispatch(const std::vector<int32_t>& choices, int experts);

// Host versions of GroupedMatmulArgs' pointers: weights[e] is expert e's [out, in] bf16 matrix.
void GroupedMatmul(const std::vector<float>& x, bool gather_tokens, int k, const Dispatch& dispatch,
                   const std::vector<std::vector<uint16_t>>& weights, int64_t out_features, int64_t in_features,
                   std::vector<float>* y);

void MoeCombine(const std::vector<float>& y, const std::vector<int32_t>& choices, const std::vector<float>& weights,
                const std::vector<int32_t>& slot_of, int64_t n, int k, int64_t hidden, const float* shared,
                std::vector<float>* out);

// The pointers of `args`, `kv` and `where` are host memory here.
void PagedAttention(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where);

}  // namespace engine::cuda::reference

#endif  // AGENTD_ENGINE_CUDA_REFERENCE_H_
