// Warp and block reductions and bf16 conversions shared by the kernels (private to engine/src/cuda).
#ifndef AGENTD_ENGINE_CUDA_REDUCE_CUH_
#define AGENTD_ENGINE_CUDA_REDUCE_CUH_

#include <cuda_runtime.h>

#include <cstdint>

namespace engine::cuda {

constexpr int kWarp = 32;

__device__ __forceinline__ float WarpSum(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float WarpMax(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// The block's sum or max, in every thread. `shared` holds one float per warp; blockDim.x is a
// multiple of 32 and at most 1024.
template <bool kMax>
__device__ __forceinline__ float BlockReduce(float v, float* shared) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  v = kMax ? WarpMax(v) : WarpSum(v);
  __syncthreads();  // `shared` may still be read from a previous reduction
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float r = lane < warps ? shared[lane] : (kMax ? -INFINITY : 0.0f);
  return kMax ? WarpMax(r) : WarpSum(r);
}

// A candidate of an arg-max: the larger value wins, the lower index on ties.
struct Best {
  float value;
  int index;  // -1: nothing yet
};

__device__ __forceinline__ Best Better(Best a, Best b) {
  if (b.index < 0) return a;
  if (a.index < 0) return b;
  return (b.value > a.value || (b.value == a.value && b.index < a.index)) ? b : a;
}

// The block's best (value, index) over values[i], i < count, skipping i where taken[i] != 0
// (taken may be null). `warp_best` holds one Best per warp; every thread gets the result.
__device__ __forceinline__ Best BlockArgmax(const float* values, const unsigned char* taken, int64_t count,
                                            Best* warp_best) {
  Best best{-INFINITY, -1};
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    if (taken == nullptr || !taken[i]) best = Better(best, Best{values[i], static_cast<int>(i)});
  }
#pragma unroll
  for (int o = kWarp / 2; o > 0; o /= 2) {
    Best other{__shfl_xor_sync(0xffffffffu, best.value, o), __shfl_xor_sync(0xffffffffu, best.index, o)};
    best = Better(best, other);
  }
  __syncthreads();
  if (threadIdx.x % kWarp == 0) warp_best[threadIdx.x / kWarp] = best;
  __syncthreads();
  Best result{-INFINITY, -1};
  for (int w = 0; w < static_cast<int>(blockDim.x / kWarp); ++w) result = Better(result, warp_best[w]);
  return result;
}

__device__ __forceinline__ float Bf16Bits(uint16_t bits) { return __uint_as_float(static_cast<uint32_t>(bits) << 16); }

// float32 → bf16 bits, rounded to nearest even with NaN kept (engine::F32ToBf16 on the CPU).
__device__ __forceinline__ uint16_t RoundToBf16Bits(float value) {
  const uint32_t bits = __float_as_uint(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// An error for a launch the kernel cannot take, else the launch's own.
inline cudaError_t LaunchError() { return cudaGetLastError(); }

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_REDUCE_CUH_
