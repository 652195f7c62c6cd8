#include "engine/random_checkpoint.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace engine {
namespace {

void AddMlp(std::vector<TensorSpec>* out, const std::string& prefix, int64_t hidden, int64_t width) {
  out->push_back({prefix + "gate_proj.weight", {width, hidden}});
  out->push_back({prefix + "up_proj.weight", {width, hidden}});
  out->push_back({prefix + "down_proj.weight", {hidden, width}});
}

void AddLayer(std::vector<TensorSpec>* out, const ModelConfig& c, int layer) {
  const std::string p = absl::StrCat("model.layers.", layer, ".");
  const int64_t hidden = c.hidden_size, heads = c.num_attention_heads;
  out->push_back({p + "input_layernorm.weight", {hidden}, true});
  out->push_back({p + "post_attention_layernorm.weight", {hidden}, true});
  const std::string a = p + "self_attn.";
  if (c.is_mla()) {
    if (c.q_lora_rank > 0) {
      out->push_back({a + "q_a_proj.weight", {c.q_lora_rank, hidden}});
      out->push_back({a + "q_a_layernorm.weight", {c.q_lora_rank}, true});
      out->push_back({a + "q_b_proj.weight", {heads * c.qk_head_dim(), c.q_lora_rank}});
    } else {
      out->push_back({a + "q_proj.weight", {heads * c.qk_head_dim(), hidden}});
    }
    out->push_back({a + "kv_a_proj_with_mqa.weight", {c.kv_lora_rank + c.qk_rope_head_dim, hidden}});
    out->push_back({a + "kv_a_layernorm.weight", {c.kv_lora_rank}, true});
    out->push_back({a + "kv_b_proj.weight", {heads * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank}});
    out->push_back({a + "o_proj.weight", {hidden, heads * c.v_head_dim}});
  } else {
    const int64_t kv = c.num_key_value_heads;
    out->push_back({a + "q_proj.weight", {heads * c.head_dim, hidden}});
    out->push_back({a + "k_proj.weight", {kv * c.head_dim, hidden}});
    out->push_back({a + "v_proj.weight", {kv * c.head_dim, hidden}});
    out->push_back({a + "o_proj.weight", {hidden, heads * c.head_dim}});
    out->push_back({a + "q_norm.weight", {c.head_dim}, true});
    out->push_back({a + "k_norm.weight", {c.head_dim}, true});
  }
  if (!c.IsMoeLayer(layer)) {
    AddMlp(out, p + "mlp.", hidden, c.intermediate_size);
    return;
  }
  out->push_back({p + "mlp.gate.weight", {c.num_routed_experts, hidden}});
  if (c.topk_method == TopkMethod::kNoauxTc) {
    // A small random bias, so selection differs from plain top-k as in trained checkpoints.
    out->push_back({p + "mlp.gate.e_score_correction_bias", {c.num_routed_experts}});
  }
  for (int e = 0; e < c.num_routed_experts; ++e) {
    AddMlp(out, absl::StrCat(p, "mlp.experts.", e, "."), hidden, c.moe_intermediate_size);
  }
  if (c.num_shared_experts > 0) {
    AddMlp(out, p + "mlp.shared_experts.", hidden, static_cast<int64_t>(c.moe_intermediate_size) * c.num_shared_experts);
  }
}

// xorshift64*: fast, and the same stream on every platform.
struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
  }
  // Uniform in [-1, 1).
  float Symmetric() { return static_cast<float>(static_cast<int64_t>(Next()) >> 11) * 0x1.0p-52f; }
};

}  // namespace

std::vector<TensorSpec> ExpectedTensors(const ModelConfig& c) {
  std::vector<TensorSpec> tensors;
  tensors.push_back({"model.embed_tokens.weight", {c.vocab_size, c.hidden_size}});
  for (int i = 0; i < c.num_hidden_layers; ++i) AddLayer(&tensors, c, i);
  tensors.push_back({"model.norm.weight", {c.hidden_size}, true});
  if (!c.tie_word_embeddings) tensors.push_back({"lm_head.weight", {c.vocab_size, c.hidden_size}});
  for (int k = 0; k < c.num_nextn_predict_layers; ++k) {
    const int index = c.num_hidden_layers + k;
    const std::string p = absl::StrCat("model.layers.", index, ".");
    tensors.push_back({p + "enorm.weight", {c.hidden_size}, true});
    tensors.push_back({p + "hnorm.weight", {c.hidden_size}, true});
    tensors.push_back({p + "eh_proj.weight", {c.hidden_size, 2 * c.hidden_size}});
    AddLayer(&tensors, c, index);
    // Real DeepSeek-V3 checkpoints give the MTP layer its own copies of both.
    tensors.push_back({p + "embed_tokens.weight", {c.vocab_size, c.hidden_size}});
    tensors.push_back({p + "shared_head.norm.weight", {c.hidden_size}, true});
    tensors.push_back({p + "shared_head.head.weight", {c.vocab_size, c.hidden_size}});
  }
  return tensors;
}

