#include "engine/model_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "status_macros.h"

namespace engine {
namespace {

using Json = nlohmann::json;

class ConfigReader {
 public:
  ConfigReader(const Json& root, std::string source) : root_(root), source_(std::move(source)) {}

  absl::Status Error(absl::string_view key, absl::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", key, ": ", why));
  }

  bool Has(const char* key) const { return root_.contains(key) && !root_[key].is_null(); }

  // Reads an integer; `required` makes absence an error, otherwise *out keeps its value.
  absl::Status Int(const char* key, int* out, bool required, int min_value = 1) const {
    if (!Has(key)) return required ? Error(key, "is required") : absl::OkStatus();
    const Json& v = root_[key];
    if (!v.is_number_integer()) return Error(key, "must be an integer");
    int64_t value = v.get<int64_t>();
    if (value < min_value || value > (1 << 30)) {
      return Error(key, absl::StrCat("must be at least ", min_value, " (got ", value, ")"));
    }
    *out = static_cast<int>(value);
    return absl::OkStatus();
  }

  absl::Status Double(const char* key, double* out, bool required) const {
    if (!Has(key)) return required ? Error(key, "is required") : absl::OkStatus();
    if (!root_[key].is_number()) return Error(key, "must be a number");
    *out = root_[key].get<double>();
    return absl::OkStatus();
  }

  absl::Status Bool(const char* key, bool* out) const {
    if (!Has(key)) return absl::OkStatus();
    if (!root_[key].is_boolean()) return Error(key, "must be true or false");
    *out = root_[key].get<bool>();
    return absl::OkStatus();
  }

  absl::Status String(const char* key, std::string* out) const {
    if (!Has(key)) return absl::OkStatus();
    if (!root_[key].is_string()) return Error(key, "must be a string");
    *out = root_[key].get<std::string>();
    return absl::OkStatus();
  }

  // An int or a list of ints (eos_token_id is either).
  absl::Status IntList(const char* key, std::vector<int>* out) const {
    if (!Has(key)) return absl::OkStatus();
    const Json& v = root_[key];
    out->clear();
    if (v.is_number_integer()) {
      out->push_back(v.get<int>());
      return absl::OkStatus();
    }
    if (!v.is_array()) return Error(key, "must be an integer or a list of integers");
    for (const Json& item : v) {
      if (!item.is_number_integer()) return Error(key, "must contain integers");
      out->push_back(item.get<int>());
    }
    return absl::OkStatus();
  }

  const Json& root() const { return root_; }

