// A model's hyper-parameters, read from a Hugging Face `config.json` exactly as the hub ships it
// for DeepSeek-V3, DeepSeek-V2 / V2-Lite, Qwen3-MoE and Qwen3 (dense) checkpoints.
//
// Parsing validates everything the forward pass relies on (sizes positive, heads divisible,
// expert groups consistent, a known rope_scaling type) and names the offending key, so a bad
// config fails at load instead of producing garbage.
#ifndef AGENTD_ENGINE_MODEL_CONFIG_H_
#define AGENTD_ENGINE_MODEL_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace engine {

enum class Architecture {
  kDeepseekV3,  // MLA + sigmoid-routed MoE with correction bias, optional MTP layers
  kDeepseekV2,  // MLA (V2, V2-Lite) + softmax-routed MoE
  kQwen3Moe,    // GQA with q/k RMSNorm + softmax-routed MoE
  kQwen3,       // GQA with q/k RMSNorm, dense
};

const char* ArchitectureName(Architecture architecture);  // "deepseek_v3", ...

struct RopeScaling {
  enum class Type { kNone, kLinear, kYarn };
  Type type = Type::kNone;
  double factor = 1.0;
  // YaRN: the pre-extension context; 0 means max_position_embeddings.
  double original_max_position_embeddings = 0;
  double beta_fast = 32;
  double beta_slow = 1;
  // 0 when absent from the config (they change the attention factor and, for DeepSeek, the
  // softmax scale).
  double mscale = 0;
  double mscale_all_dim = 0;
  // Explicit attention_factor; < 0 when absent (then derived from factor and the mscales).
  double attention_factor = -1;
  bool truncate = true;
};

enum class ScoringFunc { kSoftmax, kSigmoid };
enum class TopkMethod { kGreedy, kGroupLimitedGreedy, kNoauxTc };

struct ModelConfig {
  Architecture architecture = Architecture::kQwen3;
  std::string model_type;

  int vocab_size = 0;
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  // Dense MLP width (DeepSeek's first_k_dense_replace layers, Qwen3 dense and mlp_only_layers).
  int intermediate_size = 0;
  int max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  std::vector<int> bos_token_ids;
  std::vector<int> eos_token_ids;

  // GQA (Qwen3): per-head width.
  int head_dim = 0;

  // MLA (DeepSeek). q_lora_rank 0 means queries are projected directly (V2-Lite).
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;

  // MoE. num_routed_experts 0 means a dense model.
  int num_routed_experts = 0;
  int num_experts_per_tok = 0;
  int moe_intermediate_size = 0;
  int num_shared_experts = 0;
  ScoringFunc scoring_func = ScoringFunc::kSoftmax;
  TopkMethod topk_method = TopkMethod::kGreedy;
  int n_group = 1;
  int topk_group = 1;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
  // Which layers are MoE: DeepSeek uses first_k_dense_replace and moe_layer_freq, Qwen3-MoE
  // decoder_sparse_step and mlp_only_layers.
  int first_k_dense_replace = 0;
  int moe_layer_freq = 1;
  int decoder_sparse_step = 1;
  std::vector<int> mlp_only_layers;

  // DeepSeek-V3 multi-token-prediction layers, stored after the decoder layers.
  int num_nextn_predict_layers = 0;

  // Rotary layout: adjacent pairs (x[2i], x[2i+1]) as DeepSeek's checkpoints expect, or halves
  // (x[i], x[i+d/2]) as Qwen's. From config.json's rope_interleave where present.
  bool rope_interleave = false;

  bool is_mla() const {
    return architecture == Architecture::kDeepseekV3 || architecture == Architecture::kDeepseekV2;
  }
  bool IsMoeLayer(int layer) const;
  // Width of one query/key head as attention sees it.
  int qk_head_dim() const { return is_mla() ? qk_nope_head_dim + qk_rope_head_dim : head_dim; }
  // Rotary dimensions per head.
  int rope_dim() const { return is_mla() ? qk_rope_head_dim : head_dim; }
};

// `source` names the file in error messages.
absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& json_text, const std::string& source);
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& model_dir);

}  // namespace engine

#endif  // AGENTD_ENGINE_MODEL_CONFIG_H_
