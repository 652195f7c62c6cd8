// Which matrices each quantisation scheme rounds, and how far: the loader's roles
// (model/weights.cc) against cpu::ParseQuantizationScheme's names, on a checkpoint whose input
// embeddings are their own matrix and on one whose output head is the embeddings.
#include "model/weights.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "cpu/quantized.h"
#include "engine/model_config.h"
#include "engine/random_checkpoint.h"
#include "engine/safetensors.h"
#include "support/daemon_process.h"

namespace engine::model {
namespace {

using cpu::Quantization;

class WeightsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Weights> Load(const std::string& fixture, const std::string& scheme_name) {
    const std::string dir = dir_.Join(fixture);
    const std::string config_json =
        testing_support::ReadFile(std::string(AGENTD_TEST_DATA_DIR) + "/models/" + fixture + "/config.json");
    EXPECT_TRUE(WriteRandomCheckpoint(config_json, dir).ok());
    auto config = LoadModelConfig(dir);
    EXPECT_TRUE(config.ok()) << config.status();
    auto store = TensorStore::OpenDirectory(dir);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!config.ok() || !store.ok()) return nullptr;
    config_ = *config;
    store_ = std::move(*store);
    const std::optional<cpu::QuantizationScheme> scheme = cpu::ParseQuantizationScheme(scheme_name);
    EXPECT_TRUE(scheme.has_value());
    auto weights = LoadWeights(config_, *store_, {.quantize = scheme->projections,
                                                  .vocabulary = scheme->vocabulary,
                                                  .embeddings = scheme->embeddings});
    EXPECT_TRUE(weights.ok()) << weights.status();
    return weights.ok() ? std::move(*weights) : nullptr;
  }

  testing_support::TempDir dir_;
  ModelConfig config_;
  std::unique_ptr<TensorStore> store_;
};

TEST_F(WeightsTest, UntiedEmbeddingsStayInTheCheckpointsDtypeExceptUnderQ4Pure) {
  struct Case {
    std::string scheme;
    Quantization projections, head, embeddings;
  };
  for (const Case& c : {Case{"", Quantization::kNone, Quantization::kNone, Quantization::kNone},
                        Case{"q8", Quantization::kQ8, Quantization::kQ8, Quantization::kNone},
                        Case{"q4", Quantization::kQ4, Quantization::kQ8, Quantization::kNone},
                        Case{"q4-pure", Quantization::kQ4, Quantization::kQ4, Quantization::kQ4}}) {
    SCOPED_TRACE(c.scheme);
    std::unique_ptr<Weights> w = Load("qwen3_moe_tiny", c.scheme);
    ASSERT_NE(w, nullptr);
    ASSERT_FALSE(config_.tie_word_embeddings);
    EXPECT_EQ(w->embed.quantization, c.embeddings);
    EXPECT_EQ(w->lm_head.quantization, c.head);
    ASSERT_FALSE(w->layers.empty());
    EXPECT_EQ(w->layers[0].gqa.q.quantization, c.projections);
    for (const LayerWeights& layer : w->layers) {
      if (layer.is_moe) {
        EXPECT_EQ(layer.moe.router.quantization, Quantization::kNone);
      }
    }
    // An embedding row reads back as the checkpoint's bf16 exactly when it is not quantised.
    std::vector<float> row(static_cast<size_t>(config_.hidden_size));
    w->embed.RowToF32(7, row.data());
    const cpu::Matrix unquantized{.dtype = w->embed.dtype, .rows = w->embed.rows, .cols = w->embed.cols,
                                  .data = w->embed.data};  // the checkpoint's own bytes
    std::vector<float> exact(row.size());
    unquantized.RowToF32(7, exact.data());
    if (c.embeddings == Quantization::kNone) {
      EXPECT_EQ(row, exact);
    } else {
      EXPECT_NE(row, exact);
    }
  }
}

TEST_F(WeightsTest, EmbeddingsTiedToTheHeadAreQuantisedAsTheHead) {
  for (const std::string scheme : {"q8", "q4"}) {
    SCOPED_TRACE(scheme);
    std::unique_ptr<Weights> w = Load("qwen3_dense_tiny", scheme);
    ASSERT_NE(w, nullptr);
    ASSERT_TRUE(config_.tie_word_embeddings);
    EXPECT_EQ(w->embed.quantization, Quantization::kQ8);
    EXPECT_EQ(w->lm_head.quantized, w->embed.quantized);
  }
}

}  // namespace
}  // namespace engine::model
