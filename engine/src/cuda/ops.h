// The CUDA kernels of the forward pass. Each op is one .cu file with a CPU reference: the CPU
// engine's own op where it has one (cpu/ops.h, cpu/rope.h, cpu/attention.h, model/router.h), else
// cuda/reference.h. tests/engine/cuda_ops_test.cc runs every op and its reference on the same
// random inputs, shape class by shape class, so that one device run names any wrong kernel
// (llama.cpp's test-backend-ops does the same for its backends).
//
// Conventions: launchers take device pointers and a stream, enqueue work and return the launch's
// error; none synchronises or allocates. Activations are float32, row-major; weights are bf16
// (their uint16_t bits) as the checkpoint stores them. Sizes are checked by the caller (the
// model validates shapes once at load, as the CPU path does); launchers only refuse sizes the
// kernels cannot take, with cudaErrorInvalidValue.
#ifndef AGENTD_ENGINE_CUDA_OPS_H_
#define AGENTD_ENGINE_CUDA_OPS_H_

#include <cuda_runtime.h>

#include <cstdint>

namespace engine::cuda {

// out[r] = x[r] / rms(x[r]) · weight for `rows` rows of width `dim`. out may alias x.
cudaError_t RmsNorm(const float* x, int64_t rows, int64_t dim, const float* weight, float eps, float* out,
                    cudaStream_t stream);

// gate[i] = silu(gate[i]) · up[i] (SwiGLU's activation).
cudaError_t SiluMul(float* gate, const float* up, int64_t n, cudaStream_t stream);

// Rows of a bf16 table as float32: out[i] = table[ids[i]] ([n, cols]).
cudaError_t EmbeddingBf16(const uint16_t* table, int64_t cols, const int32_t* ids, int64_t n, float* out,
                          cudaStream_t stream);

// The same from a float32 table (the parity mode).
cudaError_t EmbeddingF32(const float* table, int64_t cols, const int32_t* ids, int64_t n, float* out,
                         cudaStream_t stream);

// bf16 bits of x, rounded to nearest even (the GEMMs' input in bf16 mode).
cudaError_t ConvertF32ToBf16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream);

// Rotary embedding with the CPU path's frequencies (cpu::RotaryEmbedding: inv_freq, and YaRN's
// attention factor on cos and sin). DeepSeek rotates adjacent pairs (interleaved), Qwen halves.
struct RopeParams {
  const float* inv_freq = nullptr;  // device, dim / 2 floats
  int dim = 0;
  bool interleaved = false;
  float attention_factor = 1.0f;
};
// For each row r of `rows`: rotates the `heads` vectors at x + r·row_stride + h·head_stride to
// position positions[r].
cudaError_t Rope(float* x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride,
                 const int32_t* positions, const RopeParams& params, cudaStream_t stream);

// MoE routing, the CPU path's rules (model/router.h) for every gating scheme; the host fills it
// from the model's config (RouterParamsFor, cuda/router_params.h).
struct RouterParams {
  int experts = 0;       // at most 1024
  int k = 0;             // experts per token, at most 32
  bool sigmoid = false;  // else softmax
  const float* correction_bias = nullptr;  // device, `experts` floats; nullptr: none
  int n_group = 1;                         // > 1: group-limited selection, at most 64 groups
  int topk_group = 1;
  bool group_by_top_two_sum = false;  // noaux_tc; else a group's best score
  bool normalise = false;             // weights /= (Σ weights + normalise_eps)
  float normalise_eps = 0.0f;
  float scale = 1.0f;  // weights *= scale, after normalising
};
// logits [n, experts] → experts_out [n, k] (best first; ties to the lower index) and
// weights_out [n, k].
cudaError_t Route(const float* logits, int64_t n, const RouterParams& params, int32_t* experts_out,
                  float* weights_out, cudaStream_t stream);

