// The transformer's forward pass (engine/src/model/transformer.cc) beyond the fixtures' shapes:
// a position decoded alone through the KV cache gives the logits the whole sequence's pass gives
// it, bit for bit — speculation's verify passes, the quote constraint's replays and the prefix
// cache all rely on it — on the paths the fixtures' tiny widths do not take.
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/model.h"
#include "engine/random_checkpoint.h"
#include "nlohmann/json.hpp"
#include "support/daemon_process.h"

namespace engine {
namespace {

// Random weights for `config` (a fixture's config.json with some fields changed); then, for 150
// tokens, each position decoded alone through the KV cache against the whole sequence's pass.
void ExpectDecodingGivesThePromptPassesBits(const std::string& fixture, const nlohmann::json& changes) {
  testing_support::TempDir dir;
  nlohmann::json config = nlohmann::json::parse(
      testing_support::ReadFile(std::string(AGENTD_TEST_DATA_DIR) + "/models/" + fixture + "/config.json"));
  config.update(changes);
  ASSERT_TRUE(WriteRandomCheckpoint(config.dump(), dir.Join("model"), {.stddev = 0.25f}).ok());
  auto model = Model::Load({.model_dir = dir.Join("model")});
  ASSERT_TRUE(model.ok()) << model.status();
  const int64_t vocab = (*model)->config().vocab_size;
  std::mt19937 rng(2);
  std::uniform_int_distribution<int32_t> token(2, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> tokens(150);  // past two shares of 64 positions each
  for (int32_t& t : tokens) t = token(rng);

  auto whole_cache = (*model)->NewCache();
  ForwardResult whole;
  ASSERT_TRUE((*model)->Forward(tokens, whole_cache.get(), {.all_logits = true}, &whole).ok());
  ASSERT_EQ(whole.logits.size(), tokens.size() * vocab);

  auto cache = (*model)->NewCache();
  for (size_t t = 0; t < tokens.size(); ++t) {
    ForwardResult step;
    ASSERT_TRUE((*model)->Forward(std::span(&tokens[t], 1), cache.get(), {}, &step).ok());
    ASSERT_EQ(step.logits.size(), static_cast<size_t>(vocab));
    ASSERT_EQ(std::memcmp(step.logits.data(), &whole.logits[t * vocab], vocab * sizeof(float)), 0)
        << fixture << " " << changes.dump() << ": position " << t;
  }
}

// The DeepSeek-V3 fixture's layout with a latent of 64 (the width decoding reads in place from
// the cache, as the shipped model's) and 20 heads (a full group of 16 and a partial one).
TEST(TransformerTest, ALatentAttentionDecodeStepGivesThePromptPassesBits) {
  ExpectDecodingGivesThePromptPassesBits(
      "deepseek_v3_tiny",
      {{"kv_lora_rank", 64}, {"num_attention_heads", 20}, {"num_key_value_heads", 20}, {"num_nextn_predict_layers", 0}});
}

// The Qwen3-MoE fixture's layout with heads of 64 (the width decoding reads in place), 4 and 5
// query heads per KV head.
TEST(TransformerTest, AGroupedQueryAttentionDecodeStepGivesThePromptPassesBits) {
  for (const auto& [heads, kv_heads] : {std::pair{8, 2}, std::pair{10, 2}}) {
    ExpectDecodingGivesThePromptPassesBits(
        "qwen3_moe_tiny", {{"head_dim", 64}, {"num_attention_heads", heads}, {"num_key_value_heads", kv_heads}});
  }
}

}  // namespace
}  // namespace engine
