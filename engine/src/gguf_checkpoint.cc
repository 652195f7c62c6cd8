#include "gguf_checkpoint.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "gguf_dequantize.h"

namespace engine {
namespace {

using Json = nlohmann::json;

// The pre-tokenizers llama.cpp names in tokenizer.ggml.pre, as Hugging Face's tokenizer.json of
// the models that use them spells them (normalizer, pre_tokenizer, decoder).
constexpr char kQwen2Pipeline[] = R"({"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]}, "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}})";
constexpr char kDeepseekV3Pipeline[] = R"({"normalizer": {"type": "Sequence", "normalizers": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}, "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}})";

// DeepSeek-LLM and DeepSeek-V2 (llama.cpp's "deepseek-llm"): its six splits, with the exact code
// points of llama.cpp's letter class (OHM SIGN and KELVIN SIGN among them, which NFC would fold into
// Ω and K and so widen the ranges they bound).
constexpr char kDeepseekLlmPipeline[] = R"json({"normalizer": {"type": "Sequence", "normalizers": []}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "[\r\n]"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "\\s?[!-/:-~！-／：-～‘-‟　-。]+"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "\\s+$"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "[一-龥ࠀ-一가-퟿]+"}, "behavior": "Isolated", "invert": false}, {"type": "Split", "pattern": {"Regex": "\\p{N}+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}, "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}})json";

// llama.cpp's token types.
// Far beyond any MoE's experts or any vocabulary: larger is a file built to exhaust memory.
constexpr int64_t kMaxExperts = 4096;
// Far beyond any head width, latent rank or head count (DeepSeek-V3: 192, 512, 128).
constexpr int64_t kMaxWidth = int64_t{1} << 16;
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

// The quantised block types the weight loader reads (model/weights.cc): those dequantised here
// but the float ones.
bool IsBlockType(uint32_t type) { return IsDequantizableGgmlType(type) && !ComputeDType(type).has_value(); }

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

// blk.N.<suffix> → model.layers.N.<HF name>; the stacked experts are split, and deepseek2's
// attn_k_b and attn_v_b joined, in ReadGgufCheckpoint.
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
      // deepseek2 (MLA, shared experts, the routing bias)
      {"attn_q_a.weight", "self_attn.q_a_proj.weight"},
      {"attn_q_a_norm.weight", "self_attn.q_a_layernorm.weight"},
      {"attn_q_b.weight", "self_attn.q_b_proj.weight"},
      {"attn_kv_a_mqa.weight", "self_attn.kv_a_proj_with_mqa.weight"},
      {"attn_kv_a_norm.weight", "self_attn.kv_a_layernorm.weight"},
      {"attn_kv_b.weight", "self_attn.kv_b_proj.weight"},
      {"exp_probs_b.bias", "mlp.gate.e_score_correction_bias"},
      {"ffn_gate_shexp.weight", "mlp.shared_experts.gate_proj.weight"},
      {"ffn_up_shexp.weight", "mlp.shared_experts.up_proj.weight"},
      {"ffn_down_shexp.weight", "mlp.shared_experts.down_proj.weight"},
  };
  for (const auto& [gguf, hf] : kNames) {
    if (suffix == gguf) return std::string(hf);
  }
  return std::nullopt;
}

// The architecture's keys as config.json spells them.
class ConfigReader {
 public:
  ConfigReader(const GgufFile& file, std::string arch, Json* config) : file_(file), arch_(std::move(arch)), config_(*config) {}

  absl::Status Integer(const char* key, const char* hf, bool required) {
    absl::StatusOr<int64_t> v = file_.GetInteger(absl::StrCat(arch_, ".", key));
    if (v.ok()) config_[hf] = *v;
    if (v.ok() || (!required && absl::IsNotFound(v.status()))) return absl::OkStatus();
    return v.status();
  }
  absl::Status Number(const char* key, const char* hf) {
    absl::StatusOr<double> v = file_.GetNumber(absl::StrCat(arch_, ".", key));
    if (v.ok() && std::isfinite(*v)) config_[hf] = *v;
    if (v.ok() || absl::IsNotFound(v.status())) return absl::OkStatus();
    return v.status();
  }
  // NotFound when absent.
  absl::StatusOr<int64_t> Get(const char* key) const { return file_.GetInteger(absl::StrCat(arch_, ".", key)); }
  bool Has(const char* key) const { return file_.Find(absl::StrCat(arch_, ".", key)) != nullptr; }

