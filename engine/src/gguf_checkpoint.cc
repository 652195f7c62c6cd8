#include "gguf_checkpoint.h"

#include <sys/stat.h>

#include <cmath>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace engine {
namespace {

using Json = nlohmann::json;

// The pre-tokenizers llama.cpp names in tokenizer.ggml.pre, as Hugging Face's tokenizer.json of
// the models that use them spells them (normalizer, pre_tokenizer, decoder).
constexpr char kQwen2Pipeline[] = R"({"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]}, "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}})";
constexpr char kDeepseekV3Pipeline[] = R"({"normalizer": {"type": "Sequence", "normalizers": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}, "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}})";

// llama.cpp's token types.
// Far beyond any MoE's experts or any vocabulary: larger is a file built to exhaust memory.
constexpr int64_t kMaxExperts = 4096;
constexpr size_t kMaxTokens = size_t{1} << 19;

constexpr int kTokenNormal = 1, kTokenControl = 3, kTokenUserDefined = 4, kTokenUnused = 5;

std::optional<DType> ComputeDType(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32: return DType::kF32;
    case GgmlType::kF16: return DType::kF16;
    case GgmlType::kBF16: return DType::kBF16;
    default: return std::nullopt;
  }
}

// The quantised block types the weight loader reads (model/weights.cc).
bool IsBlockType(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K: return true;
    default: return false;
  }
}

TensorInfo ViewOf(const GgufFile& file, const GgufTensor& t, std::string name) {
  TensorInfo info;
  info.name = std::move(name);
  info.dtype_name = GgmlTypeName(t.type);
  info.dtype = ComputeDType(t.type);
  for (auto d = t.dims.rbegin(); d != t.dims.rend(); ++d) info.shape.push_back(static_cast<int64_t>(*d));
  info.data = t.data;
  info.size_bytes = t.size_bytes;
  info.file = absl::StrCat(file.path(), " (GGUF tensor ", t.name, ")");
  return info;
}

// blk.N.<suffix> → model.layers.N.<HF name>; the stacked experts are split in ReadGgufCheckpoint.
std::optional<std::string> LayerTensorName(const std::string& suffix) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"ffn_gate_inp.weight", "mlp.gate.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  for (const auto& [gguf, hf] : kNames) {
    if (suffix == gguf) return std::string(hf);
  }
  return std::nullopt;
}

}  // namespace

