// The model's weights, arranged as the forward pass uses them. Matrices point into the
// memory-mapped checkpoint; small vectors (norms, biases) are copied to float32.
#ifndef AGENTD_ENGINE_MODEL_WEIGHTS_H_
#define AGENTD_ENGINE_MODEL_WEIGHTS_H_

#include <memory>
#include <string>
#include <vector>

#include "cpu/matrix.h"
#include "engine/model_config.h"
#include "engine/safetensors.h"
#include "model/quantized_copy.h"

namespace engine::model {

using cpu::Matrix;
using cpu::Quantization;

// SwiGLU feed-forward: down(silu(gate x) * up x).
struct MlpWeights {
  Matrix gate, up, down;
};

struct MoeWeights {
  Matrix router;                       // [experts, hidden]
  std::vector<float> correction_bias;  // DeepSeek-V3 selection bias; empty otherwise
  std::vector<MlpWeights> experts;
  bool has_shared = false;
  MlpWeights shared;  // DeepSeek's shared experts, fused into one MLP of n_shared × width
};

// Multi-head latent attention (DeepSeek-V2/V3).
struct MlaWeights {
  Matrix q_a, q_b;              // with q-LoRA
  std::vector<float> q_a_norm;  // with q-LoRA
  Matrix q;                     // without q-LoRA
  Matrix kv_a;                  // [kv_lora_rank + rope_dim, hidden]
  std::vector<float> kv_a_norm;
  Matrix kv_b;                  // [heads * (nope + v), kv_lora_rank]
  Matrix o;
};

// Grouped-query attention with per-head q/k RMSNorm (Qwen3).
struct GqaWeights {
  Matrix q, k, v, o;
  std::vector<float> q_norm, k_norm;
};

struct LayerWeights {
  std::vector<float> input_norm, post_attention_norm;
  MlaWeights mla;
  GqaWeights gqa;
  bool is_moe = false;
  MlpWeights mlp;
  MoeWeights moe;
};

// DeepSeek-V3's multi-token-prediction module (model.layers.{num_hidden_layers}.*).
struct MtpWeights {
  std::vector<float> enorm, hnorm;
  Matrix eh_proj;  // [hidden, 2 * hidden]
  LayerWeights block;
  Matrix embed;    // its own embed_tokens, or the main one when absent
  std::vector<float> head_norm;
  Matrix head;     // shared_head.head, or the main lm_head when absent
};

struct Weights {
  Quantization quantization = Quantization::kNone;  // LoadOptions::quantize, as applied
  Matrix embed;  // [vocab, hidden]
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm;
  Matrix lm_head;  // the embedding matrix when tied
  std::vector<MtpWeights> mtp;
  // Buffers for tensors converted at load (FP8 → bf16); the Matrices above may point here.
  std::vector<std::unique_ptr<std::vector<uint16_t>>> owned;
  // The saved quantised copy the matrices point into, when one was mapped, and what became of
  // it ("mapped from PATH", "quantised and saved to PATH", "quantised; not saved: why").
  std::unique_ptr<QuantizedCopy> copy;
  std::string copy_note;
  // Buffers of quantised matrices (Matrix::quantized points here).
  std::vector<std::unique_ptr<std::vector<uint8_t>>> owned_bytes;
};

// Finds and checks every tensor the architecture needs. Errors name the tensor and file.
struct LoadOptions {
  // Store matrices quantised (cpu/quantized.h): kQ8 or kQ4 for every projection whose rows are
  // whole blocks of 32, output heads and embeddings as `vocabulary` and `embeddings` say, never
  // the MoE router.
  // Default kNone: the checkpoint's own dtype.
  cpu::Quantization quantize = cpu::Quantization::kNone;
  // Output heads, and embeddings tied to one (cpu::QuantizationScheme::vocabulary: kQ8 under q4,
  // kQ4 under q4-pure). Default kNone: the checkpoint's own dtype.
  cpu::Quantization vocabulary = cpu::Quantization::kNone;
  // Input embeddings with no head tied to them (cpu::QuantizationScheme::embeddings: kQ4 under
  // q4-pure only). Default kNone: the checkpoint's own dtype.
  cpu::Quantization embeddings = cpu::Quantization::kNone;
  // With `quantize`: a saved copy to map matrices from, and to save them to when it lacks them
  // (model/quantized_copy.h). Borrowed; the caller moves it into Weights::copy. Default none.
  QuantizedCopy* copy = nullptr;
};

absl::StatusOr<std::unique_ptr<Weights>> LoadWeights(const ModelConfig& config, const TensorStore& store,
                                                     const LoadOptions& options);

}  // namespace engine::model

#endif  // AGENTD_ENGINE_MODEL_WEIGHTS_H_
