// The forward pass on the GPU, written to be read next to the CPU path (model/transformer.cc)
// and the papers: DeepSeek-V2 §2.1 (multi-head latent attention, up-projections absorbed),
// DeepSeek-V3 §2.1.2 (routing), Qwen3 (GQA with q/k norm).
#include "cuda/cuda_model.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <initializer_list>
#include <map>
#include <utility>
#include <vector>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "cpu/rope.h"
#include "cuda/device_kv_blocks.h"
#include "cuda/device_weights.h"
#include "cuda/gemm.h"
#include "cuda/ops.h"
#include "cuda/router_params.h"
#include "engine/device.h"
#include "model/kv_cache.h"
#include "model/token_check.h"
#include "status_macros.h"

namespace engine::cuda {
namespace {

using model::PagedKvCache;

absl::Status CudaError(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("CUDA ", what, ": ", cudaGetErrorString(error)));
}
absl::Status CublasError(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("cuBLAS ", what, ": status ", static_cast<int>(status)));
}

#define CUDA_OK(expr, what) RETURN_IF_ERROR(CudaError((expr), (what)))
#define CUBLAS_OK(expr, what) RETURN_IF_ERROR(CublasError((expr), (what)))

// Carves one pass's buffers out of a device allocation, 256-byte aligned; with a null base it
// only measures, so the same code sizes the allocation and hands out its pieces.
class Carver {
 public:
  explicit Carver(char* base) : base_(base) {}
  template <typename T>
  T* Take(int64_t count) {
    const uint64_t offset = used_;
    used_ += (static_cast<uint64_t>(std::max<int64_t>(count, 1)) * sizeof(T) + 255) / 256 * 256;
    return base_ == nullptr ? nullptr : reinterpret_cast<T*>(base_ + offset);
  }
  uint64_t used() const { return used_; }

 private:
  char* base_;
  uint64_t used_ = 0;
};

// One pass's device buffers, for `rows` new tokens, `blocks` block-table entries and `picked`
// rows of logits.
struct PassBuffers {
  int32_t *tokens, *positions, *table_start, *tables;
  float *x, *h;
  uint16_t* x_bf16;  // a product's input rounded to bf16 (the bf16 mode)
  // Attention.
  float *q, *q_compressed, *keys, *values, *query, *context, *attended;
  float* attention_partial;  // flash-decoding's per-split partials (PagedAttentionSplit)
  // Feed-forward: dense or shared-expert gate/up; MoE routing and the routed experts' rows.
  float *gate, *up, *router_logits, *route_weights, *expert_gate, *expert_up, *expert_down, *shared_out;
  int32_t *choices, *offsets, *order, *slot_of;
  // The head.
  float *gathered, *logits;
};

// Where one sequence's rows are in the pass.
struct Segment {
  int64_t row, n, start;
  PagedKvCache* cache;
};

class CudaModel final : public Model {
 public:
  CudaModel(const ModelConfig& config, const CudaModelOptions& options, cudaStream_t stream, cublasHandle_t cublas)
      : config_(config),
        options_(options),
        stream_(stream),
        cublas_(cublas),
        rope_(config),
        softmax_scale_(cpu::AttentionSoftmaxScale(config)) {}

  ~CudaModel() override {
    cudaStreamSynchronize(stream_);
    for (auto& [rows, step] : graphs_) cudaGraphExecDestroy(step.exec);
    weights_.reset();
    cudaFree(cublas_workspace_);
    cudaFree(workspace_);
    cudaFree(inv_freq_);
    cudaFreeHost(pinned_);
    cublasDestroy(cublas_);
    cudaStreamDestroy(stream_);
  }

  absl::Status Init(std::unique_ptr<DeviceWeights> weights) {
    weights_ = std::move(weights);
    const std::vector<float>& inv_freq = rope_.inv_freq();
    CUDA_OK(cudaMalloc(&inv_freq_, std::max<size_t>(inv_freq.size(), 1) * sizeof(float)), "rope frequencies");
    CUDA_OK(cudaMemcpy(inv_freq_, inv_freq.data(), inv_freq.size() * sizeof(float), cudaMemcpyHostToDevice),
            "rope frequencies");
    rope_params_ = {.inv_freq = inv_freq_, .dim = rope_.dim(), .interleaved = config_.rope_interleave,
                    .attention_factor = rope_.attention_factor()};
    const ModelConfig& c = config_;
    // The widest input of any product (the bf16 mode rounds it into x_bf16).
    max_in_ = std::max<int64_t>({c.hidden_size, c.q_lora_rank, static_cast<int64_t>(c.num_attention_heads) * c.v_head_dim,
                                 static_cast<int64_t>(c.num_attention_heads) * c.head_dim, c.intermediate_size,
                                 static_cast<int64_t>(c.moe_intermediate_size) * std::max(1, c.num_shared_experts)});
    device_ = DescribeDevices(ProbeDevices());
    // cuBLAS's own workspace, so that it allocates nothing while a decode step is captured.
    constexpr size_t kCublasWorkspace = size_t{32} << 20;
    CUDA_OK(cudaMalloc(&cublas_workspace_, kCublasWorkspace), "cuBLAS workspace");
    CUBLAS_OK(cublasSetWorkspace(cublas_, cublas_workspace_, kCublasWorkspace), "cuBLAS workspace");
    return absl::OkStatus();
  }