bool IsGgufPath(const std::string& path) {
  struct stat st {};
  return absl::EndsWithIgnoreCase(path, ".gguf") && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::StatusOr<GgufCheckpoint> ReadGgufCheckpoint(const GgufFile& file) {
  absl::StatusOr<std::string> arch = file.GetString("general.architecture");
  if (!arch.ok()) return arch.status();
  if (*arch != "qwen3moe" && *arch != "qwen3") {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": architecture \"", *arch,
                                                 "\" is not read from GGUF (qwen3moe, qwen3)"));
  }
  const bool moe = *arch == "qwen3moe";
  const GgufTensor* embed = file.FindTensor("token_embd.weight");
  if (embed == nullptr || embed->dims.size() != 2) {
    return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": no 2-D token_embd.weight"));
  }
  // Hyper-parameters: the keys llama.cpp writes for the architecture, as config.json spells them.
  Json config;
  config["model_type"] = moe ? "qwen3_moe" : "qwen3";
  config["vocab_size"] = embed->dims[1];
  auto integer = [&](const char* key, const char* hf, bool required) -> absl::Status {
    absl::StatusOr<int64_t> v = file.GetInteger(absl::StrCat(*arch, ".", key));
    if (v.ok()) config[hf] = *v;
    if (v.ok() || (!required && absl::IsNotFound(v.status()))) return absl::OkStatus();
    return v.status();
  };
  auto number = [&](const char* key, const char* hf) -> absl::Status {
    absl::StatusOr<double> v = file.GetNumber(absl::StrCat(*arch, ".", key));
    if (v.ok() && std::isfinite(*v)) config[hf] = *v;
    if (v.ok() || absl::IsNotFound(v.status())) return absl::OkStatus();
    return v.status();
  };
  for (absl::Status s : {integer("embedding_length", "hidden_size", true), integer("block_count", "num_hidden_layers", true),
                         integer("attention.head_count", "num_attention_heads", true),
                         integer("attention.head_count_kv", "num_key_value_heads", false),
                         integer("attention.key_length", "head_dim", false),
                         integer("context_length", "max_position_embeddings", false),
                         number("attention.layer_norm_rms_epsilon", "rms_norm_eps"), number("rope.freq_base", "rope_theta")}) {
    if (!s.ok()) return s;
  }
  // llama.cpp's default base for Qwen3 when the key is absent.
  if (!config.contains("rope_theta")) config["rope_theta"] = 10000.0;
  if (const GgufValue* v = file.Find(absl::StrCat(*arch, ".attention.value_length"));
      v != nullptr && config.contains("head_dim") && v->number != config["head_dim"].get<double>()) {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": value_length differs from key_length"));
  }
  if (file.Find(absl::StrCat(*arch, ".rope.scaling.type")) != nullptr) {
    absl::StatusOr<std::string> type = file.GetString(absl::StrCat(*arch, ".rope.scaling.type"));
    if (!type.ok()) return type.status();
    if (*type != "none" && *type != "linear" && *type != "yarn") {
      return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": ", *arch,
                                                   ".rope.scaling.type is not none, linear or yarn"));
    }
    if (*type != "none") {
      Json scaling = {{"type", *type}};
      if (absl::StatusOr<double> f = file.GetNumber(absl::StrCat(*arch, ".rope.scaling.factor")); f.ok()) scaling["factor"] = *f;
      if (absl::StatusOr<int64_t> o = file.GetInteger(absl::StrCat(*arch, ".rope.scaling.original_context_length")); o.ok()) {
        scaling["original_max_position_embeddings"] = *o;
      }
      config["rope_scaling"] = scaling;  // the config parser refuses a type it does not know
    }
  }
  if (moe) {
    for (absl::Status s : {integer("expert_count", "num_experts", true), integer("expert_used_count", "num_experts_per_tok", true),
                           integer("expert_feed_forward_length", "moe_intermediate_size", true),
                           integer("feed_forward_length", "intermediate_size", false)}) {
      if (!s.ok()) return s;
    }
    if (!config.contains("intermediate_size")) config["intermediate_size"] = config["moe_intermediate_size"];
    config["norm_topk_prob"] = true;  // llama.cpp's qwen3moe graph always renormalises the top-k
  } else {
    absl::Status s = integer("feed_forward_length", "intermediate_size", true);
    if (!s.ok()) return s;
  }
  config["tie_word_embeddings"] = file.FindTensor("output.weight") == nullptr;
  for (const auto& [key, hf] : {std::pair{"tokenizer.ggml.bos_token_id", "bos_token_id"},
                                std::pair{"tokenizer.ggml.eos_token_id", "eos_token_id"}}) {
    absl::StatusOr<int64_t> id = file.GetInteger(key);
    if (id.ok() && *id >= 0 && *id < (int64_t{1} << 30)) config[hf] = *id;  // others name no token
  }

  GgufCheckpoint out;
  out.config_json = config.dump(-1, ' ', false, Json::error_handler_t::replace);
  const int64_t experts = config.value("num_experts", int64_t{0});
  for (const auto& [name, t] : file.tensors()) {
    if (name == "token_embd.weight") out.tensors.push_back(ViewOf(file, t, "model.embed_tokens.weight"));
    if (name == "output_norm.weight") out.tensors.push_back(ViewOf(file, t, "model.norm.weight"));
    if (name == "output.weight") out.tensors.push_back(ViewOf(file, t, "lm_head.weight"));
    if (!name.starts_with("blk.")) continue;
    const size_t dot = name.find('.', 4);
    if (dot == std::string::npos) continue;
    const std::string layer = name.substr(4, dot - 4);
    if (layer.empty() || layer.size() > 6 || layer.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string prefix = absl::StrCat("model.layers.", layer, ".");
    const std::string suffix = name.substr(dot + 1);
    if (std::optional<std::string> hf = LayerTensorName(suffix)) {
      out.tensors.push_back(ViewOf(file, t, prefix + *hf));
      continue;
    }
    for (const char* proj : {"gate", "up", "down"}) {
      if (suffix != absl::StrCat("ffn_", proj, "_exps.weight")) continue;
      // [experts, rows, cols] stored expert after expert: each expert's matrix is a view.
      if (t.dims.size() != 3 || static_cast<int64_t>(t.dims[2]) != experts || experts > kMaxExperts) {
        return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": ", name, " is not [", experts,
                                                ", rows, cols] with at most ", kMaxExperts, " experts"));
      }
      if (!ComputeDType(t.type) && !IsBlockType(t.type)) {
        return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": ", name, " has dtype ", GgmlTypeName(t.type),
                                                     "; supported: F32, BF16, F16, Q8_0, Q4_0, Q4_K, Q5_K and Q6_K"));
      }
      const uint64_t per_expert = t.size_bytes / t.dims[2];
      for (int64_t e = 0; e < experts; ++e) {
        GgufTensor slice = t;
        slice.dims.pop_back();
        slice.data = t.data + e * per_expert;
        slice.size_bytes = per_expert;
        out.tensors.push_back(ViewOf(file, slice, absl::StrCat(prefix, "mlp.experts.", e, ".", proj, "_proj.weight")));
      }
    }
  }
  return out;
}

