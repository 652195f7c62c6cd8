// The forward pass of the supported decoder-only MoE transformers, on the CPU, written to be
// read next to the papers: DeepSeek-V2 §2.1 (multi-head latent attention), DeepSeek-V3 §2.1.2
// (auxiliary-loss-free routing) and §2.2 (multi-token prediction), Qwen3 (GQA with q/k norm).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "cpu/accumulate.h"
#include "cpu/attention.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "cpu/quantized.h"
#include "cpu/rope.h"
#include "engine/device.h"
#include "engine/gguf.h"
#include "engine/model.h"
#include "engine/safetensors.h"
#include "gguf_checkpoint.h"
#include "model/kv_cache.h"
#include "model/router.h"
#include "model/token_check.h"
#include "model/scratch.h"
#include "model/weights.h"
#ifdef AGENTD_WITH_CUDA
#include "cuda/cuda_model.h"
#endif

namespace engine::model {
namespace {

using cpu::MatmulTransposed;
using cpu::RmsNorm;

// Decode attention reads the paged cache through one pointer per position (cpu::SharedRows),
// carved out of the pass's float scratch (64-byte aligned): this many floats per pointer.
constexpr int64_t kFloatsPerPointer = sizeof(const float*) / sizeof(float);
static_assert(kFloatsPerPointer * sizeof(float) == sizeof(const float*));
const float** RowPointers(float* storage) { return reinterpret_cast<const float**>(storage); }

class Transformer final : public Model {
 public:
  Transformer(ModelConfig config, std::unique_ptr<TensorStore> store, std::unique_ptr<Weights> weights,
              std::string device = "cpu")
      : device_(std::move(device)),
        config_(std::move(config)),
        store_(std::move(store)),
        weights_(std::move(weights)),
        rope_(config_),
        softmax_scale_(cpu::AttentionSoftmaxScale(config_)) {}

  const ModelConfig& config() const override { return config_; }

  std::shared_ptr<KvBlockPool> NewBlockPool(const KvBlockPoolOptions& options) const override {
    return std::make_shared<KvBlockPool>(RowShape(config_.num_hidden_layers, options.store_hidden), options);
  }
  std::unique_ptr<KvCache> NewCache(std::shared_ptr<KvBlockPool> pool) const override {
    return std::make_unique<PagedKvCache>(std::move(pool));
  }
  std::unique_ptr<KvCache> NewMtpCache() const override {
    return std::make_unique<PagedKvCache>(std::make_shared<KvBlockPool>(RowShape(1, false), KvBlockPoolOptions{}));
  }
  bool has_mtp() const override { return !weights_->mtp.empty(); }

  absl::Status ForwardBatch(std::span<const BatchEntry> batch) override {
    if (batch.empty()) return absl::InvalidArgumentError("no sequences to run");
    const int64_t hidden = config_.hidden_size;
    std::vector<Segment> segments;
    int64_t rows = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto* cache = dynamic_cast<PagedKvCache*>(batch[i].cache);
      // A pool whose rows live elsewhere (a GPU model's) has no host rows to write.
      if (cache == nullptr || cache->num_layers() != config_.num_hidden_layers ||
          cache->pool().shape().a_width != RowShape(1, false).a_width || cache->pool().storage() != nullptr) {
        return absl::InvalidArgumentError("KV cache does not belong to this model");
      }
      for (const Segment& other : segments) {
        if (other.cache == cache) return absl::InvalidArgumentError("one KV cache twice in a batch");
      }
      absl::Status valid = CheckTokens(config_, batch[i].tokens, cache->length());
      if (!valid.ok()) return valid;
      const int64_t n = static_cast<int64_t>(batch[i].tokens.size());
      segments.push_back({rows, n, cache->length(), cache});
      rows += n;
    }
    // Room in every cache first, so a full pool fails the pass before anything is written.
    for (size_t i = 0; i < segments.size(); ++i) {
      absl::Status reserved = segments[i].cache->Reserve(segments[i].n);
      if (!reserved.ok()) {
        for (size_t j = 0; j < i; ++j) segments[j].cache->Truncate(segments[j].start);
        return reserved;
      }
    }

    ScratchPool::Lease scratch = scratch_pool_.Acquire();
    // x: the residual stream, one row per new token of every sequence.
    float* x = scratch->Floats(rows * hidden);
    for (size_t i = 0; i < batch.size(); ++i) {
      for (int64_t t = 0; t < segments[i].n; ++t) {
        weights_->embed.RowToF32(batch[i].tokens[t], &x[(segments[i].row + t) * hidden]);
      }
    }
    for (int l = 0; l < config_.num_hidden_layers; ++l) {
      // A layer's buffers are dead once it has added to x: the next layer reuses them.
      const Scratch::Mark mark = scratch->GetMark();
      DecoderLayer(weights_->layers[l], l, x, rows, segments, *scratch);
      scratch->Rewind(mark);
    }
    for (Segment& s : segments) s.cache->CommitAppend(s.n);