// Groups the n·k choices of Route by expert without leaving the device: offsets [experts + 1]
// (expert e's slots are [offsets[e], offsets[e+1])), order [n·k] (slot → choice index t·k + j,
// ascending within an expert) and slot_of [n·k] (choice → slot). Every choice must be in
// [0, experts) — Route's output always is; another is not checked and writes out of bounds.
// n = 0 is valid: offsets become all zero.
cudaError_t MoeDispatch(const int32_t* choices, int64_t n, int k, int experts, int32_t* offsets, int32_t* order,
                        int32_t* slot_of, cudaStream_t stream);

// For every expert e and slot s of it: y[s] = x[row(s)] · W_eᵀ, with W_e = weights[e] (device
// pointers, bf16 [out_features, in_features]) and row(s) = order[s] / k when gather_tokens (the
// token's own hidden state: gate and up), else s (the slot's row: down). Counts are read on the
// device, so nothing returns to the host between routing and the experts.
struct GroupedMatmulArgs {
  const float* x = nullptr;
  bool gather_tokens = true;
  int k = 1;
  const int32_t* order = nullptr;
  const int32_t* offsets = nullptr;
  int experts = 0;
  // Device array of `experts` device pointers, each 16-byte aligned (the kernel reads 8 bf16 at
  // a time; cudaMalloc's 256-byte alignment and rows of a multiple of 8 keep every row aligned).
  const uint16_t* const* weights = nullptr;
  // GroupedMatmulF32's: float32 weights (the parity mode), each 16-byte aligned likewise.
  const float* const* weights_f32 = nullptr;
  int64_t out_features = 0;
  int64_t in_features = 0;  // a multiple of 8
  float* y = nullptr;       // [n·k, out_features]
  // Lets GroupedMatmulBf16 take the tensor cores over 16 tokens (written, not yet run on a GPU:
  // CudaModelOptions::unverified_kernels).
  bool tensor_cores = false;
};
// `tokens`: the n of Route's [n, k] choices (an expert gets at most n slots), which picks the
// kernel's tile of slots. Over 16 tokens (with rows and columns multiples of 16) the bf16
// products run on the tensor cores, which take their inputs rounded to bf16, as cuBLAS's bf16
// products do (MatmulBf16).
cudaError_t GroupedMatmulBf16(const GroupedMatmulArgs& args, int64_t tokens, cudaStream_t stream);
// The same over float32 weights (args.weights_f32): the parity mode's experts.
cudaError_t GroupedMatmulF32(const GroupedMatmulArgs& args, int64_t tokens, cudaStream_t stream);

// out[t] = Σ_j weights[t·k+j] · y[slot_of[t·k+j]] over the token's choices in ascending expert
// order, plus shared[t] when shared is not null: the CPU path's order of additions.
cudaError_t MoeCombine(const float* y, const int32_t* choices, const float* weights, const int32_t* slot_of,
                       int64_t n, int k, int64_t hidden, const float* shared, float* out, cudaStream_t stream);

// The paged KV cache in device memory, laid out as the CPU pool's blocks (engine/kv_block_pool.h):
// block b holds, for every layer, block_size rows of a_width floats, then block_size rows of
// b_width floats per layer. A sequence's block table lists its blocks in position order.
struct PagedKvLayout {
  float* arena = nullptr;  // blocks back to back
  int64_t block_floats = 0;
  // When set, block b starts at block_bases[b] instead (a device array: a pool that grows by
  // separate allocations, cuda/device_kv_blocks.h); arena and block_floats are then unused.
  float* const* block_bases = nullptr;
  int block_shift = 4;  // log2(block_size)
  int64_t a_width = 0;
  int64_t b_width = 0;
  int64_t b_start = 0;  // floats from a block's start to its first b row
  int layers = 0;
};

// Where a batch's rows are: row r belongs to the sequence whose block table starts at
// tables + table_start[r], at position positions[r].
struct KvRows {
  const int32_t* tables = nullptr;
  const int32_t* table_start = nullptr;  // [rows]
  const int32_t* positions = nullptr;    // [rows]
};

// Copies width floats of each row r (src + r·src_stride) into the layer's a (to_a) or b rows at
// its position.
cudaError_t PagedKvWrite(const float* src, int64_t rows, int64_t src_stride, int64_t width, bool to_a, int layer,
                         const PagedKvLayout& kv, const KvRows& where, cudaStream_t stream);