  // rope.scaling.* as config.json's rope_scaling; `log_multiplier_mscale`: deepseek2's YaRN
  // attention factor, which llama.cpp's converter writes as 0.1 · mscale_all_dim.
  absl::Status RopeScaling(bool log_multiplier_mscale) {
    if (!Has("rope.scaling.type")) return absl::OkStatus();
    absl::StatusOr<std::string> type = file_.GetString(absl::StrCat(arch_, ".rope.scaling.type"));
    if (!type.ok()) return type.status();
    if (*type != "none" && *type != "linear" && *type != "yarn") {
      return absl::UnimplementedError(
          absl::StrCat("GGUF file ", file_.path(), ": ", arch_, ".rope.scaling.type is not none, linear or yarn"));
    }
    if (*type == "none") return absl::OkStatus();
    Json scaling = {{"type", *type}};
    if (absl::StatusOr<double> f = file_.GetNumber(absl::StrCat(arch_, ".rope.scaling.factor")); f.ok()) scaling["factor"] = *f;
    if (absl::StatusOr<int64_t> o = file_.GetInteger(absl::StrCat(arch_, ".rope.scaling.original_context_length")); o.ok()) {
      scaling["original_max_position_embeddings"] = *o;
    }
    for (const auto& [key, hf] : {std::pair{"rope.scaling.yarn_beta_fast", "beta_fast"}, std::pair{"rope.scaling.yarn_beta_slow", "beta_slow"}}) {
      if (absl::StatusOr<double> v = file_.GetNumber(absl::StrCat(arch_, ".", key)); v.ok() && std::isfinite(*v)) scaling[hf] = *v;
    }
    if (log_multiplier_mscale) {
      if (absl::StatusOr<double> m = file_.GetNumber(absl::StrCat(arch_, ".rope.scaling.yarn_log_multiplier"));
          m.ok() && std::isfinite(*m)) {
        scaling["mscale"] = scaling["mscale_all_dim"] = *m / 0.1;
      }
    }
    config_["rope_scaling"] = scaling;  // the config parser refuses a type it does not know
    return absl::OkStatus();
  }

 private:
  const GgufFile& file_;
  const std::string arch_;
  Json& config_;
};