    RmsNorm(x, rows, hidden, weights_->final_norm.data(), Eps(), x);
    Heads(weights_->lm_head, x, batch, segments, *scratch);
    for (size_t i = 0; i < batch.size(); ++i) {
      const Segment& s = segments[i];
      if (s.cache->pool().stores_hidden()) {
        for (int64_t t = 0; t < s.n; ++t) std::copy_n(&x[(s.row + t) * hidden], hidden, s.cache->hidden(s.start + t));
      }
      ForwardResult* result = batch[i].result;
      if (batch[i].options.return_hidden) {
        result->hidden.assign(x + s.row * hidden, x + (s.row + s.n) * hidden);
      } else {
        result->hidden.clear();
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<float>> CachedHidden(KvCache* kv, int64_t from, int64_t to) const override {
    auto* cache = dynamic_cast<PagedKvCache*>(kv);
    if (cache == nullptr || !cache->pool().stores_hidden()) {
      return absl::FailedPreconditionError("this KV cache does not keep hidden states");
    }
    if (from < 0 || to > cache->length() || from > to) {
      return absl::OutOfRangeError(absl::StrCat("hidden states [", from, ", ", to, ") of a cache of ",
                                                cache->length(), " positions"));
    }
    const int64_t hidden = config_.hidden_size;
    std::vector<float> out((to - from) * hidden);
    for (int64_t p = from; p < to; ++p) std::copy_n(cache->hidden(p), hidden, &out[(p - from) * hidden]);
    return out;
  }

  using Model::ForwardMtp;
  absl::Status ForwardMtp(std::span<const float> hidden_states, std::span<const int32_t> next_tokens,
                          KvCache* kv, const ForwardOptions& options, ForwardResult* result) override {
    if (!has_mtp()) return absl::FailedPreconditionError("this checkpoint has no MTP layer");
    auto* cache = dynamic_cast<PagedKvCache*>(kv);
    if (cache == nullptr || cache->num_layers() != 1 || cache->pool().storage() != nullptr) {
      return absl::InvalidArgumentError("KV cache is not an MTP cache of this model");
    }
    const int64_t hidden = config_.hidden_size;
    const int64_t n = static_cast<int64_t>(next_tokens.size());
    if (static_cast<int64_t>(hidden_states.size()) != n * hidden) {
      return absl::InvalidArgumentError(absl::StrCat("MTP: ", hidden_states.size(), " hidden values for ",
                                                     n, " tokens of width ", hidden));
    }
    absl::Status valid = CheckTokens(config_, next_tokens, cache->length());
    if (!valid.ok()) return valid;
    const MtpWeights& mtp = weights_->mtp[0];
    const int64_t start = cache->length();

    // x = eh_proj([enorm(embed(next token)); hnorm(h)]), with the embedding zeroed at the
    // sequence's first MTP position.
    ScratchPool::Lease scratch = scratch_pool_.Acquire();
    float* joined = scratch->Zeros(n * 2 * hidden);
    float* row = scratch->Floats(hidden);
    for (int64_t i = 0; i < n; ++i) {
      float* e = &joined[i * 2 * hidden];
      if (start + i > 0) {
        mtp.embed.RowToF32(next_tokens[i], row);
        RmsNorm(row, 1, hidden, mtp.enorm.data(), Eps(), e);
      }
      RmsNorm(&hidden_states[i * hidden], 1, hidden, mtp.hnorm.data(), Eps(), e + hidden);
    }
    float* x = scratch->Floats(n * hidden);
    MatmulTransposed(joined, n, mtp.eh_proj, x);

    absl::Status reserved = cache->Reserve(n);
    if (!reserved.ok()) return reserved;
    const Segment segment{0, n, start, cache};
    DecoderLayer(mtp.block, 0, x, n, std::span(&segment, 1), *scratch);
    cache->CommitAppend(n);

    result->hidden.assign(x, x + n * hidden);
    RmsNorm(x, n, hidden, mtp.head_norm.data(), Eps(), x);
    Head(mtp.head, x, n, options.all_logits, result);
    return absl::OkStatus();
  }

  uint64_t parameter_count() const override { return CountParameters(/*active_only=*/false, false); }
  uint64_t active_parameter_count() const override { return CountParameters(true, false); }
  uint64_t active_weight_bytes() const override { return CountParameters(true, true); }
  std::string quantized_copy_note() const override { return weights_->copy_note; }
  std::string device_description() const override { return device_; }
  std::string weight_dtype() const override {
    if (weights_->quantization == Quantization::kQ4 && weights_->lm_head.quantization == Quantization::kQ4) return "q4-pure";
    if (weights_->quantization != Quantization::kNone) return std::string(cpu::QuantizationName(weights_->quantization));
    switch (weights_->lm_head.dtype) {
      case DType::kF32: return "f32";
      case DType::kBF16: return "bf16";
      case DType::kF16: return "f16";
      case DType::kF8E4M3: return "fp8_e4m3";
    }
    return "?";
  }

 private:
  float Eps() const { return static_cast<float>(config_.rms_norm_eps); }

  // A run of consecutive rows of the batch that belong to one sequence: rows [row, row + n)
  // are its positions [start, start + n).
  struct Segment {
    int64_t row, n, start;
    PagedKvCache* cache;
  };

  KvRowShape RowShape(int layers, bool store_hidden) const { return CacheRowShape(config_, layers, store_hidden); }

  // Each entry's logits: one product over the rows the entries want (all of theirs, or their
  // last), so the head is read once for the whole batch.
  void Heads(const Matrix& head, const float* x, std::span<const BatchEntry> batch,
             std::span<const Segment> segments, Scratch& scratch) const {
    const int64_t hidden = config_.hidden_size, vocab = config_.vocab_size;
    std::vector<int64_t> picked;
    for (size_t i = 0; i < batch.size(); ++i) {
      const Segment& s = segments[i];
      for (int64_t t = batch[i].options.all_logits ? 0 : s.n - 1; t < s.n; ++t) picked.push_back(s.row + t);
    }
    float* gathered = scratch.Floats(picked.size() * hidden);
    float* logits = scratch.Floats(picked.size() * vocab);
    for (size_t r = 0; r < picked.size(); ++r) std::copy_n(x + picked[r] * hidden, hidden, &gathered[r * hidden]);
    MatmulTransposed(gathered, static_cast<int64_t>(picked.size()), head, logits);
    size_t r = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      const int64_t count = batch[i].options.all_logits ? segments[i].n : 1;
      ForwardResult* result = batch[i].result;
      result->logit_rows = count;
      result->logits.assign(logits + r * vocab, logits + (r + count) * vocab);
      r += count;
    }
  }

  // logits = head · x for the last row, or every row.
  void Head(const Matrix& head, const float* x, int64_t n, bool all_rows, ForwardResult* result) const {
    const int64_t hidden = config_.hidden_size;
    const int64_t rows = all_rows ? n : 1;
    const float* first = all_rows ? x : x + (n - 1) * hidden;
    result->logit_rows = rows;
    result->logits.resize(rows * config_.vocab_size);
    MatmulTransposed(first, rows, head, result->logits.data());
  }

  // x ← x + Attention(RMSNorm(x)); x ← x + FFN(RMSNorm(x)), for the rows of every segment.
  void DecoderLayer(const LayerWeights& w, int layer, float* x, int64_t n, std::span<const Segment> segments,
                    Scratch& scratch) const {
    const int64_t hidden = config_.hidden_size;
    float* h = scratch.Floats(n * hidden);
    float* out = scratch.Floats(n * hidden);

    RmsNorm(x, n, hidden, w.input_norm.data(), Eps(), h);
    if (config_.is_mla()) {
      LatentAttention(w.mla, layer, h, n, segments, out, scratch);
    } else {
      GroupedQueryAttention(w.gqa, layer, h, n, segments, out, scratch);
    }
    for (int64_t i = 0; i < n * hidden; ++i) x[i] += out[i];

    RmsNorm(x, n, hidden, w.post_attention_norm.data(), Eps(), h);
    if (w.is_moe) {
      MixtureOfExperts(w.moe, h, n, out, scratch);
    } else {
      std::fill_n(out, n * hidden, 0.0f);
      Mlp(w.mlp, h, n, 1.0f, nullptr, out, scratch);
    }
    for (int64_t i = 0; i < n * hidden; ++i) x[i] += out[i];
  }

  // Multi-head latent attention with the up-projections absorbed (DeepSeek-V2 §2.1.2): keys and
  // values are never expanded per head. For head h,
  //   score(t, s) = (W_UKᵀ q_nope)·c_s + q_rope·k_rope_s,   out_h = W_UV · Σ_s p(t, s) c_s
  // where c_s is the cached latent and k_rope_s the cached rotary key of position s.
  void LatentAttention(const MlaWeights& w, int layer, const float* h, int64_t n, std::span<const Segment> segments,
                       float* out, Scratch& scratch) const {
    const ModelConfig& c = config_;
    const int64_t heads = c.num_attention_heads;
    const int64_t nope = c.qk_nope_head_dim, rope = c.qk_rope_head_dim, vdim = c.v_head_dim;
    const int64_t qk = nope + rope, rank = c.kv_lora_rank;

    // Queries: q = W_QB · RMSNorm(W_QA · h) with q-LoRA, else q = W_Q · h.
    // Keys/values: the shared latent c = RMSNorm(W_DKV · h) and the rotary key k_rope, cached.
    float* q = scratch.Floats(n * heads * qk);
    float* kv_a = scratch.Floats(n * (rank + rope));
    if (!w.q_a.empty()) {
      float* q_compressed = scratch.Floats(n * c.q_lora_rank);
      cpu::MatmulBatch({{h, n, &w.q_a, q_compressed}, {h, n, &w.kv_a, kv_a}});
      RmsNorm(q_compressed, n, c.q_lora_rank, w.q_a_norm.data(), Eps(), q_compressed);
      MatmulTransposed(q_compressed, n, w.q_b, q);
    } else {
      cpu::MatmulBatch({{h, n, &w.q, q}, {h, n, &w.kv_a, kv_a}});
    }
    for (const Segment& seg : segments) {
      const PagedKvCache::LayerView kv = seg.cache->layer(layer);
      for (int64_t t = 0; t < seg.n; ++t) {
        const int64_t row = seg.row + t, pos = seg.start + t;
        float* latent = kv.a(pos);
        float* k_rope = kv.b(pos);
        RmsNorm(&kv_a[row * (rank + rope)], 1, rank, w.kv_a_norm.data(), Eps(), latent);
        std::copy_n(&kv_a[row * (rank + rope) + rank], rope, k_rope);
        rope_.Apply(k_rope, 1, rope, pos);
        rope_.Apply(&q[row * heads * qk + nope], heads, qk, pos);
      }
    }

    // Every head scores the same cached latents and rotary keys: MLA in this form is multi-query
    // attention with keys [c_s ; k_rope_s] and values c_s, so each sequence's panel is gathered
    // once for all its heads, and cpu::CausalAttention computes every score and weighted sum
    // the same way whether a query decodes alone or sits in a prompt. Each thread's buffers
    // come from the pass's scratch.
    float* attended = scratch.Floats(n * heads * vdim);
    const int threads = std::max(1, omp_get_max_threads());
    for (const Segment& seg : segments) {
      // The panel and buffers are the segment's alone: the next segment reuses the memory.
      const Scratch::Mark segment_mark = scratch.GetMark();
      const PagedKvCache::LayerView kv = seg.cache->layer(layer);
      const int64_t length = seg.start + seg.n;
      if (seg.n == 1 && cpu::SharedRowsSuit({.value_dim = rank})) {
        LatentAttentionDecode(w, kv, seg.row, length, q, attended, scratch);
        scratch.Rewind(segment_mark);
        continue;
      }
      cpu::KeyValuePanel panel;
      cpu::PreparePanel(length, rank + rope, rank, scratch.Floats(cpu::PanelFloats(length, rank + rope, rank)), &panel);
      // Per thread: q_nope [n][nope], q_latent [n][rank], queries [n][rank + rope],
      // context [n][rank], head_out [n][vdim], scores.
      const int64_t per_thread = seg.n * (nope + rank + (rank + rope) + rank + vdim) + cpu::AttentionScoreFloats(length);
      float* buffers = scratch.Floats(threads * per_thread);
      constexpr int64_t kFillRange = 128;  // positions per thread's share of the gather
#pragma omp parallel
      {
#pragma omp for schedule(static)
        for (int64_t begin = 0; begin < length; begin += kFillRange) {
          cpu::FillPanel(
              begin, std::min(length, begin + kFillRange), [&](int64_t s) { return kv.a(s); }, rope,
              [&](int64_t s) { return kv.b(s); }, [&](int64_t s) { return kv.a(s); }, panel);
        }
#pragma omp for schedule(dynamic)
        for (int64_t hd = 0; hd < heads; ++hd) {
          float* q_nope = buffers + omp_get_thread_num() * per_thread;
          float* q_latent = q_nope + seg.n * nope;
          float* queries = q_latent + seg.n * rank;
          float* context = queries + seg.n * (rank + rope);
          float* head_out = context + seg.n * rank;
          float* scores = head_out + seg.n * vdim;
          const Matrix w_uk = w.kv_b.Rows(hd * (nope + vdim), nope);
          const Matrix w_uv = w.kv_b.Rows(hd * (nope + vdim) + nope, vdim);
          // The query against the panel: [W_UKᵀ q_nope ; q_rope].
          for (int64_t t = 0; t < seg.n; ++t) std::copy_n(&q[((seg.row + t) * heads + hd) * qk], nope, &q_nope[t * nope]);
          std::fill_n(q_latent, seg.n * rank, 0.0f);
          cpu::AccumulateRows(q_nope, seg.n, w_uk, q_latent);
          for (int64_t t = 0; t < seg.n; ++t) {
            std::copy_n(&q_latent[t * rank], rank, &queries[t * (rank + rope)]);
            std::copy_n(&q[((seg.row + t) * heads + hd) * qk + nope], rope, &queries[t * (rank + rope) + rank]);
          }
          cpu::CausalAttention(queries, seg.n, seg.start + 1, softmax_scale_, panel, context, scores);
          // out_h[t] = W_UV · context[t]
          MatmulTransposed(context, seg.n, w_uv, head_out);
          for (int64_t t = 0; t < seg.n; ++t) {
            std::copy_n(&head_out[t * vdim], vdim, &attended[((seg.row + t) * heads + hd) * vdim]);
          }
        }
      }
      scratch.Rewind(segment_mark);
    }
    MatmulTransposed(attended, n, w.o, out);
  }

  // One decoded position of a sequence (the query in row `row` of q, seeing positions
  // [0, length)): every head scores the same cached latents and rotary keys, so they are read
  // where they lie in the paged cache, once for all the heads, instead of gathered into a panel
  // that each head reads again (cpu::SharedRows) — the same bits as the panel's path. Positions
  // are split among the threads for the scores, heads for everything else.
  void LatentAttentionDecode(const MlaWeights& w, const PagedKvCache::LayerView& kv, int64_t row, int64_t length,
                             const float* q, float* attended, Scratch& scratch) const {
    const ModelConfig& c = config_;
    const int64_t heads = c.num_attention_heads;
    const int64_t nope = c.qk_nope_head_dim, rope = c.qk_rope_head_dim, vdim = c.v_head_dim;
    const int64_t qk = nope + rope, rank = c.kv_lora_rank, key_dim = rank + rope;
    const float** latent_rows = RowPointers(scratch.Floats(kFloatsPerPointer * length));
    const float** rope_rows = RowPointers(scratch.Floats(kFloatsPerPointer * length));
    for (int64_t s = 0; s < length; ++s) {
      latent_rows[s] = kv.a(s);
      rope_rows[s] = kv.b(s);
    }
    const cpu::SharedRows rows{.length = length, .key_dim = rank, .tail_dim = rope, .value_dim = rank,
                               .keys = latent_rows, .tails = rope_rows, .values = latent_rows};
    float* queries = scratch.Floats(heads * key_dim);
    float* queries_t = scratch.Floats(cpu::TransposedQueryFloats(heads, key_dim));
    const int64_t stride = cpu::PanelStride(length);
    float* scores = scratch.Floats(heads * stride);
    float* context = scratch.Floats(heads * rank);
    constexpr int64_t kScoreRange = 64;  // positions per share: whole cache lines of each head's scores
#pragma omp parallel
    {
      // Each head's query against the rows: [W_UKᵀ q_nope ; q_rope].
#pragma omp for schedule(static)
      for (int64_t hd = 0; hd < heads; ++hd) {
        const float* q_head = &q[(row * heads + hd) * qk];
        float* query = queries + hd * key_dim;
        std::fill_n(query, rank, 0.0f);
        cpu::AccumulateRows(q_head, 1, w.kv_b.Rows(hd * (nope + vdim), nope), query);
        std::copy_n(q_head + nope, rope, query + rank);
      }
#pragma omp single
      cpu::TransposeQueries(queries, heads, key_dim, queries_t);
#pragma omp for schedule(static)
      for (int64_t begin = 0; begin < length; begin += kScoreRange) {
        cpu::SharedKeyScores(queries_t, heads, rows, begin, std::min(length, begin + kScoreRange), softmax_scale_, scores,
                             stride);
      }
#pragma omp for schedule(static)
      for (int64_t hd = 0; hd < heads; ++hd) cpu::AttentionProbabilities(scores + hd * stride, length);
      // Four heads share each latent row's load; out_h = W_UV · context_h.
#pragma omp for schedule(dynamic)
      for (int64_t first = 0; first < heads; first += 4) {
        const int64_t last = std::min(heads, first + 4);
        cpu::SharedValueSums(scores, stride, first, last, rows, context);
        for (int64_t hd = first; hd < last; ++hd) {
          MatmulTransposed(context + hd * rank, 1, w.kv_b.Rows(hd * (nope + vdim) + nope, vdim),
                           &attended[(row * heads + hd) * vdim]);
        }
      }
    }
  }

  // Grouped-query attention with RMSNorm on each query and key head (Qwen3).
  void GroupedQueryAttention(const GqaWeights& w, int layer, const float* h, int64_t n,
                             std::span<const Segment> segments, float* out, Scratch& scratch) const {
    const ModelConfig& c = config_;
    const int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads, d = c.head_dim;
    const int64_t group = heads / kv_heads;
    float* q = scratch.Floats(n * heads * d);
    float* keys = scratch.Floats(n * kv_heads * d);
    float* values = scratch.Floats(n * kv_heads * d);
    cpu::MatmulBatch({{h, n, &w.q, q}, {h, n, &w.k, keys}, {h, n, &w.v, values}});
    RmsNorm(q, n * heads, d, w.q_norm.data(), Eps(), q);
    RmsNorm(keys, n * kv_heads, d, w.k_norm.data(), Eps(), keys);
    for (const Segment& seg : segments) {
      const PagedKvCache::LayerView kv = seg.cache->layer(layer);
      for (int64_t t = 0; t < seg.n; ++t) {
        const int64_t row = seg.row + t, pos = seg.start + t;
        rope_.Apply(&q[row * heads * d], heads, d, pos);
        rope_.Apply(&keys[row * kv_heads * d], kv_heads, d, pos);
        std::copy_n(&keys[row * kv_heads * d], kv_heads * d, kv.a(pos));
        std::copy_n(&values[row * kv_heads * d], kv_heads * d, kv.b(pos));
      }
    }

    // softmax(q·Kᵀ / √d)·V per query head, causal: one task per (sequence, KV head), whose keys
    // and values are gathered once into a panel for the `group` query heads that share them.
    // Each thread's panel and buffers come from the pass's scratch, sized for the longest
    // sequence.
    float* attended = scratch.Floats(n * heads * d);
    const int threads = std::max(1, omp_get_max_threads());
    int64_t longest = 0, most_rows = 0;
    for (const Segment& seg : segments) {
      longest = std::max(longest, seg.start + seg.n);
      most_rows = std::max(most_rows, seg.n);
    }
    const int64_t per_thread = cpu::PanelFloats(longest, d, d) + 2 * most_rows * d + cpu::AttentionScoreFloats(longest);
    float* buffers = scratch.Floats(threads * per_thread);
    // A decoded position (a segment of one row) reads its KV head's rows in place, once for the
    // `group` query heads that share them (cpu::SharedRows), with the panel's bits: per thread,
    // the row pointers, the transposed queries and the scores.
    const bool shared_rows = cpu::SharedRowsSuit({.value_dim = d});
    const int64_t shared_per_thread =
        2 * kFloatsPerPointer * longest + cpu::TransposedQueryFloats(group, d) + group * cpu::PanelStride(longest);
    float* shared_buffers = shared_rows ? scratch.Floats(threads * shared_per_thread) : nullptr;
    const int64_t tasks = static_cast<int64_t>(segments.size()) * kv_heads;
#pragma omp parallel for schedule(dynamic)
    for (int64_t task = 0; task < tasks; ++task) {
      const Segment& seg = segments[task / kv_heads];
      const int64_t g = task % kv_heads;
      const PagedKvCache::LayerView kv = seg.cache->layer(layer);
      if (shared_rows && seg.n == 1) {
        const int64_t length = seg.start + 1, stride = cpu::PanelStride(length);
        float* mine = shared_buffers + omp_get_thread_num() * shared_per_thread;
        const float** key_rows = RowPointers(mine);
        const float** value_rows = RowPointers(mine + kFloatsPerPointer * longest);
        float* queries_t = mine + 2 * kFloatsPerPointer * longest;
        float* scores = queries_t + cpu::TransposedQueryFloats(group, d);
        for (int64_t s = 0; s < length; ++s) {
          key_rows[s] = kv.a(s) + g * d;
          value_rows[s] = kv.b(s) + g * d;
        }
        const cpu::SharedRows rows{.length = length, .key_dim = d, .value_dim = d, .keys = key_rows, .values = value_rows};
        // The group's query heads are consecutive: rows g·group … of the row's queries.
        cpu::TransposeQueries(&q[(seg.row * heads + g * group) * d], group, d, queries_t);
        cpu::SharedKeyScores(queries_t, group, rows, 0, length, softmax_scale_, scores, stride);
        for (int64_t i = 0; i < group; ++i) cpu::AttentionProbabilities(scores + i * stride, length);
        cpu::SharedValueSums(scores, stride, 0, group, rows, &attended[(seg.row * heads + g * group) * d]);
        continue;
      }
      float* panel_storage = buffers + omp_get_thread_num() * per_thread;
      cpu::KeyValuePanel panel;
      cpu::GatherPanel(
          seg.start + seg.n, d, [&](int64_t s) { return kv.a(s) + g * d; }, [&](int64_t s) { return kv.b(s) + g * d; },
          panel_storage, &panel);
      float* queries = panel_storage + cpu::PanelFloats(longest, d, d);
      float* outputs = queries + most_rows * d;
      float* scores = outputs + most_rows * d;
      for (int64_t hd = g * group; hd < (g + 1) * group; ++hd) {
        for (int64_t t = 0; t < seg.n; ++t) std::copy_n(&q[((seg.row + t) * heads + hd) * d], d, &queries[t * d]);
        cpu::CausalAttention(queries, seg.n, seg.start + 1, softmax_scale_, panel, outputs, scores);
        for (int64_t t = 0; t < seg.n; ++t) std::copy_n(&outputs[t * d], d, &attended[((seg.row + t) * heads + hd) * d]);
      }
    }
    MatmulTransposed(attended, n, w.o, out);
  }

  // out[rows[i]] += scale[i] · down(silu(gate · x_i) ⊙ (up · x_i)) for the n rows of x.
  // With rows == nullptr, row i of x adds into row i of out with weight `uniform_scale`.
  void Mlp(const MlpWeights& w, const float* x, int64_t n, float uniform_scale,
           const std::vector<std::pair<int64_t, float>>* targets, float* out, Scratch& scratch) const {
    const int64_t hidden = config_.hidden_size, width = w.gate.rows;
    float* gate = scratch.Floats(n * width);
    float* up = scratch.Floats(n * width);
    float* down = scratch.Floats(n * hidden);
    cpu::MatmulBatch({{x, n, &w.gate, gate}, {x, n, &w.up, up}});
    cpu::SiluMul(gate, up, n * width);
    MatmulTransposed(gate, n, w.down, down);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = targets ? (*targets)[i].first : i;
      const float scale = targets ? (*targets)[i].second : uniform_scale;
      float* o = out + row * hidden;
      const float* d = &down[i * hidden];
      for (int64_t j = 0; j < hidden; ++j) o[j] += scale * d[j];
    }
  }

