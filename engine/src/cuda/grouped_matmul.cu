// The routed experts' products, grouped by expert from device-side offsets (MoeDispatch): block
// (row tile, expert) reads its expert's slot range on the device and computes kRowsPerWarp rows
// per warp for up to `Tokens` slots at a time. The slots' inputs are staged in shared memory a
// chunk of columns at a time, so the block's warps read them once between them, and each lane
// keeps kRowsPerWarp independent weight loads in flight: at decode a GEMV per expert that
// streams its rows once per tile of slots. CPU reference cuda::reference::GroupedMatmul (the CPU
// path's per-expert MatmulTransposed over gathered rows). Batches of more than 16 tokens with bf16
// weights take the tensor cores instead (GroupedMatmulTensorKernel): 16 slots at a time, their
// inputs rounded to bf16 as the dense products' are.
#include <cuda_bf16.h>
#include <mma.h>

#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace engine::cuda {
namespace {

constexpr int kWarps = 8, kRowsPerWarp = 4, kRowsPerBlock = kWarps * kRowsPerWarp;
constexpr int kChunk = 512;  // columns of the inputs staged at a time

// Eight consecutive weights as float32: one 16-byte load of bf16, two of float32.
__device__ __forceinline__ void LoadEight(const uint16_t* w, float* out) {
  const uint4 packed = *reinterpret_cast<const uint4*>(w);
  const uint32_t pairs[4] = {packed.x, packed.y, packed.z, packed.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    out[2 * i] = __uint_as_float(pairs[i] << 16);
    out[2 * i + 1] = __uint_as_float(pairs[i] & 0xffff0000u);
  }
}
__device__ __forceinline__ void LoadEight(const float* w, float* out) {
  const float4 lo = *reinterpret_cast<const float4*>(w);
  const float4 hi = *reinterpret_cast<const float4*>(w + 4);
  out[0] = lo.x, out[1] = lo.y, out[2] = lo.z, out[3] = lo.w;
  out[4] = hi.x, out[5] = hi.y, out[6] = hi.z, out[7] = hi.w;
}

// Column `column` of the input row of `slot`: the token's own hidden state (order[slot] / k) for
// gate and up, the slot's row for down.
__device__ __forceinline__ float SlotInput(const GroupedMatmulArgs& a, int slot, int64_t column) {
  const int64_t src = a.gather_tokens ? a.order[slot] / a.k : slot;
  return a.x[src * a.in_features + column];
}

template <typename Weight, int Tokens>
__global__ void __launch_bounds__(kWarps * kWarp) GroupedMatmulKernel(GroupedMatmulArgs a, const Weight* const* weights) {
  __shared__ __align__(16) float staged[Tokens][kChunk];
  const int e = blockIdx.y;
  const int first = a.offsets[e], last = a.offsets[e + 1];
  if (first == last) return;  // the whole block leaves together
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp * kRowsPerWarp;
  const Weight* w[kRowsPerWarp];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    // Rows past the end read row 0 (always there) and are not written.
    w[r] = weights[e] + (row0 + r < a.out_features ? row0 + r : 0) * a.in_features;
  }
  for (int s0 = first; s0 < last; s0 += Tokens) {
    const int count = min(Tokens, last - s0);
    float acc[kRowsPerWarp][Tokens] = {};
    for (int64_t k0 = 0; k0 < a.in_features; k0 += kChunk) {
      const int width = static_cast<int>(min(static_cast<int64_t>(kChunk), a.in_features - k0));
      __syncthreads();  // the previous chunk's readers are done
      for (int i = threadIdx.x; i < Tokens * width; i += blockDim.x) {
        const int j = i / width, c = i % width;
        const float value = j < count ? SlotInput(a, s0 + j, k0 + c) : 0.0f;
        staged[j][c] = value;
      }
      __syncthreads();
      for (int c = lane * 8; c < width; c += kWarp * 8) {
        float wf[kRowsPerWarp][8];
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) LoadEight(w[r] + k0 + c, wf[r]);
#pragma unroll
        for (int j = 0; j < Tokens; ++j) {
          const float4 lo = *reinterpret_cast<const float4*>(&staged[j][c]);
          const float4 hi = *reinterpret_cast<const float4*>(&staged[j][c + 4]);
          const float xs[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
#pragma unroll
          for (int r = 0; r < kRowsPerWarp; ++r) {
#pragma unroll
            for (int i = 0; i < 8; ++i) acc[r][j] = fmaf(wf[r][i], xs[i], acc[r][j]);
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
#pragma unroll
      for (int j = 0; j < Tokens; ++j) {
        const float sum = WarpSum(acc[r][j]);
        if (lane == 0 && j < count && row0 + r < a.out_features) {
          a.y[static_cast<int64_t>(s0 + j) * a.out_features + row0 + r] = sum;
        }
      }
    }
  }
}

// Tensor cores (wmma, bf16 in, float32 accumulate): a block is kTensorWarps warps of
// kTensorRowTiles × 16 rows of one expert, over its slots 16 at a time; the slots' inputs are
// staged in shared memory as bf16 a chunk of columns at a time, the weights read straight from
// global memory as the A operand.
constexpr int kTensorWarps = 4, kTensorRowTiles = 2, kTensorRows = kTensorWarps * kTensorRowTiles * 16;
constexpr int kTensorChunk = 256, kTensorLd = kTensorChunk + 8;  // padded against bank conflicts


__global__ void __launch_bounds__(kTensorWarps * kWarp) GroupedMatmulTensorKernel(GroupedMatmulArgs a) {
  using namespace nvcuda;
  __shared__ __align__(32) __nv_bfloat16 staged[16 * kTensorLd];
  __shared__ __align__(32) float results[kTensorWarps][16 * 16];
  const int e = blockIdx.y;
  const int first = a.offsets[e], last = a.offsets[e + 1];
  if (first == last) return;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kTensorRows + warp * kTensorRowTiles * 16;
  const __nv_bfloat16* w = reinterpret_cast<const __nv_bfloat16*>(a.weights[e]);
  for (int s0 = first; s0 < last; s0 += 16) {
    const int count = min(16, last - s0);
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[kTensorRowTiles];
#pragma unroll
    for (int t = 0; t < kTensorRowTiles; ++t) wmma::fill_fragment(acc[t], 0.0f);
    for (int64_t k0 = 0; k0 < a.in_features; k0 += kTensorChunk) {
      const int width = static_cast<int>(min(static_cast<int64_t>(kTensorChunk), a.in_features - k0));
      __syncthreads();
      for (int i = threadIdx.x; i < 16 * width; i += blockDim.x) {
        const int j = i / width, c = i % width;
        const float value = j < count ? SlotInput(a, s0 + j, k0 + c) : 0.0f;
        staged[j * kTensorLd + c] = __ushort_as_bfloat16(RoundToBf16Bits(value));
      }
      __syncthreads();
      // Unrolled so that the next steps' weight loads are in flight during this step's products.
#pragma unroll 4
      for (int c = 0; c < width; c += 16) {
        // B[k][slot] = x[slot][k]: column-major with the staged rows' stride.
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b;
        wmma::load_matrix_sync(b, staged + c, kTensorLd);
#pragma unroll
        for (int t = 0; t < kTensorRowTiles; ++t) {
          const int64_t row = row0 + t * 16;
          if (row >= a.out_features) continue;  // whole tiles only (out_features % 16 == 0)
          wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> weights;
          wmma::load_matrix_sync(weights, w + row * a.in_features + k0 + c, static_cast<unsigned>(a.in_features));
          wmma::mma_sync(acc[t], weights, b, acc[t]);
        }
      }
    }
#pragma unroll
    for (int t = 0; t < kTensorRowTiles; ++t) {
      const int64_t row = row0 + t * 16;
      if (row >= a.out_features) continue;
      // C[row][slot], row-major 16 × 16, then each valid slot's 16 outputs.
      wmma::store_matrix_sync(results[warp], acc[t], 16, wmma::mem_row_major);
      __syncwarp();
      for (int i = lane; i < 16 * count; i += kWarp) {
        const int r = i % 16, j = i / 16;
        a.y[static_cast<int64_t>(s0 + j) * a.out_features + row + r] = results[warp][r * 16 + j];
      }
      __syncwarp();
    }
  }
}

// The tensor-core kernel's conditions: bf16 weights, whole 16-row tiles and 16-column steps.
bool TensorCoresTake(const GroupedMatmulArgs& args, int64_t tokens) {
  return args.tensor_cores && tokens > 16 && args.weights != nullptr && args.out_features % 16 == 0 && args.in_features % 16 == 0;
}

template <typename Weight>
cudaError_t LaunchGroupedMatmul(const GroupedMatmulArgs& args, const Weight* const* weights, int64_t rows,
                                cudaStream_t stream) {
  if (weights == nullptr || args.experts <= 0 || args.experts > 65535 || args.in_features <= 0 ||
      args.in_features % 8 != 0 || args.out_features <= 0 || args.k <= 0) {
    return cudaErrorInvalidValue;
  }
  const dim3 grid(static_cast<unsigned>((args.out_features + kRowsPerBlock - 1) / kRowsPerBlock),
                  static_cast<unsigned>(args.experts));
  // An expert gets at most `rows` slots (each token chooses it once): one token at decode, a
  // few in small batches, more in larger ones; each tile's weights are read once.
  if (rows <= 1) {
    GroupedMatmulKernel<Weight, 1><<<grid, kWarps * kWarp, 0, stream>>>(args, weights);
  } else if (rows <= 16) {
    GroupedMatmulKernel<Weight, 4><<<grid, kWarps * kWarp, 0, stream>>>(args, weights);
  } else {
    GroupedMatmulKernel<Weight, 8><<<grid, kWarps * kWarp, 0, stream>>>(args, weights);
  }
  return LaunchError();
}

}  // namespace

cudaError_t GroupedMatmulBf16(const GroupedMatmulArgs& args, int64_t tokens, cudaStream_t stream) {
  if (TensorCoresTake(args, tokens) && args.experts > 0 && args.experts <= 65535 && args.k > 0) {
    const dim3 grid(static_cast<unsigned>((args.out_features + kTensorRows - 1) / kTensorRows),
                    static_cast<unsigned>(args.experts));
    GroupedMatmulTensorKernel<<<grid, kTensorWarps * kWarp, 0, stream>>>(args);
    return LaunchError();
  }
  return LaunchGroupedMatmul(args, args.weights, tokens, stream);
}

cudaError_t GroupedMatmulF32(const GroupedMatmulArgs& args, int64_t tokens, cudaStream_t stream) {
  return LaunchGroupedMatmul(args, args.weights_f32, tokens, stream);
}

}  // namespace engine::cuda