  const ModelConfig& config() const override { return config_; }

  std::shared_ptr<KvBlockPool> NewBlockPool(const KvBlockPoolOptions& options) const override {
    const KvRowShape shape = RowShape();
    const int64_t block_size = std::bit_ceil(static_cast<unsigned>(std::max(1, options.block_size)));
    const int64_t block_floats = shape.layers * block_size * (shape.a_width + shape.b_width);
    return std::make_shared<KvBlockPool>(
        shape, options, std::make_unique<DeviceKvBlocks>(block_floats, options.max_blocks, stream_, identity_));
  }
  std::unique_ptr<KvCache> NewCache(std::shared_ptr<KvBlockPool> pool) const override {
    return std::make_unique<PagedKvCache>(std::move(pool));
  }
  bool has_mtp() const override { return false; }
  std::unique_ptr<KvCache> NewMtpCache() const override {
    return std::make_unique<PagedKvCache>(std::make_shared<KvBlockPool>(KvRowShape{.layers = 1, .a_width = 1, .b_width = 1},
                                                                        KvBlockPoolOptions{}));
  }
  absl::Status ForwardMtp(std::span<const float>, std::span<const int32_t>, KvCache*, const ForwardOptions&,
                          ForwardResult*) override {
    return absl::FailedPreconditionError("the CUDA backend does not run an MTP layer yet");
  }
  absl::StatusOr<std::vector<float>> CachedHidden(KvCache*, int64_t, int64_t) const override {
    return absl::FailedPreconditionError("the CUDA backend's KV caches do not keep hidden states");
  }

  uint64_t parameter_count() const override { return weights_->parameters; }
  uint64_t active_parameter_count() const override { return weights_->active_parameters; }
  uint64_t active_weight_bytes() const override { return weights_->active_bytes; }
  std::string weight_dtype() const override { return weights_->bf16 ? "bf16" : "f32"; }
  std::string device_description() const override { return device_; }

  absl::Status ForwardBatch(std::span<const BatchEntry> batch) override {
    if (batch.empty()) return absl::InvalidArgumentError("no sequences to run");
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Segment> segments;
    DeviceKvBlocks* blocks = nullptr;
    KvBlockPool* pool = nullptr;
    int64_t rows = 0;
    for (const BatchEntry& entry : batch) {
      auto* cache = dynamic_cast<PagedKvCache*>(entry.cache);
      auto* storage = cache != nullptr ? dynamic_cast<DeviceKvBlocks*>(cache->pool().storage()) : nullptr;
      const KvRowShape shape = RowShape();
      if (storage == nullptr || !storage->OwnedBy(identity_) || cache->pool().shape().layers != shape.layers ||
          cache->pool().shape().a_width != shape.a_width || cache->pool().shape().b_width != shape.b_width) {
        return absl::InvalidArgumentError("KV cache does not belong to this model");
      }
      if (pool != nullptr && &cache->pool() != pool) {
        return absl::InvalidArgumentError("the sequences of one batch must share a KV block pool on the GPU");
      }
      pool = &cache->pool();
      blocks = storage;
      for (const Segment& other : segments) {
        if (other.cache == cache) return absl::InvalidArgumentError("one KV cache twice in a batch");
      }
      RETURN_IF_ERROR(model::CheckTokens(config_, entry.tokens, cache->length()));
      const int64_t n = static_cast<int64_t>(entry.tokens.size());
      segments.push_back({rows, n, cache->length(), cache});
      rows += n;
    }
    for (size_t i = 0; i < segments.size(); ++i) {
      absl::Status reserved = segments[i].cache->Reserve(segments[i].n);
      if (!reserved.ok()) {
        for (size_t j = 0; j < i; ++j) segments[j].cache->Truncate(segments[j].start);
        return reserved;
      }
    }
    // A failed pass leaves every cache at its length, as the CPU path does (rows it wrote past
    // the length are not positions of the cache).
    absl::Status status = Pass(batch, segments, rows, *blocks, *pool);
    if (status.ok()) {
      for (const Segment& s : segments) s.cache->CommitAppend(s.n);
    }
    return status;
  }

 private:
  KvRowShape RowShape() const { return model::CacheRowShape(config_, config_.num_hidden_layers, false); }

  float Eps() const { return static_cast<float>(config_.rms_norm_eps); }

