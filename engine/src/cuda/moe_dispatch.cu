// Routed choices grouped by expert on the device: a warp per expert counts its choices, one
// thread turns the counts into offsets, then a warp per expert writes its slots in choice order
// (a ballot per 32 choices gives each its rank). CPU reference cuda::reference::MoeDispatch
// (cuda/reference.h), the grouping the CPU path builds with a vector per expert.
#include <climits>

#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

constexpr int kWarpsPerBlock = 4;

__global__ void CountKernel(const int32_t* choices, int64_t total, int experts, int32_t* offsets) {
  const int e = blockIdx.x * kWarpsPerBlock + threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  if (e >= experts) return;
  int count = 0;
  for (int64_t base = 0; base < total; base += kWarp) {
    const int64_t i = base + lane;
    count += __popc(__ballot_sync(0xffffffffu, i < total && choices[i] == e));
  }
  if (lane == 0) offsets[e + 1] = count;
}

__global__ void ScanKernel(int experts, int32_t* offsets) {
  offsets[0] = 0;
  for (int e = 0; e < experts; ++e) offsets[e + 1] += offsets[e];
}

__global__ void FillKernel(const int32_t* choices, int64_t total, int experts, const int32_t* offsets,
                           int32_t* order, int32_t* slot_of) {
  const int e = blockIdx.x * kWarpsPerBlock + threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  if (e >= experts) return;
  int next = offsets[e];
  for (int64_t base = 0; base < total; base += kWarp) {
    const int64_t i = base + lane;
    const bool mine = i < total && choices[i] == e;
    const unsigned mask = __ballot_sync(0xffffffffu, mine);
    if (mine) {
      const int slot = next + __popc(mask & ((1u << lane) - 1u));
      order[slot] = static_cast<int32_t>(i);
      slot_of[i] = slot;
    }
    next += __popc(mask);
  }
}

}  // namespace

cudaError_t MoeDispatch(const int32_t* choices, int64_t n, int k, int experts, int32_t* offsets, int32_t* order,
                        int32_t* slot_of, cudaStream_t stream) {
  if (experts <= 0 || k <= 0 || n < 0 || n * k > INT_MAX) return cudaErrorInvalidValue;
  const int64_t total = n * k;
  const unsigned blocks = static_cast<unsigned>((experts + kWarpsPerBlock - 1) / kWarpsPerBlock);
  CountKernel<<<blocks, kWarpsPerBlock * kWarp, 0, stream>>>(choices, total, experts, offsets);
  ScanKernel<<<1, 1, 0, stream>>>(experts, offsets);
  FillKernel<<<blocks, kWarpsPerBlock * kWarp, 0, stream>>>(choices, total, experts, offsets, order, slot_of);
  return LaunchError();
}

}  // namespace engine::cuda