absl::Status ReadQwen3Config(const GgufFile& file, const std::string& arch, Json& config) {
  const bool moe = arch == "qwen3moe";
  ConfigReader r(file, arch, &config);
  config["model_type"] = moe ? "qwen3_moe" : "qwen3";
  for (absl::Status s : {r.Integer("attention.head_count_kv", "num_key_value_heads", false),
                         r.Integer("attention.key_length", "head_dim", false)}) {
    if (!s.ok()) return s;
  }
  if (const GgufValue* v = file.Find(absl::StrCat(arch, ".attention.value_length"));
      v != nullptr && config.contains("head_dim") && v->number != config["head_dim"].get<double>()) {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": value_length differs from key_length"));
  }
  if (absl::Status s = r.RopeScaling(false); !s.ok()) return s;
  if (moe) {
    for (absl::Status s : {r.Integer("expert_count", "num_experts", true), r.Integer("expert_used_count", "num_experts_per_tok", true),
                           r.Integer("expert_feed_forward_length", "moe_intermediate_size", true),
                           r.Integer("feed_forward_length", "intermediate_size", false)}) {
      if (!s.ok()) return s;
    }
    if (!config.contains("intermediate_size")) config["intermediate_size"] = config["moe_intermediate_size"];
    config["norm_topk_prob"] = true;  // llama.cpp's qwen3moe graph always renormalises the top-k
  } else {
    if (absl::Status s = r.Integer("feed_forward_length", "intermediate_size", true); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// llama.cpp's deepseek2 (DeepSeek-V2 and V3). Its MLA form (the `_mla` keys present) gives the
// per-head widths under key_length_mla / value_length_mla and one KV head; the older form gives
// them under key_length / value_length.
absl::Status ReadDeepseek2Config(const GgufFile& file, Json& config) {
  ConfigReader r(file, "deepseek2", &config);
  absl::StatusOr<int64_t> gating = r.Get("expert_gating_func");
  const bool sigmoid = gating.ok() && *gating == 2;
  if (gating.ok() && *gating != 1 && *gating != 2) {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": deepseek2.expert_gating_func ", *gating,
                                                 " is neither softmax (1) nor sigmoid (2)"));
  }
  config["model_type"] = sigmoid ? "deepseek_v3" : "deepseek_v2";
  config["scoring_func"] = sigmoid ? "sigmoid" : "softmax";
  for (absl::Status s : {r.Integer("attention.q_lora_rank", "q_lora_rank", false), r.Integer("attention.kv_lora_rank", "kv_lora_rank", true),
                         r.Integer("rope.dimension_count", "qk_rope_head_dim", true),
                         r.Integer("feed_forward_length", "intermediate_size", true),
                         r.Integer("leading_dense_block_count", "first_k_dense_replace", false),
                         r.Integer("expert_count", "n_routed_experts", true), r.Integer("expert_used_count", "num_experts_per_tok", true),
                         r.Integer("expert_feed_forward_length", "moe_intermediate_size", true),
                         r.Integer("expert_shared_count", "n_shared_experts", false),
                         r.Integer("expert_group_count", "n_group", false), r.Integer("expert_group_used_count", "topk_group", false),
                         r.Number("expert_weights_scale", "routed_scaling_factor"), r.RopeScaling(true)}) {
    if (!s.ok()) return s;
  }
  const bool mla = r.Has("attention.key_length_mla");
  absl::StatusOr<int64_t> key = r.Get(mla ? "attention.key_length_mla" : "attention.key_length");
  absl::StatusOr<int64_t> value = r.Get(mla ? "attention.value_length_mla" : "attention.value_length");
  if (!key.ok()) return key.status();
  if (!value.ok()) return value.status();
  const int64_t rope = config["qk_rope_head_dim"].get<int64_t>();
  if (rope < 1 || rope > kMaxWidth || *key <= rope || *key > kMaxWidth || *value < 1 || *value > kMaxWidth) {
    return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": deepseek2's key width ", *key,
                                            " must exceed rope.dimension_count ", rope, " and its value width ", *value,
                                            " be positive (each at most ", kMaxWidth, ")"));
  }
  config["qk_nope_head_dim"] = *key - rope;
  config["v_head_dim"] = *value;
  config["num_key_value_heads"] = config["num_attention_heads"];
  if (absl::StatusOr<int64_t> norm = r.Get("expert_weights_norm"); norm.ok()) config["norm_topk_prob"] = *norm != 0;
  const int64_t groups = config.value("n_group", int64_t{1});
  // The routing bias (exp_probs_b) is DeepSeek-V3's noaux_tc; without it, V2's group-limited or
  // plain greedy choice.
  bool routing_bias = false;
  for (const auto& [name, t] : file.tensors()) routing_bias = routing_bias || name.ends_with(".exp_probs_b.bias");
  config["topk_method"] = routing_bias ? "noaux_tc" : groups > 1 ? "group_limited_greedy" : "greedy";
  // MTP layers are counted in the blocks; llama.cpp does not run them, nor does the engine from
  // GGUF (their tensors are skipped).
  if (absl::StatusOr<int64_t> n = r.Get("nextn_predict_layers"); n.ok()) {
    const int64_t blocks = config["num_hidden_layers"].get<int64_t>();
    if (*n < 0 || *n >= blocks) {
      return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": deepseek2.nextn_predict_layers ", *n,
                                              " is not below the block count ", blocks));
    }
    config["num_hidden_layers"] = blocks - *n;
  }
  return absl::OkStatus();
}

