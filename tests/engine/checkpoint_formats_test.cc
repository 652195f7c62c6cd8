// Checkpoint layouts real models ship in: sharded with model.safetensors.index.json, and
// DeepSeek-V3's FP8 (E4M3) weights with 128×128 block scales (weight_scale_inv).
#include <cmath>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/model.h"
#include "engine/safetensors.h"
#include "nlohmann/json.hpp"
#include "support/daemon_process.h"
#include "support/safetensors_writer.h"

namespace engine {
namespace {

using ::testing::HasSubstr;
using testing_support::RawTensor;
using testing_support::TempDir;

std::string Fixture(const std::string& name) { return std::string(AGENTD_TEST_DATA_DIR) + "/models/" + name; }

std::vector<RawTensor> ReadAll(const std::string& path) {
  auto file = SafetensorsFile::Open(path);
  std::vector<RawTensor> out;
  for (const auto& [name, info] : (*file)->tensors()) {
    out.push_back({name, info.dtype_name, info.shape,
                   std::string(reinterpret_cast<const char*>(info.data), info.size_bytes)});
  }
  return out;
}

std::vector<float> Logits(const std::string& dir) {
  auto model = Model::Load({.model_dir = dir});
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return {};
  auto cache = (*model)->NewCache();
  ForwardResult result;
  std::vector<int32_t> ids = {5, 17, 42, 99, 3, 250};
  EXPECT_TRUE((*model)->Forward(ids, cache.get(), {.all_logits = true}, &result).ok());
  return result.logits;
}

double RelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return std::sqrt(diff / norm);
}

TEST(ShardedCheckpointTest, IndexedShardsLoadLikeOneFile) {
  TempDir dir;
  const std::string out = dir.Join("sharded");
  std::filesystem::create_directories(out);
  std::filesystem::copy_file(Fixture("qwen3_moe_tiny") + "/config.json", out + "/config.json");
  std::vector<RawTensor> tensors = ReadAll(Fixture("qwen3_moe_tiny") + "/model.safetensors");
  std::vector<RawTensor> first(tensors.begin(), tensors.begin() + tensors.size() / 2);
  std::vector<RawTensor> second(tensors.begin() + tensors.size() / 2, tensors.end());
  testing_support::WriteSafetensors(out + "/model-00001-of-00002.safetensors", first);
  testing_support::WriteSafetensors(out + "/model-00002-of-00002.safetensors", second);
  nlohmann::json index;
  for (const auto& t : first) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : second) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  testing_support::WriteFile(out + "/model.safetensors.index.json", index.dump());
  EXPECT_EQ(Logits(out), Logits(Fixture("qwen3_moe_tiny")));

  // An index naming a tensor that its shard lacks is refused, naming both.
  index["weight_map"]["model.extra.weight"] = "model-00002-of-00002.safetensors";
  testing_support::WriteFile(out + "/model.safetensors.index.json", index.dump());
  auto store = TensorStore::OpenDirectory(out);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("model.extra.weight"));
  index["weight_map"]["model.extra.weight"] = "../elsewhere.safetensors";
  testing_support::WriteFile(out + "/model.safetensors.index.json", index.dump());
  EXPECT_THAT(TensorStore::OpenDirectory(out).status().message(), HasSubstr("outside the directory"));
}

// E4M3 ("fn": no infinities, S.1111.111 is NaN) decoded from its definition, independently of
// the engine's decoder: sign, 4 exponent bits with bias 7, 3 mantissa bits, subnormals at
// exponent 0 (m/8 · 2^-6).
float E4M3FromDefinition(uint8_t code) {
  const int sign = code >> 7, exponent = (code >> 3) & 0xf, mantissa = code & 0x7;
  if (exponent == 0xf && mantissa == 0x7) return NAN;
  const float magnitude = exponent == 0 ? std::ldexp(mantissa / 8.0f, -6) : std::ldexp(1.0f + mantissa / 8.0f, exponent - 7);
  return sign ? -magnitude : magnitude;
}