  // Routed experts (each token's top-k, weighted by the router) plus the shared experts.
  // Tokens are grouped by expert so each expert's weights are read once for all its tokens,
  // and all experts' projections run in one parallel pass per stage (gate/up, then down).
  void MixtureOfExperts(const MoeWeights& w, const float* x, int64_t n, float* out, Scratch& scratch) const {
    const int64_t hidden = config_.hidden_size, experts = config_.num_routed_experts;
    float* logits = scratch.Floats(n * experts);
    MatmulTransposed(x, n, w.router, logits);

    std::vector<std::vector<std::pair<int64_t, float>>> assigned(experts);
    RouterChoice choice;
    for (int64_t t = 0; t < n; ++t) {
      Route(config_, &logits[t * experts], w.correction_bias, &choice);
      for (size_t k = 0; k < choice.experts.size(); ++k) {
        assigned[choice.experts[k]].emplace_back(t, choice.weights[k]);
      }
    }

    // One group per active expert, plus the shared experts over every token.
    struct Group {
      const MlpWeights* mlp;
      const std::vector<std::pair<int64_t, float>>* tokens;  // nullptr: all n tokens, weight 1
      int64_t rows;
      float *input = nullptr, *gate = nullptr, *up = nullptr, *down = nullptr;
    };
    std::vector<Group> groups;
    for (int64_t e = 0; e < experts; ++e) {
      if (!assigned[e].empty()) groups.push_back({&w.experts[e], &assigned[e], static_cast<int64_t>(assigned[e].size())});
    }
    if (w.has_shared) groups.push_back({&w.shared, nullptr, n});

    std::vector<cpu::MatmulJob> jobs;
    for (Group& g : groups) {
      const int64_t width = g.mlp->gate.rows;
      if (g.tokens != nullptr) g.input = scratch.Floats(g.rows * hidden);
      g.gate = scratch.Floats(g.rows * width);
      g.up = scratch.Floats(g.rows * width);
      g.down = scratch.Floats(g.rows * hidden);
      jobs.push_back({g.tokens != nullptr ? g.input : x, g.rows, &g.mlp->gate, g.gate});
      jobs.push_back({g.tokens != nullptr ? g.input : x, g.rows, &g.mlp->up, g.up});
    }
    // Gathering a prefill's rows by expert is a copy of megabytes: on every core.
    const int64_t group_count = static_cast<int64_t>(groups.size());
#pragma omp parallel for schedule(dynamic) if (n >= 64)
    for (int64_t i = 0; i < group_count; ++i) {
      const Group& g = groups[i];
      if (g.tokens == nullptr) continue;
      for (int64_t r = 0; r < g.rows; ++r) std::copy_n(x + (*g.tokens)[r].first * hidden, hidden, &g.input[r * hidden]);
    }
    cpu::MatmulBatch(jobs);
    jobs.clear();
#pragma omp parallel for schedule(dynamic) if (n >= 64)
    for (int64_t i = 0; i < group_count; ++i) cpu::SiluMul(groups[i].gate, groups[i].up, groups[i].rows * groups[i].mlp->gate.rows);
    for (Group& g : groups) jobs.push_back({g.gate, g.rows, &g.mlp->down, g.down});
    cpu::MatmulBatch(jobs);

    std::fill(out, out + n * hidden, 0.0f);
    for (const Group& g : groups) {
      for (int64_t i = 0; i < g.rows; ++i) {
        const int64_t row = g.tokens != nullptr ? (*g.tokens)[i].first : i;
        const float scale = g.tokens != nullptr ? (*g.tokens)[i].second : 1.0f;
        cpu::Axpy(scale, &g.down[i * hidden], out + row * hidden, hidden);
      }
    }
  }