// kv_b_proj [heads · (nope + v), rank] from llama.cpp's halves, attn_k_b {nope, rank, heads} (W_UK
// per head, transposed) and attn_v_b {rank, v, heads}: in their own element type when both are
// the same float type (bits moved, not converted), else dequantised to f32.
absl::Status JoinKvB(const GgufFile& file, uint64_t file_bytes, const GgufTensor& k_b, const GgufTensor& v_b,
                     const Json& config, const std::string& name, GgufCheckpoint* out) {
  const int64_t heads = config["num_attention_heads"].get<int64_t>(), rank = config["kv_lora_rank"].get<int64_t>();
  const int64_t nope = config["qk_nope_head_dim"].get<int64_t>(), vdim = config["v_head_dim"].get<int64_t>();
  if (heads < 1 || heads > kMaxWidth || rank < 1 || rank > kMaxWidth) {
    return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": deepseek2 with ", heads, " heads and kv_lora_rank ", rank,
                                            " (each from 1 to ", kMaxWidth, ")"));
  }
  const auto dims_are = [](const GgufTensor& t, std::initializer_list<int64_t> want) {
    if (t.dims.size() != want.size()) return false;
    size_t i = 0;
    for (int64_t d : want) {
      if (t.dims[i++] != static_cast<uint64_t>(d)) return false;
    }
    return true;
  };
  if (!dims_are(k_b, {nope, rank, heads}) || !dims_are(v_b, {rank, vdim, heads})) {
    return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": ", k_b.name, " and ", v_b.name, " must be {", nope, ", ",
                                            rank, ", ", heads, "} and {", rank, ", ", vdim, ", ", heads, "}"));
  }
  for (const GgufTensor* t : {&k_b, &v_b}) {
    if (!IsDequantizableGgmlType(t->type)) {
      return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": ", t->name, " has dtype ", GgmlTypeName(t->type),
                                                   "; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K"));
    }
  }
  // GgufFile::Open checked each tensor's bytes against its type and dimensions: a row's bytes are
  // the tensor's over its rows. One float type for both halves moves their elements as they are;
  // anything else becomes f32.
  const uint64_t k_row = k_b.size_bytes / static_cast<uint64_t>(rank * heads);
  const uint64_t v_row = v_b.size_bytes / static_cast<uint64_t>(vdim * heads);
  const bool same_float = k_b.type == v_b.type && ComputeDType(k_b.type).has_value();
  const uint64_t element = same_float ? k_row / static_cast<uint64_t>(nope) : sizeof(float);
  const int64_t rows = heads * (nope + vdim);
  // What is rebuilt may not outgrow the file (f32 from 4-bit blocks is 7 times their bytes, but
  // W_UK and W_UV are a sliver of a real model): a file of nothing but latent halves does not
  // make the reader allocate many times its size.
  const uint64_t joined_bytes = static_cast<uint64_t>(rows) * static_cast<uint64_t>(rank) * element;
  if (out->derived_bytes + joined_bytes > file_bytes) {
    return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": ", k_b.name, " and ", v_b.name,
                                            " would rebuild more bytes than the file holds"));
  }
  out->derived_bytes += joined_bytes;
  std::vector<uint8_t> bytes(joined_bytes);
  TensorInfo info;
  info.name = name;
  info.shape = {rows, rank};
  info.file = absl::StrCat(file.path(), " (GGUF tensors ", k_b.name, " and ", v_b.name, ")");
  if (same_float) {
    // kv_b[h·(nope+v) + i][j] = k_b[h][j][i] for i < nope, v_b[h][i - nope][j] after.
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < nope; ++i) {
        for (int64_t j = 0; j < rank; ++j) {
          std::memcpy(&bytes[((h * (nope + vdim) + i) * rank + j) * element], k_b.data + ((h * rank + j) * nope + i) * element, element);
        }
      }
      std::memcpy(&bytes[(h * (nope + vdim) + nope) * rank * element], v_b.data + h * vdim * v_row, vdim * v_row);
    }
    info.dtype_name = GgmlTypeName(k_b.type);
    info.dtype = ComputeDType(k_b.type);
  } else {
    float* kv = reinterpret_cast<float*>(bytes.data());
    std::vector<float> row(nope);
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t j = 0; j < rank; ++j) {
        DequantizeGgufRow(static_cast<GgmlType>(k_b.type), k_b.data + (h * rank + j) * k_row, nope, row.data());
        for (int64_t i = 0; i < nope; ++i) kv[(h * (nope + vdim) + i) * rank + j] = row[i];
      }
      for (int64_t i = 0; i < vdim; ++i) {
        DequantizeGgufRow(static_cast<GgmlType>(v_b.type), v_b.data + (h * vdim + i) * v_row, rank,
                          &kv[(h * (nope + vdim) + nope + i) * rank]);
      }
    }
    info.dtype_name = "F32";
    info.dtype = DType::kF32;
  }
  info.size_bytes = bytes.size();
  out->derived.push_back(std::move(bytes));
  info.data = out->derived.back().data();  // a vector's buffer stays put when the vector moves
  out->tensors.push_back(std::move(info));
  return absl::OkStatus();
}

}  // namespace

