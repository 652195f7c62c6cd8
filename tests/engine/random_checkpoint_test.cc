// Random checkpoints written for a config load with the real loader, for every architecture.
#include "engine/random_checkpoint.h"

#include <cmath>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/dtype.h"
#include "engine/model.h"
#include "support/daemon_process.h"

namespace engine {
namespace {

class RandomCheckpointTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RandomCheckpointTest, WrittenCheckpointLoadsAndRuns) {
  testing_support::TempDir dir;
  const std::string config_json =
      testing_support::ReadFile(std::string(AGENTD_TEST_DATA_DIR) + "/models/" + GetParam() + "/config.json");
  ASSERT_TRUE(WriteRandomCheckpoint(config_json, dir.Join("model")).ok());
  auto model = Model::Load({.model_dir = dir.Join("model")});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->weight_dtype(), "bf16");
  auto cache = (*model)->NewCache();
  ForwardResult result;
  std::vector<int32_t> ids = {1, 2, 3, 4};
  ASSERT_TRUE((*model)->Forward(ids, cache.get(), {.all_logits = true}, &result).ok());
  for (float v : result.logits) ASSERT_TRUE(std::isfinite(v));
  // Parameter counts agree with the fixture of the same config (which holds every tensor).
  auto reference = Model::Load({.model_dir = std::string(AGENTD_TEST_DATA_DIR) + "/models/" + GetParam()});
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ((*model)->parameter_count(), (*reference)->parameter_count());
  EXPECT_EQ((*model)->active_parameter_count(), (*reference)->active_parameter_count());
  EXPECT_LT((*model)->active_weight_bytes(), (*reference)->active_weight_bytes());  // bf16 vs f32
}

// DeepSeek-V3's FP8 layout: E4M3 matrices with block scales, which the loader dequantises; the
// same random weights as bf16 to within E4M3's rounding (3 mantissa bits: 6%).
TEST_P(RandomCheckpointTest, Fp8CheckpointLoadsLikeItsBf16Twin) {
  testing_support::TempDir dir;
  const std::string config_json =
      testing_support::ReadFile(std::string(AGENTD_TEST_DATA_DIR) + "/models/" + GetParam() + "/config.json");
  ASSERT_TRUE(WriteRandomCheckpoint(config_json, dir.Join("bf16")).ok());
  ASSERT_TRUE(WriteRandomCheckpoint(config_json, dir.Join("fp8"), {.dtype = DType::kF8E4M3}).ok());
  auto bf16 = Model::Load({.model_dir = dir.Join("bf16")});
  auto fp8 = Model::Load({.model_dir = dir.Join("fp8")});
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  ASSERT_TRUE(fp8.ok()) << fp8.status();
  EXPECT_EQ((*fp8)->parameter_count(), (*bf16)->parameter_count());
  std::vector<int32_t> ids = {1, 2, 3, 4};
  ForwardResult a, b;
  auto cache_a = (*bf16)->NewCache();
  auto cache_b = (*fp8)->NewCache();
  ASSERT_TRUE((*bf16)->Forward(ids, cache_a.get(), {.all_logits = true}, &a).ok());
  ASSERT_TRUE((*fp8)->Forward(ids, cache_b.get(), {.all_logits = true}, &b).ok());
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.logits.size(); ++i) {
    diff += (a.logits[i] - b.logits[i]) * (a.logits[i] - b.logits[i]);
    norm += a.logits[i] * a.logits[i];
  }
  EXPECT_LT(std::sqrt(diff / norm), 0.15) << "the fp8 twin computes something else";
  EXPECT_GT(std::sqrt(diff / norm), 0.0) << "the fp8 twin was not rounded at all";
}