  uint64_t CountParameters(bool active_only, bool bytes) const {
    uint64_t total = 0;
    auto add = [&](const Matrix& m) {
      if (!m.empty()) total += bytes ? m.bytes() : static_cast<uint64_t>(m.rows * m.cols);
    };
    auto add_vector = [&](const std::vector<float>& v) { total += bytes ? v.size() * 4 : v.size(); };
    auto add_mlp = [&](const MlpWeights& m) {
      add(m.gate);
      add(m.up);
      add(m.down);
    };
    auto add_layer = [&](const LayerWeights& l) {
      add_vector(l.input_norm);
      add_vector(l.post_attention_norm);
      for (const Matrix* m : {&l.mla.q_a, &l.mla.q_b, &l.mla.q, &l.mla.kv_a, &l.mla.kv_b, &l.mla.o,
                              &l.gqa.q, &l.gqa.k, &l.gqa.v, &l.gqa.o}) {
        add(*m);
      }
      for (const auto* v : {&l.mla.q_a_norm, &l.mla.kv_a_norm, &l.gqa.q_norm, &l.gqa.k_norm}) add_vector(*v);
      if (!l.is_moe) {
        add_mlp(l.mlp);
        return;
      }
      add(l.moe.router);
      add_vector(l.moe.correction_bias);
      if (l.moe.has_shared) add_mlp(l.moe.shared);
      const size_t routed = active_only ? static_cast<size_t>(config_.num_experts_per_tok) : l.moe.experts.size();
      for (size_t e = 0; e < routed && e < l.moe.experts.size(); ++e) add_mlp(l.moe.experts[e]);
    };
    // A token reads one embedding row, not the table.
    if (!active_only) add(weights_->embed);
    for (const LayerWeights& l : weights_->layers) add_layer(l);
    add_vector(weights_->final_norm);
    if (weights_->lm_head.data != weights_->embed.data || active_only) add(weights_->lm_head);
    if (!active_only) {
      for (const MtpWeights& m : weights_->mtp) {
        add_vector(m.enorm);
        add_vector(m.hnorm);
        add(m.eh_proj);
        add_layer(m.block);
        add_vector(m.head_norm);
        if (m.embed.data != weights_->embed.data) add(m.embed);
        if (m.head.data != weights_->lm_head.data) add(m.head);
      }
    }
    return total;
  }

