// Addressing of the paged KV cache's rows on the device (cuda/ops.h: PagedKvLayout), shared by
// the kernels that write and read it.
#ifndef AGENTD_ENGINE_CUDA_PAGED_KV_CUH_
#define AGENTD_ENGINE_CUDA_PAGED_KV_CUH_

#include "cuda/ops.h"

namespace engine::cuda {

// Layer `layer`'s a row (or b row) of position `pos` in the sequence whose block table is `table`.
__device__ __forceinline__ float* KvRow(const PagedKvLayout& kv, const int32_t* table, int layer, int64_t pos,
                                        bool a) {
  const int64_t block_size = int64_t{1} << kv.block_shift;
  const int64_t block = table[pos >> kv.block_shift], offset = pos & (block_size - 1);
  float* base = kv.block_bases != nullptr ? kv.block_bases[block] : kv.arena + block * kv.block_floats;
  return a ? base + (layer * block_size + offset) * kv.a_width
           : base + kv.b_start + (layer * block_size + offset) * kv.b_width;
}

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_PAGED_KV_CUH_