 private:
  const Json& root_;
  std::string source_;
};

absl::Status ReadRopeScaling(const ConfigReader& reader, RopeScaling* rope) {
  const Json& root = reader.root();
  // Newer configs call it rope_parameters; the hub's DeepSeek/Qwen files say rope_scaling.
  const char* key = root.contains("rope_scaling") ? "rope_scaling" : "rope_parameters";
  if (!root.contains(key) || root[key].is_null()) return absl::OkStatus();
  const Json& s = root[key];
  if (!s.is_object()) return reader.Error(key, "must be an object or null");
  std::string type;
  if (s.contains("type") && s["type"].is_string()) type = s["type"].get<std::string>();
  if (s.contains("rope_type") && s["rope_type"].is_string()) type = s["rope_type"].get<std::string>();
  auto number = [&](const char* name, double* out) -> absl::Status {
    if (!s.contains(name) || s[name].is_null()) return absl::OkStatus();
    if (!s[name].is_number()) return reader.Error(absl::StrCat(key, ".", name), "must be a number");
    *out = s[name].get<double>();
    return absl::OkStatus();
  };
  if (type == "default" || type.empty()) {
    rope->type = RopeScaling::Type::kNone;
    return absl::OkStatus();
  }
  if (type == "linear") {
    rope->type = RopeScaling::Type::kLinear;
  } else if (type == "yarn") {
    rope->type = RopeScaling::Type::kYarn;
  } else {
    return reader.Error(absl::StrCat(key, ".type"),
                        absl::StrCat("\"", type, "\" is not supported (default, linear, yarn)"));
  }
  RETURN_IF_ERROR(number("factor", &rope->factor));
  RETURN_IF_ERROR(number("original_max_position_embeddings", &rope->original_max_position_embeddings));
  RETURN_IF_ERROR(number("beta_fast", &rope->beta_fast));
  RETURN_IF_ERROR(number("beta_slow", &rope->beta_slow));
  RETURN_IF_ERROR(number("mscale", &rope->mscale));
  RETURN_IF_ERROR(number("mscale_all_dim", &rope->mscale_all_dim));
  RETURN_IF_ERROR(number("attention_factor", &rope->attention_factor));
  if (s.contains("truncate") && s["truncate"].is_boolean()) rope->truncate = s["truncate"].get<bool>();
  if (!(rope->factor > 0)) return reader.Error(absl::StrCat(key, ".factor"), "must be positive");
  if (rope->beta_fast == 0) rope->beta_fast = 32;
  if (rope->beta_slow == 0) rope->beta_slow = 1;
  return absl::OkStatus();
}

absl::StatusOr<Architecture> DetectArchitecture(const ConfigReader& reader, std::string* model_type) {
  RETURN_IF_ERROR(reader.String("model_type", model_type));
  std::string architectures;
  if (reader.Has("architectures") && reader.root()["architectures"].is_array()) {
    for (const Json& a : reader.root()["architectures"]) {
      if (a.is_string()) architectures += a.get<std::string>() + " ";
    }
  }
  if (*model_type == "deepseek_v3" || architectures.find("DeepseekV3") != std::string::npos) {
    return Architecture::kDeepseekV3;
  }
  if (*model_type == "deepseek_v2" || architectures.find("DeepseekV2") != std::string::npos) {
    return Architecture::kDeepseekV2;
  }
  if (*model_type == "qwen3_moe" || architectures.find("Qwen3Moe") != std::string::npos) {
    return Architecture::kQwen3Moe;
  }
  if (*model_type == "qwen3" || architectures.find("Qwen3ForCausalLM") != std::string::npos) {
    return Architecture::kQwen3;
  }
  return reader.Error("model_type", absl::StrCat("unknown architecture \"", *model_type, "\" (",
                                                 architectures.empty() ? "no architectures" : architectures,
                                                 "); supported: deepseek_v3, deepseek_v2, qwen3_moe, qwen3"));
}

}  // namespace

const char* ArchitectureName(Architecture architecture) {
  switch (architecture) {
    case Architecture::kDeepseekV3: return "deepseek_v3";
    case Architecture::kDeepseekV2: return "deepseek_v2";
    case Architecture::kQwen3Moe: return "qwen3_moe";
    case Architecture::kQwen3: return "qwen3";
  }
  return "?";
}

bool ModelConfig::IsMoeLayer(int layer) const {
  if (num_routed_experts == 0) return false;
  if (is_mla()) return layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  if (std::find(mlp_only_layers.begin(), mlp_only_layers.end(), layer) != mlp_only_layers.end()) {
    return false;
  }
  return (layer + 1) % decoder_sparse_step == 0;
}

absl::StatusOr<ModelConfig> ParseModelConfig(const std::string& json_text, const std::string& source) {
  Json root = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a JSON object"));
  }
  ConfigReader r(root, source);
  ModelConfig c;
  absl::StatusOr<Architecture> architecture = DetectArchitecture(r, &c.model_type);
  if (!architecture.ok()) return architecture.status();
  c.architecture = *architecture;

  std::string hidden_act = "silu";
  RETURN_IF_ERROR(r.String("hidden_act", &hidden_act));
  if (hidden_act != "silu") return r.Error("hidden_act", absl::StrCat("\"", hidden_act, "\" is not supported (silu)"));
  bool attention_bias = false;
  RETURN_IF_ERROR(r.Bool("attention_bias", &attention_bias));
  if (attention_bias) return r.Error("attention_bias", "true is not supported");

  RETURN_IF_ERROR(r.Int("vocab_size", &c.vocab_size, true));
  RETURN_IF_ERROR(r.Int("hidden_size", &c.hidden_size, true));
  RETURN_IF_ERROR(r.Int("num_hidden_layers", &c.num_hidden_layers, true));
  RETURN_IF_ERROR(r.Int("num_attention_heads", &c.num_attention_heads, true));
  c.num_key_value_heads = c.num_attention_heads;
  RETURN_IF_ERROR(r.Int("num_key_value_heads", &c.num_key_value_heads, false));
  RETURN_IF_ERROR(r.Int("intermediate_size", &c.intermediate_size, true));
  c.max_position_embeddings = 4096;
  RETURN_IF_ERROR(r.Int("max_position_embeddings", &c.max_position_embeddings, false));
  RETURN_IF_ERROR(r.Double("rms_norm_eps", &c.rms_norm_eps, false));
  RETURN_IF_ERROR(r.Double("rope_theta", &c.rope_theta, false));
  RETURN_IF_ERROR(ReadRopeScaling(r, &c.rope_scaling));
  RETURN_IF_ERROR(r.Bool("tie_word_embeddings", &c.tie_word_embeddings));
  RETURN_IF_ERROR(r.IntList("bos_token_id", &c.bos_token_ids));
  RETURN_IF_ERROR(r.IntList("eos_token_id", &c.eos_token_ids));
  if (!(c.rms_norm_eps > 0)) return r.Error("rms_norm_eps", "must be positive");
  if (!(c.rope_theta > 0)) return r.Error("rope_theta", "must be positive");