absl::StatusOr<GgufTokenizerFiles> ReadGgufTokenizer(const GgufFile& file) {
  absl::StatusOr<std::string> model = file.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.status();
  if (*model != "gpt2") {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": tokenizer.ggml.model \"", *model,
                                                 "\" is not read (gpt2: byte-level BPE)"));
  }
  absl::StatusOr<std::string> pre = file.GetString("tokenizer.ggml.pre");
  if (!pre.ok()) return pre.status();
  const char* pipeline = *pre == "qwen2" ? kQwen2Pipeline : *pre == "deepseek-v3" ? kDeepseekV3Pipeline : nullptr;
  if (pipeline == nullptr) {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": tokenizer.ggml.pre \"", *pre,
                                                 "\" is not read (qwen2, deepseek-v3)"));
  }
  const GgufValue* tokens = file.Find("tokenizer.ggml.tokens");
  const GgufValue* merges = file.Find("tokenizer.ggml.merges");
  if (tokens == nullptr || tokens->kind != GgufValue::Kind::kStringArray || merges == nullptr ||
      merges->kind != GgufValue::Kind::kStringArray) {
    return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": tokenizer.ggml.tokens and .merges must be string arrays"));
  }
  if (tokens->strings.size() > kMaxTokens) {
    return absl::InvalidArgumentError(absl::StrCat("GGUF file ", file.path(), ": ", tokens->strings.size(),
                                                   " tokens (at most ", kMaxTokens, ")"));
  }
  const GgufValue* types = file.Find("tokenizer.ggml.token_type");
  if (types != nullptr && (types->kind != GgufValue::Kind::kNumberArray || types->numbers.size() != tokens->strings.size())) {
    return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": tokenizer.ggml.token_type does not match the tokens"));
  }
  Json root = Json::parse(pipeline);
  root["version"] = "1.0";
  Json vocab = Json::object();
  Json added = Json::array();
  for (size_t id = 0; id < tokens->strings.size(); ++id) {
    const std::string& token = tokens->strings[id];
    // Any number the file holds: only llama.cpp's small codes mean anything (NaN or 1e300 must
    // not reach an int conversion).
    const double code = types != nullptr ? types->numbers[id] : kTokenNormal;
    const int type = code >= 0 && code <= 16 ? static_cast<int>(code) : kTokenNormal;
    if (type == kTokenUnused) continue;
    if (type == kTokenControl || type == kTokenUserDefined) {
      added.push_back({{"id", id}, {"content", token}, {"special", type == kTokenControl}, {"single_word", false},
                       {"lstrip", false}, {"rstrip", false}, {"normalized", false}});
    } else {
      vocab[token] = id;
    }
  }
  root["added_tokens"] = std::move(added);
  root["model"] = {{"type", "BPE"}, {"vocab", std::move(vocab)}, {"merges", merges->strings}};
  Json config = Json::object();
  auto token_named = [&](const char* key) -> std::optional<std::string> {
    absl::StatusOr<int64_t> id = file.GetInteger(key);
    if (!id.ok() || *id < 0 || *id >= static_cast<int64_t>(tokens->strings.size())) return std::nullopt;
    return tokens->strings[*id];
  };
  if (auto bos = token_named("tokenizer.ggml.bos_token_id")) config["bos_token"] = *bos;
  if (auto eos = token_named("tokenizer.ggml.eos_token_id")) config["eos_token"] = *eos;
  if (absl::StatusOr<int64_t> add = file.GetInteger("tokenizer.ggml.add_bos_token"); add.ok()) config["add_bos_token"] = *add != 0;
  // Tokens and merges are the file's bytes: invalid UTF-8 in them is replaced, not thrown.
  return GgufTokenizerFiles{root.dump(-1, ' ', false, Json::error_handler_t::replace),
                            config.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

}  // namespace engine
