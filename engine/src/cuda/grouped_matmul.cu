// The routed experts' products, grouped by expert from device-side offsets (MoeDispatch): block
// (row tile, expert) reads its expert's slot range on the device, and each warp takes one output
// row, streaming its bf16 weights once per tile of up to kTokens slots — a GEMV per expert at
// decode, where a token's few experts read their rows once. CPU reference
// cuda::reference::GroupedMatmul (the CPU path's per-expert MatmulTransposed over gathered rows).
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

constexpr int kRowsPerBlock = 8, kTokens = 4;

__global__ void GroupedMatmulKernel(GroupedMatmulArgs a) {
  const int e = blockIdx.y;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  const int first = a.offsets[e], last = a.offsets[e + 1];
  if (row >= a.out_features || first == last) return;
  const uint16_t* w = a.weights[e] + row * a.in_features;
  for (int s0 = first; s0 < last; s0 += kTokens) {
    const int count = min(kTokens, last - s0);
    const float* x[kTokens];
#pragma unroll
    for (int j = 0; j < kTokens; ++j) {
      const int slot = s0 + min(j, count - 1);
      const int64_t src = a.gather_tokens ? a.order[slot] / a.k : slot;
      x[j] = a.x + src * a.in_features;
    }
    float acc[kTokens] = {};
    for (int64_t c = static_cast<int64_t>(lane) * 8; c < a.in_features; c += kWarp * 8) {
      const uint4 packed = *reinterpret_cast<const uint4*>(w + c);
      const uint32_t pairs[4] = {packed.x, packed.y, packed.z, packed.w};
      float wf[8];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        wf[2 * i] = __uint_as_float(pairs[i] << 16);
        wf[2 * i + 1] = __uint_as_float(pairs[i] & 0xffff0000u);
      }
#pragma unroll
      for (int j = 0; j < kTokens; ++j) {
        const float4 lo = *reinterpret_cast<const float4*>(x[j] + c);
        const float4 hi = *reinterpret_cast<const float4*>(x[j] + c + 4);
        acc[j] = fmaf(wf[0], lo.x, acc[j]);
        acc[j] = fmaf(wf[1], lo.y, acc[j]);
        acc[j] = fmaf(wf[2], lo.z, acc[j]);
        acc[j] = fmaf(wf[3], lo.w, acc[j]);
        acc[j] = fmaf(wf[4], hi.x, acc[j]);
        acc[j] = fmaf(wf[5], hi.y, acc[j]);
        acc[j] = fmaf(wf[6], hi.z, acc[j]);
        acc[j] = fmaf(wf[7], hi.w, acc[j]);
      }
    }
#pragma unroll
    for (int j = 0; j < kTokens; ++j) {
      const float sum = WarpSum(acc[j]);
      if (lane == 0 && j < count) a.y[static_cast<int64_t>(s0 + j) * a.out_features + row] = sum;
    }
  }
}

}  // namespace

cudaError_t GroupedMatmulBf16(const GroupedMatmulArgs& args, cudaStream_t stream) {
  if (args.experts <= 0 || args.experts > 65535 || args.in_features <= 0 || args.in_features % 8 != 0 ||
      args.out_features <= 0 || args.k <= 0) {
    return cudaErrorInvalidValue;
  }
  const dim3 grid(static_cast<unsigned>((args.out_features + kRowsPerBlock - 1) / kRowsPerBlock),
                  static_cast<unsigned>(args.experts));
  GroupedMatmulKernel<<<grid, kRowsPerBlock * kWarp, 0, stream>>>(args);
  return LaunchError();
}

}  // namespace engine::cuda