  if (c.is_mla()) {
    RETURN_IF_ERROR(r.Int("q_lora_rank", &c.q_lora_rank, false, 0));
    RETURN_IF_ERROR(r.Int("kv_lora_rank", &c.kv_lora_rank, true));
    RETURN_IF_ERROR(r.Int("qk_nope_head_dim", &c.qk_nope_head_dim, true));
    RETURN_IF_ERROR(r.Int("qk_rope_head_dim", &c.qk_rope_head_dim, true));
    RETURN_IF_ERROR(r.Int("v_head_dim", &c.v_head_dim, true));
    if (c.qk_rope_head_dim % 2 != 0) return r.Error("qk_rope_head_dim", "must be even");
    RETURN_IF_ERROR(r.Int("n_routed_experts", &c.num_routed_experts, false, 0));
    RETURN_IF_ERROR(r.Int("n_shared_experts", &c.num_shared_experts, false, 0));
    RETURN_IF_ERROR(r.Int("first_k_dense_replace", &c.first_k_dense_replace, false, 0));
    RETURN_IF_ERROR(r.Int("moe_layer_freq", &c.moe_layer_freq, false));
    RETURN_IF_ERROR(r.Int("n_group", &c.n_group, false));
    RETURN_IF_ERROR(r.Int("topk_group", &c.topk_group, false));
    RETURN_IF_ERROR(r.Double("routed_scaling_factor", &c.routed_scaling_factor, false));
    std::string scoring = c.architecture == Architecture::kDeepseekV3 ? "sigmoid" : "softmax";
    std::string topk = c.architecture == Architecture::kDeepseekV3 ? "noaux_tc" : "greedy";
    RETURN_IF_ERROR(r.String("scoring_func", &scoring));
    RETURN_IF_ERROR(r.String("topk_method", &topk));
    if (scoring == "softmax") {
      c.scoring_func = ScoringFunc::kSoftmax;
    } else if (scoring == "sigmoid") {
      c.scoring_func = ScoringFunc::kSigmoid;
    } else {
      return r.Error("scoring_func", absl::StrCat("\"", scoring, "\" is not supported (softmax, sigmoid)"));
    }
    if (topk == "greedy") {
      c.topk_method = TopkMethod::kGreedy;
    } else if (topk == "group_limited_greedy") {
      c.topk_method = TopkMethod::kGroupLimitedGreedy;
    } else if (topk == "noaux_tc") {
      c.topk_method = TopkMethod::kNoauxTc;
    } else {
      return r.Error("topk_method", absl::StrCat("\"", topk, "\" is not supported (greedy, group_limited_greedy, noaux_tc)"));
    }
    RETURN_IF_ERROR(r.Int("num_nextn_predict_layers", &c.num_nextn_predict_layers, false, 0));
    c.rope_interleave = true;
    RETURN_IF_ERROR(r.Bool("rope_interleave", &c.rope_interleave));
  } else {
    c.head_dim = c.hidden_size / c.num_attention_heads;
    RETURN_IF_ERROR(r.Int("head_dim", &c.head_dim, false));
    if (c.head_dim % 2 != 0) return r.Error("head_dim", "must be even");
    if (c.architecture == Architecture::kQwen3Moe) {
      RETURN_IF_ERROR(r.Int("num_experts", &c.num_routed_experts, true));
      RETURN_IF_ERROR(r.Int("decoder_sparse_step", &c.decoder_sparse_step, false));
      RETURN_IF_ERROR(r.IntList("mlp_only_layers", &c.mlp_only_layers));
    }
    c.scoring_func = ScoringFunc::kSoftmax;
    c.topk_method = TopkMethod::kGreedy;
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return r.Error("num_key_value_heads", "must divide num_attention_heads");
  }

  if (c.num_routed_experts > 0) {
    RETURN_IF_ERROR(r.Int("num_experts_per_tok", &c.num_experts_per_tok, true));
    RETURN_IF_ERROR(r.Int("moe_intermediate_size", &c.moe_intermediate_size, true));
    RETURN_IF_ERROR(r.Bool("norm_topk_prob", &c.norm_topk_prob));
    if (c.num_experts_per_tok > c.num_routed_experts) {
      return r.Error("num_experts_per_tok", "exceeds the number of experts");
    }
    if (c.num_routed_experts % c.n_group != 0) return r.Error("n_group", "must divide n_routed_experts");
    if (c.topk_group > c.n_group) return r.Error("topk_group", "exceeds n_group");
    if (c.topk_method != TopkMethod::kGreedy &&
        c.num_experts_per_tok > c.topk_group * (c.num_routed_experts / c.n_group)) {
      return r.Error("num_experts_per_tok", "exceeds the experts in topk_group groups");
    }
  }
  return c;
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& model_dir) {
  std::string path = (std::filesystem::path(model_dir) / "config.json").string();
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseModelConfig(buffer.str(), path);
}

}  // namespace engine
