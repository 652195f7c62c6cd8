// A loaded language model and its forward pass, on the CPU or (ModelOptions::device) a GPU.
//
// Model::Load reads a Hugging Face model directory (config.json + *.safetensors) of one of the
// supported architectures (DeepSeek-V3 with MTP, DeepSeek-V2/V2-Lite, Qwen3-MoE, Qwen3), or a
// GGUF file of llama.cpp's qwen3moe or qwen3 (engine/gguf.h), checks every tensor's presence and
// shape, and keeps bf16/f16 weights in their stored type (FP8 block-scaled weights are
// dequantised to bf16; a GGUF file's Q8_0 and Q4_0 blocks become the q8 and q4 kernels' own,
// without loss). Forward runs tokens through the model,
// appending their keys/values to a KvCache, so a prompt is processed once and each generated
// token costs one more step:
//
//   auto model = engine::Model::Load({.model_dir = "/models/x"});
//   auto cache = (*model)->NewCache();
//   engine::ForwardResult out;
//   (*model)->Forward(prompt_ids, cache.get(), {}, &out);   // logits of the last position
//   (*model)->Forward({next_id}, cache.get(), {}, &out);     // one decode step
#ifndef AGENTD_ENGINE_MODEL_H_
#define AGENTD_ENGINE_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/kv_block_pool.h"
#include "engine/model_config.h"

namespace engine {

// True for the names ModelOptions::quantize takes: "" (as stored), "q8", "q4", "q4-pure".
bool IsKnownQuantization(std::string_view name);

struct ModelOptions {
  // Directory with config.json and *.safetensors, or a *.gguf file (its tokenizer too:
  // Tokenizer::Load takes the same path). Required.
  std::string model_dir;
  // Weights as stored (""; the default) or quantised at load: "q8" (llama.cpp's Q8_0 blocks: 32
  // levels and an f16 scale, 1.0625 bytes per weight) or "q4" (llama.cpp's Q4_0 blocks, 0.5625 bytes per weight;
  // output heads at 8 bits) or "q4-pure" (those and the input embeddings at 4 bits too, as
  // llama-quantize --pure: faster where the output head is much of the bytes read per token, a
  // little further from the unquantised logits). Under q8 and q4, input embeddings not tied to
  // the output head stay as stored (a token reads one row of them: rounding saves no time).
  // Matrices whose width is not a multiple of 32 stay as stored, the MoE router always does,
  // and norms and other vectors stay float32.
  std::string quantize;
  // A GGUF file's Q8_0 / Q4_0 matrices are used as they are; `quantize` applies to its float
  // ones.
  // With `quantize`: a directory for the saved quantised copy (one file per checkpoint and
  // scheme; none for GGUF files), mapped on the next load instead of quantising again. Created
  // when missing; a copy that cannot be written only costs the next load its time. Default "":
  // none.
  std::string quantized_copy_dir;
  // Where the forward pass runs: "cpu" (the default), "cuda" (GPU 0; an error when this build
  // or machine has none, saying why) or "auto" (the GPU when the probe finds one, else the CPU;
  // device_description() says which and why). The CUDA backend takes unquantised weights.
  std::string device = "cpu";
  // The CUDA backend's matrices: "" (bf16, unless the checkpoint is float32: then float32, the
  // parity mode), "bf16" or "f32".
  std::string device_dtype;
  // CUDA kernels written but not yet checked on a GPU (cuda/cuda_model.h): for the device check's
  // tests and benchmarks. Default false.
  bool cuda_unverified_kernels = false;
};

// True for the names ModelOptions::device takes.
bool IsKnownDevice(std::string_view name);

// Keys and values of the tokens processed so far, per layer. MLA models cache the compressed
// latent and the rotary key (DeepSeek's design), not expanded per-head keys and values.
class KvCache {
 public:
  virtual ~KvCache() = default;
  // Tokens cached (the position the next token gets).
  virtual int64_t length() const = 0;
  // Forgets everything from position `length` on (rejected speculative tokens).
  virtual void Truncate(int64_t length) = 0;
  // Bytes of the blocks it references (shared blocks count in full).
  virtual uint64_t bytes() const = 0;
};

struct ForwardOptions {
  // Logits for every input position; false gives only the last one's.
  bool all_logits = false;
  // Also return the final hidden states (after the last norm) of every input position; the
  // MTP layer and embeddings read them.
  bool return_hidden = false;
};

struct ForwardResult {
  // Rows of logits: all positions or 1.
  int64_t logit_rows = 0;
  // [logit_rows, vocab_size] row-major.
  std::vector<float> logits;
  // [tokens, hidden_size] when return_hidden. From ForwardMtp: the MTP block's output before
  // its head norm, which a chained MTP step takes as its "previous hidden state".
  std::vector<float> hidden;
};

// One sequence's part of a batched forward pass.
struct BatchEntry {
  std::span<const int32_t> tokens;
  KvCache* cache = nullptr;
  ForwardOptions options;
  ForwardResult* result = nullptr;
};

class Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Load(const ModelOptions& options);
  virtual ~Model() = default;