TEST(Fp8Test, EveryE4M3CodeRoundTripsAndOthersRoundToTheNearest) {
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7f) == 0x7f) continue;  // NaN
    EXPECT_EQ(F32ToF8E4M3(F8E4M3ToF32(static_cast<uint8_t>(code))), code == 0x80 ? 0x80 : code) << code;
  }
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(1000.0f)), 448.0f);    // saturates
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(-1000.0f)), -448.0f);
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(1.0625f)), 1.125f);    // halfway between 1 and 1.125: away
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(1.06f)), 1.0f);
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(0x1.8p-9f)), 0x1.0p-8f);  // subnormal, 1.5 steps: away
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RandomCheckpointTest,
                         ::testing::Values("deepseek_v3_tiny", "deepseek_v2_lite_tiny", "qwen3_moe_tiny", "qwen3_dense_tiny"));

TEST(ModelLoadErrorsTest, MalformedCheckpointsAreRejectedWithTheTensorOrFile) {
  testing_support::TempDir dir;
  const std::string fixture = std::string(AGENTD_TEST_DATA_DIR) + "/models/qwen3_moe_tiny";
  const std::string config_json = testing_support::ReadFile(fixture + "/config.json");
  const std::string weights = testing_support::ReadFile(fixture + "/model.safetensors");

  // Truncated weights file.
  std::filesystem::create_directories(dir.Join("truncated"));
  testing_support::WriteFile(dir.Join("truncated/config.json"), config_json);
  testing_support::WriteFile(dir.Join("truncated/model.safetensors"), weights.substr(0, weights.size() / 2));
  auto truncated = Model::Load({.model_dir = dir.Join("truncated")});
  EXPECT_THAT(truncated.status().message(), ::testing::HasSubstr("model.safetensors"));
  EXPECT_THAT(truncated.status().message(), ::testing::HasSubstr("truncated"));

  // A header length pointing past the end.
  std::filesystem::create_directories(dir.Join("header"));
  testing_support::WriteFile(dir.Join("header/config.json"), config_json);
  std::string bad_header = weights;
  bad_header[7] = '\x7f';
  testing_support::WriteFile(dir.Join("header/model.safetensors"), bad_header);
  EXPECT_THAT(Model::Load({.model_dir = dir.Join("header")}).status().message(), ::testing::HasSubstr("header"));

  // A config whose sizes do not match the tensors.
  std::filesystem::create_directories(dir.Join("shape"));
  std::string wrong = config_json;
  wrong.replace(wrong.find("\"moe_intermediate_size\": 32"), 27, "\"moe_intermediate_size\": 48");
  testing_support::WriteFile(dir.Join("shape/config.json"), wrong);
  testing_support::WriteFile(dir.Join("shape/model.safetensors"), weights);
  auto misshapen = Model::Load({.model_dir = dir.Join("shape")});
  EXPECT_THAT(misshapen.status().message(), ::testing::HasSubstr("mlp.experts.0.gate_proj.weight"));
  EXPECT_THAT(misshapen.status().message(), ::testing::HasSubstr("[48, 64]"));

  // A checkpoint missing an expert.
  testing_support::WriteFile(dir.Join("missing.json"), config_json);
  std::string more_experts = config_json;
  more_experts.replace(more_experts.find("\"num_experts\": 8"), 16, "\"num_experts\": 9");
  std::filesystem::create_directories(dir.Join("missing"));
  testing_support::WriteFile(dir.Join("missing/config.json"), more_experts);
  testing_support::WriteFile(dir.Join("missing/model.safetensors"), weights);
  auto missing = Model::Load({.model_dir = dir.Join("missing")});
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("mlp.gate.weight"));

  // Unknown architecture.
  std::filesystem::create_directories(dir.Join("arch"));
  testing_support::WriteFile(dir.Join("arch/config.json"), R"({"model_type": "llama", "architectures": ["LlamaForCausalLM"]})");
  EXPECT_THAT(Model::Load({.model_dir = dir.Join("arch")}).status().message(), ::testing::HasSubstr("unknown architecture"));
}

}  // namespace
}  // namespace engine
