#include "support/gguf_model.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "engine/dtype.h"
#include "engine/model_config.h"
#include "engine/random_checkpoint.h"
#include "engine/safetensors.h"
#include "nlohmann/json.hpp"
#include "support/safetensors_writer.h"

namespace testing_support {

std::string GgufWriterUnavailable() {
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0) return "";
  return "needs /usr/bin/python3 with numpy (python3-numpy) to write GGUF files";
}

namespace {

// A random checkpoint of `config` in DIR/hf whose MoE routers are f32, as llama.cpp's converter
// stores them, so that a bf16 GGUF holds the very same weights.
std::string WriteRandomWithF32Routers(const nlohmann::json& config, const std::string& dir) {
  const std::string checkpoint = dir + "/hf";
  const absl::Status written = engine::WriteRandomCheckpoint(config.dump(), checkpoint, {.stddev = 0.25f, .seed = 7});
  EXPECT_TRUE(written.ok()) << written;
  if (!written.ok()) return "";
  const std::string weights = checkpoint + "/model.safetensors";
  std::vector<RawTensor> tensors;
  {
    auto file = engine::SafetensorsFile::Open(weights);
    EXPECT_TRUE(file.ok()) << file.status();
    if (!file.ok()) return "";
    for (const auto& [name, t] : (*file)->tensors()) {
      RawTensor raw{name, t.dtype_name, t.shape, std::string(reinterpret_cast<const char*>(t.data), t.size_bytes)};
      if (name.ends_with("mlp.gate.weight")) {
        raw.dtype = "F32";
        raw.bytes.clear();
        for (int64_t i = 0; i < t.NumElements(); ++i) {
          uint16_t bits;
          std::memcpy(&bits, t.data + 2 * i, 2);
          const float value = engine::Bf16ToF32(bits);
          raw.bytes.append(reinterpret_cast<const char*>(&value), 4);
        }
      }
      tensors.push_back(std::move(raw));
    }
  }
  WriteSafetensors(weights, tensors);
  return checkpoint;
}

}  // namespace

std::string WriteRandomQwen3Moe(const std::string& dir, const RandomQwen3MoeOptions& options) {
  const nlohmann::json config = {
      {"architectures", {"Qwen3MoeForCausalLM"}}, {"model_type", "qwen3_moe"}, {"vocab_size", 151936},
      {"hidden_size", options.hidden}, {"intermediate_size", 128}, {"moe_intermediate_size", options.expert_width}, {"num_hidden_layers", 2},
      {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"head_dim", 16}, {"num_experts", 8},
      {"num_experts_per_tok", 2}, {"norm_topk_prob", true}, {"rms_norm_eps", 1e-6}, {"rope_theta", 1e6},
      {"max_position_embeddings", 4096}, {"tie_word_embeddings", false}, {"bos_token_id", 151643},
      {"eos_token_id", 151645}};
  return WriteRandomWithF32Routers(config, dir);
}

std::string WriteRandomDeepseekV3(const std::string& dir) {
  const nlohmann::json config = {
      {"architectures", {"DeepseekV3ForCausalLM"}}, {"model_type", "deepseek_v3"}, {"vocab_size", 129280},
      {"hidden_size", 64}, {"intermediate_size", 128}, {"moe_intermediate_size", 32}, {"num_hidden_layers", 3},
      {"num_attention_heads", 4}, {"num_key_value_heads", 4}, {"q_lora_rank", 96}, {"kv_lora_rank", 64},
      {"qk_nope_head_dim", 32}, {"qk_rope_head_dim", 16}, {"v_head_dim", 32}, {"n_routed_experts", 8},
      {"n_shared_experts", 1}, {"num_experts_per_tok", 2}, {"n_group", 2}, {"topk_group", 1},
      {"first_k_dense_replace", 1}, {"norm_topk_prob", true}, {"scoring_func", "sigmoid"}, {"topk_method", "noaux_tc"},
      {"routed_scaling_factor", 2.5}, {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"max_position_embeddings", 16384},
      {"rope_scaling", {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 4096}, {"beta_fast", 32},
                        {"beta_slow", 1}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}}},
      {"num_nextn_predict_layers", 0}, {"tie_word_embeddings", false}, {"bos_token_id", 0}, {"eos_token_id", 1}};
  return WriteRandomWithF32Routers(config, dir);
}

std::string WriteRandomDeepseekV2(const std::string& dir) {
  const nlohmann::json config = {
      {"architectures", {"DeepseekV2ForCausalLM"}}, {"model_type", "deepseek_v2"}, {"vocab_size", 129280},
      {"hidden_size", 64}, {"intermediate_size", 96}, {"moe_intermediate_size", 32}, {"num_hidden_layers", 3},
      {"num_attention_heads", 4}, {"num_key_value_heads", 4}, {"q_lora_rank", nullptr}, {"kv_lora_rank", 32},
      {"qk_nope_head_dim", 16}, {"qk_rope_head_dim", 8}, {"v_head_dim", 16}, {"n_routed_experts", 8},
      {"n_shared_experts", 2}, {"num_experts_per_tok", 3}, {"n_group", 1}, {"topk_group", 1},
      {"first_k_dense_replace", 1}, {"norm_topk_prob", false}, {"scoring_func", "softmax"}, {"topk_method", "greedy"},
      {"routed_scaling_factor", 1.0}, {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"max_position_embeddings", 2048},
      {"rope_scaling", {{"type", "yarn"}, {"factor", 8.0}, {"original_max_position_embeddings", 256}, {"beta_fast", 32},
                        {"beta_slow", 1}, {"mscale", 0.707}, {"mscale_all_dim", 0.707}}},
      {"tie_word_embeddings", false}, {"bos_token_id", 100000}, {"eos_token_id", 100001}};
  return WriteRandomWithF32Routers(config, dir);
}

std::string WriteGguf(const std::string& checkpoint, const std::string& dir, const std::string& type) {
  const std::string out = dir + "/model-" + type + ".gguf";
  auto config = engine::LoadModelConfig(checkpoint);
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return "";
  const char* tokenizer = config->is_mla() ? "deepseek_v3" : "qwen3";
  const std::string command = absl::StrCat("/usr/bin/python3 ", AGENTD_SOURCE_DIR, "/bench/peer/write_gguf.py --checkpoint ",
                                           checkpoint, " --tokenizer ", AGENTD_TEST_DATA_DIR, "/tokenizers/", tokenizer,
                                           "/tokenizer.json --out ", out, " --type ", type, " >/dev/null");
  const int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << command;
  return rc == 0 ? out : "";
}

}  // namespace testing_support