  virtual const ModelConfig& config() const = 0;
  // A pool of KV blocks shaped for this model's layers, to share among caches.
  virtual std::shared_ptr<KvBlockPool> NewBlockPool(const KvBlockPoolOptions& options) const = 0;
  // A cache drawing its blocks from `pool` (one of this model's pools), or from a private
  // unbounded pool.
  virtual std::unique_ptr<KvCache> NewCache(std::shared_ptr<KvBlockPool> pool) const = 0;
  std::unique_ptr<KvCache> NewCache() const { return NewCache(NewBlockPool({})); }

  // Runs several sequences in one pass: every entry's tokens at positions cache->length()
  // onward in its own cache (distinct caches). The matrix products run once over all rows, so
  // weights are read once per pass, not once per sequence; attention stays per sequence. Token
  // ids must be < vocab_size and caches must come from this model. On error no cache changes.
  virtual absl::Status ForwardBatch(std::span<const BatchEntry> batch) = 0;
  absl::Status Forward(std::span<const int32_t> tokens, KvCache* cache, const ForwardOptions& options,
                       ForwardResult* result) {
    const BatchEntry entry{tokens, cache, options, result};
    return ForwardBatch(std::span(&entry, 1));
  }
  // The final hidden states of cached positions [from, to), from a cache whose pool stores
  // them (KvBlockPoolOptions::store_hidden); [to - from, hidden_size] row-major.
  virtual absl::StatusOr<std::vector<float>> CachedHidden(KvCache* cache, int64_t from, int64_t to) const = 0;

  // True when the checkpoint has a multi-token-prediction layer (DeepSeek-V3).
  virtual bool has_mtp() const = 0;
  virtual std::unique_ptr<KvCache> NewMtpCache() const = 0;
  // The MTP layer over a run of positions continuing mtp_cache: row i of `hidden` ([n, hidden])
  // is the main model's final hidden state at some position p, and next_tokens[i] the token at
  // p + 1; the result's logits predict the token at p + 2, for every row when
  // options.all_logits, else for the last (drafting needs only that one, and the head is most
  // of the layer's cost on a small model). The first MTP position of a sequence sees a zero
  // embedding, as DeepSeek's reference does. result->hidden always holds every row.
  virtual absl::Status ForwardMtp(std::span<const float> hidden, std::span<const int32_t> next_tokens,
                                  KvCache* mtp_cache, const ForwardOptions& options, ForwardResult* result) = 0;
  absl::Status ForwardMtp(std::span<const float> hidden, std::span<const int32_t> next_tokens, KvCache* mtp_cache,
                          ForwardResult* result) {
    return ForwardMtp(hidden, next_tokens, mtp_cache, {.all_logits = true}, result);
  }

  // All parameters, and those one token reads (embeddings row aside): attention, dense MLPs,
  // shared experts, the router and num_experts_per_tok routed experts per MoE layer, the head.
  virtual uint64_t parameter_count() const = 0;
  virtual uint64_t active_parameter_count() const = 0;
  // Bytes of weights one decoded token reads, in their stored dtypes.
  virtual uint64_t active_weight_bytes() const = 0;
  // "bf16", "f32", ... of the bulk of the weights.
  virtual std::string weight_dtype() const = 0;
  // Where the forward pass runs: "cpu", "cpu (auto: no GPU: ...)", "cuda:0 (NVIDIA H200, ...)".
  virtual std::string device_description() const { return "cpu"; }
  // What became of the saved quantised copy ("mapped from PATH", "quantised and saved to PATH",
  // "quantised; not saved: why"); "" without one.
  virtual std::string quantized_copy_note() const { return ""; }
};

}  // namespace engine

#endif  // AGENTD_ENGINE_MODEL_H_