TEST(Fp8CheckpointTest, TheEnginesE4M3DecoderMatchesTheDefinitionOnEveryCode) {
  EXPECT_EQ(E4M3FromDefinition(0x7e), 448.0f);         // the largest finite value
  EXPECT_EQ(E4M3FromDefinition(0x38), 1.0f);
  EXPECT_EQ(E4M3FromDefinition(0xb8), -1.0f);
  EXPECT_EQ(E4M3FromDefinition(0x08), 1.0f / 64);      // the smallest normal
  EXPECT_EQ(E4M3FromDefinition(0x01), 1.0f / 512);     // the smallest subnormal
  for (int code = 0; code < 256; ++code) {
    const float expected = E4M3FromDefinition(static_cast<uint8_t>(code));
    const float got = F8E4M3ToF32(static_cast<uint8_t>(code));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(got)) << "code " << code;
    } else {
      EXPECT_EQ(got, expected) << "code " << code;
    }
  }
}

// Nearest E4M3 value, by search over the codes decoded from the definition.
uint8_t ToE4M3(float v) {
  uint8_t best = 0;
  float best_error = INFINITY;
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7f) == 0x7f) continue;  // NaN
    float error = std::fabs(E4M3FromDefinition(static_cast<uint8_t>(code)) - v);
    if (error < best_error) {
      best_error = error;
      best = static_cast<uint8_t>(code);
    }
  }
  return best;
}

TEST(Fp8CheckpointTest, BlockScaledWeightsAreDequantised) {
  TempDir dir;
  const std::string fp8_dir = dir.Join("fp8"), reference_dir = dir.Join("dequantised");
  for (const std::string& d : {fp8_dir, reference_dir}) {
    std::filesystem::create_directories(d);
    std::filesystem::copy_file(Fixture("qwen3_dense_tiny") + "/config.json", d + "/config.json");
  }
  std::vector<RawTensor> fp8, reference;
  for (const RawTensor& t : ReadAll(Fixture("qwen3_dense_tiny") + "/model.safetensors")) {
    if (t.shape.size() != 2 || t.name.find("embed_tokens") != std::string::npos) {
      fp8.push_back(t);
      reference.push_back(t);
      continue;
    }
    // Quantise as DeepSeek does: per 128×128 block, scale = max|w| / 448.
    const int64_t rows = t.shape[0], cols = t.shape[1];
    const int64_t block_rows = (rows + 127) / 128, block_cols = (cols + 127) / 128;
    const float* w = reinterpret_cast<const float*>(t.bytes.data());
    std::vector<float> scales(block_rows * block_cols, 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        float& s = scales[(r / 128) * block_cols + c / 128];
        s = std::max(s, std::fabs(w[r * cols + c]) / 448.0f);
      }
    std::string codes(rows * cols, '\0');
    std::vector<float> dequantised(rows * cols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const float s = scales[(r / 128) * block_cols + c / 128];
        const uint8_t q = ToE4M3(s > 0 ? w[r * cols + c] / s : 0.0f);
        codes[r * cols + c] = static_cast<char>(q);
        dequantised[r * cols + c] = E4M3FromDefinition(q) * s;
      }
    fp8.push_back({t.name, "F8_E4M3", t.shape, codes});
    fp8.push_back({t.name + "_scale_inv", "F32", {block_rows, block_cols},
                   std::string(reinterpret_cast<const char*>(scales.data()), scales.size() * 4)});
    reference.push_back({t.name, "F32", t.shape,
                         std::string(reinterpret_cast<const char*>(dequantised.data()), dequantised.size() * 4)});
  }
  testing_support::WriteSafetensors(fp8_dir + "/model.safetensors", fp8);
  testing_support::WriteSafetensors(reference_dir + "/model.safetensors", reference);
  auto model = Model::Load({.model_dir = fp8_dir});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->weight_dtype(), "f32");  // the tied head stays f32; matrices became bf16
  // Dequantised to bf16 by the loader vs the same values in f32: bf16 rounding only.
  EXPECT_LT(RelativeError(Logits(fp8_dir), Logits(reference_dir)), 1e-2);

  // Without the scales the FP8 tensor is refused by name.
  fp8.erase(std::remove_if(fp8.begin(), fp8.end(),
                           [](const RawTensor& t) { return t.name == "model.layers.0.mlp.up_proj.weight_scale_inv"; }),
            fp8.end());
  testing_support::WriteSafetensors(fp8_dir + "/model.safetensors", fp8);
  auto refused = Model::Load({.model_dir = fp8_dir});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("model.layers.0.mlp.up_proj.weight_scale_inv is missing"));
}

}  // namespace
}  // namespace engine