// Causal attention of each row's query heads over positions [0, position] of its sequence:
//   score(s) = scale · (q[0:score_a) · a_s[o : o + score_a) + q[score_a : score_a + score_b) · b_s[o : o + score_b))
//   out = Σ_s softmax(score)_s · v_s,  v_s = (values_from_a ? a_s : b_s)[o : o + value_width)
// where o = (h / group) · kv_head_stride is the query head's kv head.
// GQA: keys are the a rows and values the b rows, one kv head (offset g·head_dim) per `group`
// query heads, score_b = 0. MLA with absorbed up-projections: q = [W_UKᵀ q_nope ; q_rope],
// scored against the latent (a) and the rotary key (b), values the latent itself.
struct AttentionArgs {
  const float* q = nullptr;  // query head h of row r at q + r·q_row_stride + h·q_head_stride
  int64_t q_row_stride = 0;
  int64_t q_head_stride = 0;
  int heads = 0;
  int group = 1;  // query heads per kv head
  int score_a = 0;
  int score_b = 0;
  int64_t kv_head_stride = 0;  // floats between kv heads within a row (GQA: head_dim; MLA: 0)
  bool values_from_a = false;
  int value_width = 0;  // at most 1024
  float scale = 1.0f;
  int layer = 0;
  float* out = nullptr;  // [rows, heads, value_width]
};
cudaError_t PagedAttention(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where,
                           cudaStream_t stream);
// The same with each (row, head)'s positions shared among `splits` blocks (flash-decoding) and
// merged by a second kernel; `partial` holds AttentionSplitFloats floats. splits 1 is
// PagedAttention.
cudaError_t PagedAttentionSplit(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where,
                                int splits, float* partial, cudaStream_t stream);
// MLA's attention (IsLatentAttention: every head shares the kv head, values are the scored
// latent) with a block per (row, up to 16 heads, split) reading each cached row once for all its
// heads; the same results as PagedAttentionSplit, whose partials it shares.
bool IsLatentAttention(const AttentionArgs& args);
cudaError_t LatentAttention(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where,
                            int splits, float* partial, cudaStream_t stream);
// Its splits (a block takes 16 heads, so a decode step needs more of them) and their partials.
int LatentAttentionSplits(int64_t rows, int heads);
int64_t LatentAttentionSplitFloats(int64_t rows, int heads, int value_width);
// A prompt's attention: rows [0, rows) must be consecutive positions of one sequence (one
// block table, positions increasing by one). A block takes 16 of them and one head, and reads
// each chunk of cached rows once for the 16 (PagedAttention reads them once per row); the same
// formula and results as PagedAttention. Suits keys of up to 1152 floats and values of up to 512
// (GQA heads, MLA's latent); PrefillAttentionMinRows is the tile, below which it saves nothing.
bool PrefillAttentionSuits(const AttentionArgs& args);
int64_t PrefillAttentionMinRows();
cudaError_t PrefillAttention(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where,
                             cudaStream_t stream);
// The splits for `rows` rows of `heads` heads (enough blocks to fill the GPU at decode, 1 for
// a prefill's many rows), and the partials' floats they need.
int AttentionSplits(int64_t rows, int heads);
int64_t AttentionSplitFloats(int64_t rows, int heads, int value_width);

// Random weights made on the device for benchmarks of shapes too big to write to disk: element i
// is uniform in [-limit, limit) from a hash of (seed, i) (RandomWeight in cuda/random_fill.h, its
// CPU reference). bf16 bits or float32.
cudaError_t FillRandomBf16(uint16_t* out, int64_t n, uint64_t seed, float limit, cudaStream_t stream);
cudaError_t FillRandomF32(float* out, int64_t n, uint64_t seed, float limit, cudaStream_t stream);
// out[i] = value (norm weights of a random model: ones).
cudaError_t FillF32(float* out, int64_t n, float value, cudaStream_t stream);

// out[r] = the index of row r's largest logit (the lowest such index on ties): greedy sampling
// without copying the logits back.
cudaError_t ArgmaxRows(const float* logits, int64_t rows, int64_t vocab, int32_t* out, cudaStream_t stream);

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_OPS_H_