bool IsGgufPath(const std::string& path) {
  struct stat st {};
  return absl::EndsWithIgnoreCase(path, ".gguf") && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

absl::StatusOr<GgufCheckpoint> ReadGgufCheckpoint(const GgufFile& file) {
  absl::StatusOr<std::string> arch = file.GetString("general.architecture");
  if (!arch.ok()) return arch.status();
  if (*arch != "qwen3moe" && *arch != "qwen3" && *arch != "deepseek2") {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": architecture \"", *arch,
                                                 "\" is not read from GGUF (qwen3moe, qwen3, deepseek2)"));
  }
  const GgufTensor* embed = file.FindTensor("token_embd.weight");
  if (embed == nullptr || embed->dims.size() != 2) {
    return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": no 2-D token_embd.weight"));
  }
  // Hyper-parameters: the keys llama.cpp writes for the architecture, as config.json spells them.
  Json config;
  config["vocab_size"] = embed->dims[1];
  ConfigReader r(file, *arch, &config);
  for (absl::Status s : {r.Integer("embedding_length", "hidden_size", true), r.Integer("block_count", "num_hidden_layers", true),
                         r.Integer("attention.head_count", "num_attention_heads", true),
                         r.Integer("context_length", "max_position_embeddings", false),
                         r.Number("attention.layer_norm_rms_epsilon", "rms_norm_eps"), r.Number("rope.freq_base", "rope_theta")}) {
    if (!s.ok()) return s;
  }
  // llama.cpp's default base when the key is absent.
  if (!config.contains("rope_theta")) config["rope_theta"] = 10000.0;
  const bool deepseek = *arch == "deepseek2";
  if (absl::Status s = deepseek ? ReadDeepseek2Config(file, config) : ReadQwen3Config(file, *arch, config); !s.ok()) {
    return s;
  }
  config["tie_word_embeddings"] = file.FindTensor("output.weight") == nullptr;
  for (const auto& [key, hf] : {std::pair{"tokenizer.ggml.bos_token_id", "bos_token_id"},
                                std::pair{"tokenizer.ggml.eos_token_id", "eos_token_id"}}) {
    absl::StatusOr<int64_t> id = file.GetInteger(key);
    if (id.ok() && *id >= 0 && *id < (int64_t{1} << 30)) config[hf] = *id;  // others name no token
  }

  GgufCheckpoint out;
  out.config_json = config.dump(-1, ' ', false, Json::error_handler_t::replace);
  const int64_t experts = config.value(deepseek ? "n_routed_experts" : "num_experts", int64_t{0});
  const int64_t layers = config["num_hidden_layers"].get<int64_t>();
  uint64_t file_bytes = 0;
  for (const auto& [name, t] : file.tensors()) file_bytes += t.size_bytes;
  for (const auto& [name, t] : file.tensors()) {
    if (name == "token_embd.weight") out.tensors.push_back(ViewOf(file, t, "model.embed_tokens.weight"));
    if (name == "output_norm.weight") out.tensors.push_back(ViewOf(file, t, "model.norm.weight"));
    if (name == "output.weight") out.tensors.push_back(ViewOf(file, t, "lm_head.weight"));
    if (!name.starts_with("blk.")) continue;
    const size_t dot = name.find('.', 4);
    if (dot == std::string::npos) continue;
    const std::string layer = name.substr(4, dot - 4);
    // A layer's number as llama.cpp writes it: digits, no leading zero (blk.01 would be another
    // name for layer 1 that nothing reads).
    if (layer.empty() || layer.size() > 6 || layer.find_first_not_of("0123456789") != std::string::npos ||
        (layer.size() > 1 && layer[0] == '0')) {
      continue;
    }
    if (std::stoll(layer) >= layers) continue;  // an MTP layer (nextn) the engine does not run from GGUF
    const std::string prefix = absl::StrCat("model.layers.", layer, ".");
    const std::string suffix = name.substr(dot + 1);
    if (std::optional<std::string> hf = LayerTensorName(suffix)) {
      out.tensors.push_back(ViewOf(file, t, prefix + *hf));
      continue;
    }
    if (deepseek && suffix == "attn_k_b.weight") {
      const GgufTensor* v_b = file.FindTensor(absl::StrCat("blk.", layer, ".attn_v_b.weight"));
      if (v_b == nullptr) return absl::DataLossError(absl::StrCat("GGUF file ", file.path(), ": ", name, " without its attn_v_b"));
      if (absl::Status s = JoinKvB(file, file_bytes, t, *v_b, config, prefix + "self_attn.kv_b_proj.weight", &out); !s.ok()) {
        return s;
      }
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
                                                     "; supported: F32, BF16, F16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K"));
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
  const char* pipeline = *pre == "qwen2"          ? kQwen2Pipeline
                         : *pre == "deepseek-v3"  ? kDeepseekV3Pipeline
                         : *pre == "deepseek-llm" ? kDeepseekLlmPipeline
                                                  : nullptr;
  if (pipeline == nullptr) {
    return absl::UnimplementedError(absl::StrCat("GGUF file ", file.path(), ": tokenizer.ggml.pre \"", *pre,
                                                 "\" is not read (qwen2, deepseek-v3, deepseek-llm)"));
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