  std::string device_;
  ModelConfig config_;
  std::unique_ptr<TensorStore> store_;  // owns the memory the weights point into
  std::unique_ptr<Weights> weights_;
  cpu::RotaryEmbedding rope_;
  float softmax_scale_;
  // Activations of the passes in flight, kept between passes (model/scratch.h).
  mutable ScratchPool scratch_pool_;
};

}  // namespace
}  // namespace engine::model

namespace engine {

bool IsKnownQuantization(std::string_view name) { return cpu::ParseQuantizationScheme(name).has_value(); }

bool IsKnownDevice(std::string_view name) { return name == "cpu" || name == "cuda" || name == "auto"; }

namespace {

// Where a model loaded with `options` runs: the GPU ("cuda") or the CPU, with the CPU's
// description (saying why not the GPU when "auto" found none).
struct Placement {
  bool gpu = false;
  std::string cpu_description = "cpu";
};
absl::StatusOr<Placement> Place(const ModelOptions& options) {
  if (!IsKnownDevice(options.device)) {
    return absl::InvalidArgumentError(absl::StrCat("device: \"", options.device, "\" is not one of cpu, cuda, auto"));
  }
  if (options.device_dtype != "" && options.device_dtype != "bf16" && options.device_dtype != "f32") {
    return absl::InvalidArgumentError(absl::StrCat("device_dtype: \"", options.device_dtype, "\" is not one of bf16, f32"));
  }
  if (options.device == "cpu") return Placement{};
  const DeviceReport report = ProbeDevices();
  if (report.gpus.empty()) {
    if (options.device == "cuda") return absl::FailedPreconditionError(absl::StrCat("device cuda: no GPU: ", report.no_gpu_reason));
    return Placement{.cpu_description = absl::StrCat("cpu (auto: no GPU: ", report.no_gpu_reason, ")")};
  }
  // The kernels are built for Hopper (sm_90a) with compute_90 PTX, which newer GPUs compile.
  if (report.gpus[0].compute_capability_major < 9) {
    const std::string why = absl::StrCat("GPU 0 (", report.gpus[0].name, ") is sm_", report.gpus[0].compute_capability_major,
                                         report.gpus[0].compute_capability_minor,
                                         "; the CUDA backend is built for sm_90 and newer");
    if (options.device == "cuda") return absl::FailedPreconditionError(absl::StrCat("device cuda: ", why));
    return Placement{.cpu_description = absl::StrCat("cpu (auto: ", why, ")")};
  }
  if (!options.quantize.empty()) {
    if (options.device == "cuda") {
      return absl::InvalidArgumentError("quantize: the CUDA backend runs unquantised weights; leave it empty with device cuda");
    }
    return Placement{.cpu_description = "cpu (auto: quantized weights run on the CPU)"};
  }
  return Placement{.gpu = true};
}

// The model on the GPU, from the weights the CPU loader checked (freed once uploaded).
absl::StatusOr<std::unique_ptr<Model>> OnGpu(const ModelConfig& config, const model::Weights& weights,
                                             const ModelOptions& options) {
#ifdef AGENTD_WITH_CUDA
  const bool f32_checkpoint = weights.lm_head.dtype == DType::kF32;
  const bool bf16 = options.device_dtype == "bf16" || (options.device_dtype.empty() && !f32_checkpoint);
  return cuda::NewCudaModel(config, weights, {.bf16 = bf16, .unverified_kernels = options.cuda_unverified_kernels});
#else
  (void)config, (void)weights, (void)options;
  return absl::FailedPreconditionError("device cuda: this build has no CUDA backend");
#endif
}

// A GGUF file: its metadata as config.json, its tensors in place (deepseek2's kv_b_proj
// rebuilt). Its Q8_0, Q4_0 and K-quant matrices are taken in their own scheme (cpu/kquants.h);
// `quantize` applies to its float ones. No saved copy: converting the blocks into the kernels'
// layout is a reshuffle, not a quantisation.
absl::StatusOr<std::unique_ptr<Model>> LoadGguf(const ModelOptions& options, const cpu::QuantizationScheme& scheme,
                                                 const Placement& placement) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file = GgufFile::Open(options.model_dir);
  if (!file.ok()) return file.status();
  absl::StatusOr<GgufCheckpoint> checkpoint = ReadGgufCheckpoint(**file);
  if (!checkpoint.ok()) return checkpoint.status();
  absl::StatusOr<ModelConfig> config = ParseModelConfig(checkpoint->config_json, options.model_dir);
  if (!config.ok()) return config.status();
  // The tensors point into the file's mapping and into the tensors rebuilt from it.
  struct Owner {
    std::unique_ptr<GgufFile> file;
    std::vector<std::vector<uint8_t>> derived;
  };
  auto owner = std::make_shared<const Owner>(Owner{std::move(*file), std::move(checkpoint->derived)});
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::FromTensors(std::move(checkpoint->tensors), owner);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::unique_ptr<model::Weights>> weights =
      model::LoadWeights(*config, **store,
                         {.quantize = scheme.projections, .vocabulary = scheme.vocabulary, .embeddings = scheme.embeddings});
  if (!weights.ok()) return weights.status();
  // The file's own scheme is the model's when nothing was asked: its attention's output
  // projection's (MLA's kv_b may have been rebuilt in f32).
  if ((*weights)->quantization == cpu::Quantization::kNone && !(*weights)->layers.empty()) {
    const model::LayerWeights& first = (*weights)->layers[0];
    (*weights)->quantization = config->is_mla() ? first.mla.o.quantization : first.gqa.q.quantization;
  }
  // A GGUF file's quantised blocks run on the CPU: "auto" takes it there, "cuda" says why not.
  const bool quantized = (*weights)->quantization != cpu::Quantization::kNone;
  if (placement.gpu && !(quantized && options.device == "auto")) return OnGpu(*config, **weights, options);
  const std::string where = placement.gpu ? "cpu (auto: the file's quantized weights run on the CPU)" : placement.cpu_description;
  return std::unique_ptr<Model>(
      new model::Transformer(std::move(*config), std::move(*store), std::move(*weights), where));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Model>> Model::Load(const ModelOptions& options) {
  if (options.model_dir.empty()) return absl::InvalidArgumentError("model_dir is required");
  const std::optional<cpu::QuantizationScheme> scheme = cpu::ParseQuantizationScheme(options.quantize);
  if (!scheme) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantize: \"", options.quantize, "\" is not one of \"\", q8, q4, q4-pure"));
  }
  absl::StatusOr<Placement> placement = Place(options);
  if (!placement.ok()) return placement.status();
  if (IsGgufPath(options.model_dir)) return LoadGguf(options, *scheme, *placement);
  absl::StatusOr<ModelConfig> config = LoadModelConfig(options.model_dir);
  if (!config.ok()) return config.status();
  // The saved copy is opened before the checkpoint, and the checkpoint checked unchanged once it
  // is loaded (LoadWeights): blocks are never used or saved for weights other than the ones
  // mapped.
  std::unique_ptr<model::QuantizedCopy> copy;
  if (scheme->projections != cpu::Quantization::kNone && !options.quantized_copy_dir.empty()) {
    absl::StatusOr<std::unique_ptr<model::QuantizedCopy>> opened =
        model::QuantizedCopy::Open(options.quantized_copy_dir, options.model_dir, *scheme);
    if (!opened.ok()) return opened.status();
    copy = std::move(*opened);
  }
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDirectory(options.model_dir);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::unique_ptr<model::Weights>> weights = model::LoadWeights(
      *config, **store,
      {.quantize = scheme->projections, .vocabulary = scheme->vocabulary, .embeddings = scheme->embeddings, .copy = copy.get()});
  if (!weights.ok()) return weights.status();
  (*weights)->copy = std::move(copy);
  if (placement->gpu) return OnGpu(*config, **weights, options);
  return std::unique_ptr<Model>(new model::Transformer(std::move(*config), std::move(*store), std::move(*weights),
                                                       placement->cpu_description));
}

}  // namespace engine