absl::Status WriteRandomCheckpoint(const std::string& config_json, const std::string& dir,
                                   const RandomCheckpointOptions& options) {
  absl::StatusOr<ModelConfig> config = ParseModelConfig(config_json, "config.json");
  if (!config.ok()) return config.status();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(dir, ": ", ec.message()));
  {
    std::ofstream out(std::filesystem::path(dir) / "config.json");
    out << config_json;
    if (!out) return absl::PermissionDeniedError(absl::StrCat(dir, "/config.json: cannot write"));
  }
  std::vector<TensorSpec> tensors = ExpectedTensors(*config);
  const bool fp8 = options.dtype == DType::kF8E4M3;
  if (fp8) {
    // DeepSeek-V3's layout: each matrix in E4M3 with one float32 scale per 128×128 block in
    // `<name>_scale_inv` (weight = fp8 · scale).
    const size_t matrices = tensors.size();
    for (size_t i = 0; i < matrices; ++i) {
      if (tensors[i].is_norm || tensors[i].shape.size() != 2) continue;
      TensorSpec scale{tensors[i].name + "_scale_inv", {(tensors[i].shape[0] + 127) / 128, (tensors[i].shape[1] + 127) / 128}};
      scale.is_scale = true;
      tensors.push_back(scale);
    }
  }
  const size_t element = DTypeSize(options.dtype);
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}, {"generator", "agentd random checkpoint"}};
  uint64_t offset = 0;
  for (const TensorSpec& t : tensors) {
    uint64_t count = 1;
    for (int64_t d : t.shape) count *= static_cast<uint64_t>(d);
    // Norms stay f32, as small; so do an FP8 checkpoint's vectors (biases), as DeepSeek-V3's do.
    const bool f32 = t.is_norm || t.is_scale || options.dtype == DType::kF32 || (fp8 && t.shape.size() != 2);
    const uint64_t bytes = count * (f32 ? 4 : element);
    header[t.name] = {{"dtype", f32 ? "F32" : DTypeName(options.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  std::ofstream out(std::filesystem::path(dir) / "model.safetensors", std::ios::binary | std::ios::trunc);
  uint64_t header_size = header_text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((header_size >> (8 * i)) & 0xff));
  out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));

  // U(-a, a) has standard deviation a / sqrt(3). FP8 values span ±448 scaled by a / 448.
  const float amplitude = options.stddev * std::sqrt(3.0f);
  const float fp8_scale = amplitude / 448.0f;
  std::vector<char> buffer;
  for (size_t index = 0; index < tensors.size(); ++index) {
    const TensorSpec& t = tensors[index];
    uint64_t count = 1;
    for (int64_t d : t.shape) count *= static_cast<uint64_t>(d);
    const bool f32 = t.is_norm || t.is_scale || options.dtype == DType::kF32 || (fp8 && t.shape.size() != 2);
    buffer.resize(count * (f32 ? 4 : element));
    // Two generators fill halves of big tensors in parallel; seeds depend on the tensor index.
    auto fill = [&](uint64_t begin, uint64_t end, uint64_t seed) {
      Random random(seed);
      for (uint64_t i = begin; i < end; ++i) {
        if (t.is_scale) {
          std::memcpy(&buffer[i * 4], &fp8_scale, 4);
          continue;
        }
        float v = t.is_norm ? 1.0f : amplitude * random.Symmetric();
        if (f32) {
          std::memcpy(&buffer[i * 4], &v, 4);
        } else if (fp8) {
          buffer[i] = static_cast<char>(F32ToF8E4M3(v / fp8_scale));
        } else {
          uint16_t h = options.dtype == DType::kBF16 ? F32ToBf16(v) : F32ToF16(v);
          std::memcpy(&buffer[i * 2], &h, 2);
        }
      }
    };
    const uint64_t half = count / 2;
    std::thread second(fill, half, count, options.seed * 1000003 + index * 2 + 1);
    fill(0, half, options.seed * 1000003 + index * 2);
    second.join();
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  }
  if (!out.flush()) return absl::PermissionDeniedError(absl::StrCat(dir, "/model.safetensors: cannot write"));
  return absl::OkStatus();
}

}  // namespace engine