  // Every buffer of a pass; with a null base only the size.
  PassBuffers Carve(char* base, int64_t rows, int64_t table_entries, int64_t picked, uint64_t* bytes) const {
    const ModelConfig& c = config_;
    const int64_t hidden = c.hidden_size, heads = c.num_attention_heads;
    Carver carve(base);
    PassBuffers b{};
    // The integers in one piece, as in pinned memory (one upload).
    b.tokens = carve.Take<int32_t>(3 * rows + table_entries);
    b.positions = b.tokens == nullptr ? nullptr : b.tokens + rows;
    b.table_start = b.tokens == nullptr ? nullptr : b.tokens + 2 * rows;
    b.tables = b.tokens == nullptr ? nullptr : b.tokens + 3 * rows;
    b.x = carve.Take<float>(rows * hidden);
    b.h = carve.Take<float>(rows * hidden);
    b.x_bf16 = carve.Take<uint16_t>(rows * max_in_);
    if (c.is_mla()) {
      const int64_t qk = c.qk_nope_head_dim + c.qk_rope_head_dim, rank = c.kv_lora_rank;
      b.q = carve.Take<float>(rows * heads * qk);
      b.q_compressed = carve.Take<float>(rows * c.q_lora_rank);
      b.keys = carve.Take<float>(rows * rank);                  // the latent
      b.values = carve.Take<float>(rows * c.qk_rope_head_dim);  // the rotary key
      b.query = carve.Take<float>(rows * heads * (rank + c.qk_rope_head_dim));
      b.context = carve.Take<float>(rows * heads * rank);
      b.attended = carve.Take<float>(rows * heads * c.v_head_dim);
      b.attention_partial = carve.Take<float>(
          options_.unverified_kernels ? LatentAttentionSplitFloats(rows, static_cast<int>(heads), static_cast<int>(rank))
                                      : AttentionSplitFloats(rows, static_cast<int>(heads), static_cast<int>(rank)));
    } else {
      const int64_t kv = static_cast<int64_t>(c.num_key_value_heads) * c.head_dim;
      b.q = carve.Take<float>(rows * heads * c.head_dim);
      b.keys = carve.Take<float>(rows * kv);
      b.values = carve.Take<float>(rows * kv);
      b.attended = carve.Take<float>(rows * heads * c.head_dim);
      b.attention_partial = carve.Take<float>(AttentionSplitFloats(rows, static_cast<int>(heads), c.head_dim));
    }
    const int64_t dense_width = std::max<int64_t>(
        c.intermediate_size, static_cast<int64_t>(c.moe_intermediate_size) * c.num_shared_experts);
    b.gate = carve.Take<float>(rows * dense_width);
    b.up = carve.Take<float>(rows * dense_width);
    if (c.num_routed_experts > 0) {
      const int64_t k = c.num_experts_per_tok, width = c.moe_intermediate_size;
      b.router_logits = carve.Take<float>(rows * c.num_routed_experts);
      b.choices = carve.Take<int32_t>(rows * k);
      b.route_weights = carve.Take<float>(rows * k);
      b.offsets = carve.Take<int32_t>(c.num_routed_experts + 1);
      b.order = carve.Take<int32_t>(rows * k);
      b.slot_of = carve.Take<int32_t>(rows * k);
      b.expert_gate = carve.Take<float>(rows * k * width);
      b.expert_up = carve.Take<float>(rows * k * width);
      b.expert_down = carve.Take<float>(rows * k * hidden);
      b.shared_out = carve.Take<float>(rows * hidden);
    }
    b.gathered = carve.Take<float>(picked * hidden);
    b.logits = carve.Take<float>(picked * c.vocab_size);
    *bytes = carve.used();
    return b;
  }

  // y = x · Wᵀ (+ y when accumulate), for the n rows of x.
  absl::Status Linear(const float* x, int64_t n, const DeviceMatrix& w, float* y, bool accumulate = false) {
    return Linears(x, n, {{&w, y}}, accumulate);
  }
  // Several products of one input (q, k and v; gate and up): in the bf16 mode it is rounded once.
  struct Product {
    const DeviceMatrix* w;
    float* y;
  };
  absl::Status Linears(const float* x, int64_t n, std::initializer_list<Product> products, bool accumulate = false) {
    bool rounded = false;
    for (const Product& p : products) {
      if (p.w->bf16) {
        if (!rounded) CUDA_OK(ConvertF32ToBf16(x, n * p.w->cols, buffers_.x_bf16, stream_), "bf16 rounding");
        rounded = true;
        CUBLAS_OK(MatmulBf16(cublas_, buffers_.x_bf16, n, p.w->b16(), p.w->rows, p.w->cols, p.y, accumulate),
                  "bf16 product");
      } else {
        CUBLAS_OK(MatmulF32(cublas_, x, n, p.w->f32(), p.w->rows, p.w->cols, p.y, accumulate), "f32 product");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Pass(std::span<const BatchEntry> batch, std::span<const Segment> segments, int64_t rows,
                    DeviceKvBlocks& blocks, KvBlockPool& pool) {
    const ModelConfig& c = config_;
    const int64_t hidden = c.hidden_size, vocab = c.vocab_size;

    // A decode step (one new token per sequence, its logits only) is replayed from a CUDA graph
    // captured for its batch size: one launch instead of a thousand. Its block tables are
    // uploaded padded to a capacity, so the graph holds while sequences grow.
    int64_t picked = 0, table_entries = 0;
    bool hidden_wanted = false, decode_step = true;
    for (size_t i = 0; i < segments.size(); ++i) {
      picked += batch[i].options.all_logits ? segments[i].n : 1;
      hidden_wanted |= batch[i].options.return_hidden;
      decode_step &= segments[i].n == 1 && !batch[i].options.all_logits && !batch[i].options.return_hidden;
      table_entries += static_cast<int64_t>(segments[i].cache->blocks().size());
    }
    const int64_t table_capacity =
        decode_step ? std::max<int64_t>(64, std::bit_ceil(static_cast<uint64_t>(table_entries))) : table_entries;
    RETURN_IF_ERROR(Reserve(rows, table_capacity, picked, hidden_wanted ? rows : 0));

    // Host side, into pinned memory: tokens, positions, each row's block-table start, the tables.
    int32_t* tokens = host_ints_;
    int32_t* positions = tokens + rows;
    int32_t* table_start = positions + rows;
    int32_t* tables = table_start + rows;
    int64_t next_entry = 0;
    for (size_t i = 0; i < segments.size(); ++i) {
      const Segment& s = segments[i];
      const std::span<const int32_t> ids = s.cache->blocks();
      std::copy(ids.begin(), ids.end(), tables + next_entry);
      for (int64_t t = 0; t < s.n; ++t) {
        tokens[s.row + t] = batch[i].tokens[t];
        positions[s.row + t] = static_cast<int32_t>(s.start + t);
        table_start[s.row + t] = static_cast<int32_t>(next_entry);
      }
      next_entry += static_cast<int64_t>(ids.size());
    }
    std::fill(tables + next_entry, tables + table_capacity, 0);
    absl::StatusOr<float* const*> table = blocks.DeviceTable();
    if (!table.ok()) return table.status();
    const KvRowShape shape = RowShape();
    kv_ = {.block_bases = *table, .block_shift = pool.block_shift(), .a_width = shape.a_width, .b_width = shape.b_width,
           .b_start = static_cast<int64_t>(shape.layers) * pool.block_size() * shape.a_width, .layers = shape.layers};
    where_ = {.tables = buffers_.tables, .table_start = buffers_.table_start, .positions = buffers_.positions};

    const absl::Status enqueued = decode_step ? ReplayDecodeStep(rows, table_capacity)
                                              : Enqueue(batch, segments, rows, table_capacity, picked, hidden_wanted);
    // Waited for on failure too: what was enqueued must not read the next pass's tables.
    const cudaError_t synced = cudaStreamSynchronize(stream_);
    if (!enqueued.ok()) return enqueued;
    CUDA_OK(synced, "forward pass");

    int64_t r = 0;
    for (size_t i = 0; i < segments.size(); ++i) {
      const Segment& s = segments[i];
      const int64_t count = batch[i].options.all_logits ? s.n : 1;
      ForwardResult* result = batch[i].result;
      result->logit_rows = count;
      result->logits.assign(host_logits_ + r * vocab, host_logits_ + (r + count) * vocab);
      r += count;
      if (batch[i].options.return_hidden) {
        result->hidden.assign(host_hidden_ + s.row * hidden, host_hidden_ + (s.row + s.n) * hidden);
      } else {
        result->hidden.clear();
      }
    }
    return absl::OkStatus();
  }

  // The decode step of `rows` sequences over `table_capacity` table entries from its graph,
  // captured on first use (and again when the buffers or the block table it was captured over
  // have moved).
  absl::Status ReplayDecodeStep(int64_t rows, int64_t table_capacity) {
    const GraphKey key{kv_.block_bases, kv_.block_shift, workspace_, pinned_};
    auto found = graphs_.find({rows, table_capacity});
    if (found == graphs_.end() || !(found->second.key == key)) {
      if (found != graphs_.end()) {
        cudaGraphExecDestroy(found->second.exec);
        graphs_.erase(found);
      }
      CUDA_OK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "graph capture");
      const absl::Status enqueued = EnqueueDecode(rows, table_capacity);
      cudaGraph_t graph = nullptr;
      const cudaError_t ended = cudaStreamEndCapture(stream_, &graph);
      if (!enqueued.ok()) {
        if (graph != nullptr) cudaGraphDestroy(graph);
        return enqueued;
      }
      CUDA_OK(ended, "graph capture");
      cudaGraphExec_t exec = nullptr;
      const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
      cudaGraphDestroy(graph);
      CUDA_OK(instantiated, "graph instantiation");
      found = graphs_.emplace(std::make_pair(rows, table_capacity), CapturedStep{key, exec}).first;
    }
    CUDA_OK(cudaGraphLaunch(found->second.exec, stream_), "graph launch");
    return absl::OkStatus();
  }

  absl::Status EnqueueDecode(int64_t rows, int64_t table_capacity) {
    return Enqueue({}, {}, rows, table_capacity, rows, false);
  }

  // Everything a pass does on the stream: uploads, the layers, the head, the downloads. With an
  // empty batch (a decode step being captured) every row wants its own logits.
  absl::Status Enqueue(std::span<const BatchEntry> batch, std::span<const Segment> segments, int64_t rows,
                       int64_t table_entries, int64_t picked, bool hidden_wanted) {
    const ModelConfig& c = config_;
    const int64_t hidden = c.hidden_size, vocab = c.vocab_size;
    CUDA_OK(cudaMemcpyAsync(buffers_.tokens, host_ints_, (3 * rows + table_entries) * sizeof(int32_t),
                            cudaMemcpyHostToDevice, stream_),
            "upload");

    // The runs of a prompt's rows long enough for PrefillAttention (none in a captured decode step).
    prompt_runs_.clear();
    if (options_.unverified_kernels) {
      for (const Segment& s : segments) {
        if (s.n >= PrefillAttentionMinRows()) prompt_runs_.push_back({s.row, s.n});
      }
    }

    // x: the residual stream, one row per new token.
    const DeviceWeights& w = *weights_;
    float* x = buffers_.x;
    CUDA_OK(w.embed.bf16 ? EmbeddingBf16(w.embed.b16(), hidden, buffers_.tokens, rows, x, stream_)
                         : EmbeddingF32(w.embed.f32(), hidden, buffers_.tokens, rows, x, stream_),
            "embedding");
    for (int l = 0; l < c.num_hidden_layers; ++l) RETURN_IF_ERROR(DecoderLayer(w.layers[l], l, rows));
    CUDA_OK(RmsNorm(x, rows, hidden, w.final_norm, Eps(), x, stream_), "final norm");

    // The head over the rows the entries want: all of theirs, or their last.
    const float* head_input = x;
    if (picked != rows) {
      int64_t r = 0;
      for (size_t i = 0; i < segments.size(); ++i) {
        const Segment& s = segments[i];
        const int64_t first = batch[i].options.all_logits ? s.row : s.row + s.n - 1;
        const int64_t count = batch[i].options.all_logits ? s.n : 1;
        CUDA_OK(cudaMemcpyAsync(buffers_.gathered + r * hidden, x + first * hidden, count * hidden * sizeof(float),
                                cudaMemcpyDeviceToDevice, stream_),
                "head rows");
        r += count;
      }
      head_input = buffers_.gathered;
    }
    RETURN_IF_ERROR(Linear(head_input, picked, w.lm_head, buffers_.logits));
    CUDA_OK(cudaMemcpyAsync(host_logits_, buffers_.logits, picked * vocab * sizeof(float), cudaMemcpyDeviceToHost, stream_),
            "logits download");
    if (hidden_wanted) {
      CUDA_OK(cudaMemcpyAsync(host_hidden_, x, rows * hidden * sizeof(float), cudaMemcpyDeviceToHost, stream_),
              "hidden download");
    }
    return absl::OkStatus();
  }

  // Device buffers for the pass, and pinned host memory for its uploads and downloads; both
  // only grow. The pass's integers are laid out alike on both sides (one upload): tokens,
  // positions, table starts ([rows] each), then the tables.
  absl::Status Reserve(int64_t rows, int64_t table_entries, int64_t picked, int64_t hidden_rows) {
    uint64_t bytes = 0;
    Carve(nullptr, rows, table_entries, picked, &bytes);
    if (bytes > workspace_bytes_) {
      cudaFree(workspace_);
      workspace_ = nullptr;
      workspace_bytes_ = 0;
      CUDA_OK(cudaMalloc(&workspace_, bytes), "activations");
      workspace_bytes_ = bytes;
    }
    buffers_ = Carve(static_cast<char*>(workspace_), rows, table_entries, picked, &bytes);
    const uint64_t ints = (3 * rows + table_entries) * sizeof(int32_t);
    const uint64_t logits = picked * config_.vocab_size * sizeof(float);
    const uint64_t hidden = hidden_rows * config_.hidden_size * sizeof(float);
    auto aligned = [](uint64_t bytes) { return (bytes + 255) / 256 * 256; };
    const uint64_t pinned = aligned(ints) + aligned(logits) + hidden;
    if (pinned > pinned_bytes_) {
      cudaFreeHost(pinned_);
      pinned_ = nullptr;
      pinned_bytes_ = 0;
      CUDA_OK(cudaMallocHost(&pinned_, pinned), "pinned host memory");
      pinned_bytes_ = pinned;
    }
    char* p = static_cast<char*>(pinned_);
    host_ints_ = reinterpret_cast<int32_t*>(p);
    host_logits_ = reinterpret_cast<float*>(p + aligned(ints));
    host_hidden_ = reinterpret_cast<float*>(p + aligned(ints) + aligned(logits));
    return absl::OkStatus();
  }

  // x ← x + Attention(RMSNorm(x)); x ← x + FFN(RMSNorm(x)).
  absl::Status DecoderLayer(const DeviceLayer& w, int layer, int64_t n) {
    const int64_t hidden = config_.hidden_size;
    float* x = buffers_.x;
    float* h = buffers_.h;
    CUDA_OK(RmsNorm(x, n, hidden, w.input_norm, Eps(), h, stream_), "input norm");
    RETURN_IF_ERROR(config_.is_mla() ? LatentAttention(w, layer, n) : GroupedQueryAttention(w, layer, n));
    CUDA_OK(RmsNorm(x, n, hidden, w.post_attention_norm, Eps(), h, stream_), "post-attention norm");
    if (w.is_moe) return MixtureOfExperts(w, n);
    return Mlp(w.mlp, n);
  }

  // Multi-head latent attention with the up-projections absorbed: for head h,
  //   score(t, s) = (W_UKᵀ q_nope)·c_s + q_rope·k_rope_s,   out_h = W_UV · Σ_s p(t, s) c_s
  // with c_s the cached latent and k_rope_s the cached rotary key; x += W_O · out.
  absl::Status LatentAttention(const DeviceLayer& w, int layer, int64_t n) {
    const ModelConfig& c = config_;
    const int64_t heads = c.num_attention_heads, nope = c.qk_nope_head_dim, rope = c.qk_rope_head_dim;
    const int64_t vdim = c.v_head_dim, qk = nope + rope, rank = c.kv_lora_rank, key = rank + rope;
    const PassBuffers& b = buffers_;
    // Queries: q = W_QB · RMSNorm(W_QA · h) with q-LoRA, else W_Q · h.
    // The cached rows: the latent c = RMSNorm(W_DKV · h) and the rotated k_rope.
    const DeviceMatrix latent = w.kv_a.Rows(0, rank), rotary = w.kv_a.Rows(rank, rope);
    if (!w.q_a.empty()) {
      RETURN_IF_ERROR(Linears(b.h, n, {{&w.q_a, b.q_compressed}, {&latent, b.keys}, {&rotary, b.values}}));
      CUDA_OK(RmsNorm(b.q_compressed, n, c.q_lora_rank, w.q_a_norm, Eps(), b.q_compressed, stream_), "q_a norm");
      RETURN_IF_ERROR(Linear(b.q_compressed, n, w.q_b, b.q));
    } else {
      RETURN_IF_ERROR(Linears(b.h, n, {{&w.q, b.q}, {&latent, b.keys}, {&rotary, b.values}}));
    }
    CUDA_OK(RmsNorm(b.keys, n, rank, w.kv_a_norm, Eps(), b.keys, stream_), "kv_a norm");
    CUDA_OK(Rope(b.values, n, rope, 1, rope, b.positions, rope_params_, stream_), "k_rope");
    CUDA_OK(Rope(b.q + nope, n, heads * qk, heads, qk, b.positions, rope_params_, stream_), "q_rope");
    CUDA_OK(PagedKvWrite(b.keys, n, rank, rank, true, layer, kv_, where_, stream_), "latent into the cache");
    CUDA_OK(PagedKvWrite(b.values, n, rope, rope, false, layer, kv_, where_, stream_), "k_rope into the cache");

    // Each head's query against the cache: [W_UKᵀ q_nope ; q_rope]. W_UK of head h is rows
    // [h·(nope + v), +nope) of kv_b, [nope, rank]: its rows are the product's inputs.
    CUBLAS_OK(MatmulPerHeadF32(cublas_, {.x = b.q, .x_row_stride = heads * qk, .x_head_stride = qk,
                                         .w = w.kv_b, .w_head_stride = (nope + vdim) * rank, .w_rows_are_outputs = false,
                                         .y = b.query, .y_row_stride = heads * key, .y_head_stride = key,
                                         .n = n, .in = nope, .out = rank, .heads = static_cast<int>(heads)}),
              "W_UK absorbed");
    CUDA_OK(cudaMemcpy2DAsync(b.query + rank, key * sizeof(float), b.q + nope, qk * sizeof(float), rope * sizeof(float),
                              n * heads, cudaMemcpyDeviceToDevice, stream_),
            "q_rope into the query");
    const AttentionArgs args{.q = b.query, .q_row_stride = heads * key, .q_head_stride = key,
                             .heads = static_cast<int>(heads), .group = static_cast<int>(heads),
                             .score_a = static_cast<int>(rank), .score_b = static_cast<int>(rope), .kv_head_stride = 0,
                             .values_from_a = true, .value_width = static_cast<int>(rank), .scale = softmax_scale_,
                             .layer = layer, .out = b.context};
    if (options_.unverified_kernels) {
      const int splits = LatentAttentionSplits(n, static_cast<int>(heads));
      CUDA_OK(Attend(args, n,
                     [&](const AttentionArgs& part, int64_t rows, const KvRows& where) {
                       return cuda::LatentAttention(part, rows, kv_, where, splits, b.attention_partial, stream_);
                     }),
              "latent attention");
    } else {
      CUDA_OK(PagedAttentionSplit(args, n, kv_, where_, AttentionSplits(n, static_cast<int>(heads)), b.attention_partial,
                                  stream_),
              "latent attention");
    }
    // out_h = W_UV · context_h: W_UV of head h is rows [h·(nope + v) + nope, +v), [v, rank].
    CUBLAS_OK(MatmulPerHeadF32(cublas_, {.x = b.context, .x_row_stride = heads * rank, .x_head_stride = rank,
                                         .w = w.kv_b + nope * rank, .w_head_stride = (nope + vdim) * rank,
                                         .w_rows_are_outputs = true, .y = b.attended, .y_row_stride = heads * vdim,
                                         .y_head_stride = vdim, .n = n, .in = rank, .out = vdim,
                                         .heads = static_cast<int>(heads)}),
              "W_UV absorbed");
    return Linear(b.attended, n, w.o, buffers_.x, /*accumulate=*/true);
  }

  // Grouped-query attention with RMSNorm on each query and key head (Qwen3); x += W_O · out.
  absl::Status GroupedQueryAttention(const DeviceLayer& w, int layer, int64_t n) {
    const ModelConfig& c = config_;
    const int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads, d = c.head_dim;
    const PassBuffers& b = buffers_;
    RETURN_IF_ERROR(Linears(b.h, n, {{&w.q, b.q}, {&w.k, b.keys}, {&w.v, b.values}}));
    if (w.q_norm != nullptr) {
      CUDA_OK(RmsNorm(b.q, n * heads, d, w.q_norm, Eps(), b.q, stream_), "q norm");
      CUDA_OK(RmsNorm(b.keys, n * kv_heads, d, w.k_norm, Eps(), b.keys, stream_), "k norm");
    }
    CUDA_OK(Rope(b.q, n, heads * d, heads, d, b.positions, rope_params_, stream_), "q rope");
    CUDA_OK(Rope(b.keys, n, kv_heads * d, kv_heads, d, b.positions, rope_params_, stream_), "k rope");
    CUDA_OK(PagedKvWrite(b.keys, n, kv_heads * d, kv_heads * d, true, layer, kv_, where_, stream_), "keys into the cache");
    CUDA_OK(PagedKvWrite(b.values, n, kv_heads * d, kv_heads * d, false, layer, kv_, where_, stream_),
            "values into the cache");
    const AttentionArgs args{.q = b.q, .q_row_stride = heads * d, .q_head_stride = d, .heads = static_cast<int>(heads),
                             .group = static_cast<int>(heads / kv_heads), .score_a = static_cast<int>(d), .score_b = 0,
                             .kv_head_stride = d, .values_from_a = false, .value_width = static_cast<int>(d),
                             .scale = softmax_scale_, .layer = layer, .out = b.attended};
    const int splits = AttentionSplits(n, static_cast<int>(heads));
    CUDA_OK(Attend(args, n,
                   [&](const AttentionArgs& part, int64_t rows, const KvRows& where) {
                     return PagedAttentionSplit(part, rows, kv_, where, splits, b.attention_partial, stream_);
                   }),
            "attention");
    return Linear(b.attended, n, w.o, buffers_.x, /*accumulate=*/true);
  }

  // The attention of the pass's n rows: each prompt run (prompt_runs_) through PrefillAttention,
  // which reads a chunk of cached rows once for 16 of its rows, and the rows between through
  // `others` (the decode kernels, over a sub-range of the rows; their splits are those of all n
  // rows, which the partials were sized for, and fewer rows need no more of them).
  cudaError_t Attend(const AttentionArgs& args, int64_t n,
                     const std::function<cudaError_t(const AttentionArgs&, int64_t, const KvRows&)>& others) {
    const bool prefill = !prompt_runs_.empty() && PrefillAttentionSuits(args);
    if (!prefill) return others(args, n, where_);
    auto part = [&](int64_t row) {
      AttentionArgs moved = args;
      moved.q = args.q + row * args.q_row_stride;
      moved.out = args.out + row * args.heads * static_cast<int64_t>(args.value_width);
      return moved;
    };
    auto where = [&](int64_t row) {
      return KvRows{.tables = where_.tables, .table_start = where_.table_start + row, .positions = where_.positions + row};
    };
    int64_t row = 0;
    for (const auto& [first, count] : prompt_runs_) {
      if (first > row) {
        const cudaError_t before = others(part(row), first - row, where(row));
        if (before != cudaSuccess) return before;
      }
      const cudaError_t run = PrefillAttention(part(first), count, kv_, where(first), stream_);
      if (run != cudaSuccess) return run;
      row = first + count;
    }
    return row < n ? others(part(row), n - row, where(row)) : cudaSuccess;
  }

  // out (+)= down(silu(gate · h) ⊙ (up · h)); by default x += it.
  absl::Status Mlp(const DeviceMlp& w, int64_t n, float* out = nullptr, bool accumulate = true) {
    const PassBuffers& b = buffers_;
    RETURN_IF_ERROR(Linears(b.h, n, {{&w.gate, b.gate}, {&w.up, b.up}}));
    CUDA_OK(SiluMul(b.gate, b.up, n * w.gate.rows, stream_), "silu");
    return Linear(b.gate, n, w.down, out != nullptr ? out : buffers_.x, accumulate);
  }

  // x += Σ_j weight_j · expert_j(h) over each token's routed experts, plus the shared experts:
  // routed, grouped by expert and combined without the host seeing the choices.
  absl::Status MixtureOfExperts(const DeviceLayer& w, int64_t n) {
    const ModelConfig& c = config_;
    const int64_t hidden = c.hidden_size, width = w.expert_width;
    const int k = c.num_experts_per_tok, experts = c.num_routed_experts;
    const PassBuffers& b = buffers_;
    CUBLAS_OK(MatmulF32(cublas_, b.h, n, w.router.f32(), experts, hidden, b.router_logits), "router");
    CUDA_OK(Route(b.router_logits, n, RouterParamsFor(c, w.correction_bias), b.choices, b.route_weights, stream_),
            "routing");
    CUDA_OK(MoeDispatch(b.choices, n, k, experts, b.offsets, b.order, b.slot_of, stream_), "dispatch");
    // The shared experts into their own rows (the CPU path adds them after the routed ones).
    if (w.has_shared) RETURN_IF_ERROR(Mlp(w.shared, n, b.shared_out, /*accumulate=*/false));
    GroupedMatmulArgs args{.x = b.h, .gather_tokens = true, .k = k, .order = b.order, .offsets = b.offsets,
                           .experts = experts, .out_features = width, .in_features = hidden,
                           .tensor_cores = options_.unverified_kernels};
    auto grouped = [&](void* const* weights, float* y) {
      args.y = y;
      if (weights_->bf16) {
        args.weights = reinterpret_cast<const uint16_t* const*>(weights);
        return GroupedMatmulBf16(args, n, stream_);
      }
      args.weights_f32 = reinterpret_cast<const float* const*>(weights);
      return GroupedMatmulF32(args, n, stream_);
    };
    CUDA_OK(grouped(w.expert_gate, b.expert_gate), "experts' gate");
    CUDA_OK(grouped(w.expert_up, b.expert_up), "experts' up");
    CUDA_OK(SiluMul(b.expert_gate, b.expert_up, n * k * width, stream_), "experts' silu");
    args.x = b.expert_gate;
    args.gather_tokens = false;
    args.out_features = hidden;
    args.in_features = width;
    CUDA_OK(grouped(w.expert_down, b.expert_down), "experts' down");
    // out = Σ routed (ascending expert) + shared, then x += out: the CPU path's order. out may
    // alias shared: each element is read, then written, by one thread.
    CUDA_OK(MoeCombine(b.expert_down, b.choices, b.route_weights, b.slot_of, n, k, hidden,
                       w.has_shared ? b.shared_out : nullptr, b.shared_out, stream_),
            "combine");
    const float one = 1.0f;
    CUBLAS_OK(cublasSaxpy(cublas_, static_cast<int>(n * hidden), &one, b.shared_out, 1, buffers_.x, 1), "residual");
    return absl::OkStatus();
  }

  const ModelConfig config_;
  const CudaModelOptions options_;
  // What this model's KV pools know it by (DeviceKvBlocks::OwnedBy): expires with the model.
  const std::shared_ptr<const void> identity_ = std::make_shared<const int>(0);
  const cudaStream_t stream_;
  const cublasHandle_t cublas_;
  std::unique_ptr<DeviceWeights> weights_;
  const cpu::RotaryEmbedding rope_;
  const float softmax_scale_;
  float* inv_freq_ = nullptr;
  RopeParams rope_params_;
  int64_t max_in_ = 0;
  std::string device_;

  // One pass at a time: the buffers below are the pass's.
  std::mutex mutex_;
  void* workspace_ = nullptr;
  uint64_t workspace_bytes_ = 0;
  void* pinned_ = nullptr;
  uint64_t pinned_bytes_ = 0;
  PassBuffers buffers_{};
  int32_t* host_ints_ = nullptr;
  float* host_logits_ = nullptr;
  float* host_hidden_ = nullptr;
  PagedKvLayout kv_;
  KvRows where_;
  // This pass's prompt runs (first row, rows) that PrefillAttention takes; see Attend.
  std::vector<std::pair<int64_t, int64_t>> prompt_runs_;
  // Decode steps' graphs by (batch size, table capacity), with what each was captured over.
  struct GraphKey {
    float* const* block_bases;
    int block_shift;
    void* workspace;
    void* pinned;
    bool operator==(const GraphKey&) const = default;
  };
  struct CapturedStep {
    GraphKey key;
    cudaGraphExec_t exec;
  };
  std::map<std::pair<int64_t, int64_t>, CapturedStep> graphs_;
  void* cublas_workspace_ = nullptr;
};

absl::StatusOr<std::unique_ptr<Model>> Create(const ModelConfig& config, const CudaModelOptions& options,
                                              const std::function<absl::StatusOr<std::unique_ptr<DeviceWeights>>(cudaStream_t)>& make) {
  const DeviceReport report = ProbeDevices();
  if (report.gpus.empty()) return absl::FailedPreconditionError(absl::StrCat("no GPU: ", report.no_gpu_reason));
  if (config.is_mla() && (config.kv_lora_rank > 1024 || config.kv_lora_rank + config.qk_rope_head_dim > 1152)) {
    return absl::UnimplementedError("CUDA backend: kv_lora_rank over 1024 or kv_lora_rank + qk_rope_head_dim over 1152");
  }
  if (!config.is_mla() && config.head_dim > 1024) {
    return absl::UnimplementedError("CUDA backend: head_dim over 1024");
  }
  CUDA_OK(cudaSetDevice(0), "device 0");
  cudaStream_t stream = nullptr;
  CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream");
  cublasHandle_t cublas = nullptr;
  if (cublasCreate(&cublas) != CUBLAS_STATUS_SUCCESS) {
    cudaStreamDestroy(stream);
    return absl::InternalError("cuBLAS: no handle");
  }
  cublasSetStream(cublas, stream);
  auto model = std::make_unique<CudaModel>(config, options, stream, cublas);  // owns stream and handle from here
  absl::StatusOr<std::unique_ptr<DeviceWeights>> weights = make(stream);
  if (!weights.ok()) return weights.status();
  RETURN_IF_ERROR(model->Init(std::move(*weights)));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Model>> NewCudaModel(const ModelConfig& config, const model::Weights& host,
                                                    const CudaModelOptions& options) {
  if (host.quantization != cpu::Quantization::kNone) {
    return absl::UnimplementedError("the CUDA backend runs unquantised weights: leave quantize empty with device cuda");
  }
  return Create(config, options,
                [&](cudaStream_t stream) { return UploadWeights(config, host, options.bf16, stream); });
}

absl::StatusOr<std::unique_ptr<Model>> NewRandomCudaModel(const ModelConfig& config, uint64_t seed,
                                                          const CudaModelOptions& options) {
  CudaModelOptions random = options;
  random.bf16 = true;  // random weights are made in bf16
  return Create(config, random, [&](cudaStream_t stream) { return RandomDeviceWeights(config, seed, stream); });
}

}  // namespace engine::cuda
