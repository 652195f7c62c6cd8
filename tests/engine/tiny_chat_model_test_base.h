// A test fixture with the tiny DeepSeek-V3 chat checkpoint (tests/data/models/
// deepseek_v3_tiny_chat: MTP layer, 320-token byte-level tokenizer) loaded as a bare Model and
// Tokenizer, for tests that drive generation below the Engine facade.
#ifndef AGENTD_TESTS_ENGINE_TINY_CHAT_MODEL_TEST_BASE_H_
#define AGENTD_TESTS_ENGINE_TINY_CHAT_MODEL_TEST_BASE_H_

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "engine/model.h"
#include "engine/tokenizer.h"

namespace engine {

inline std::string TinyChatModel() { return std::string(AGENTD_TEST_DATA_DIR) + "/models/deepseek_v3_tiny_chat"; }

class TinyChatModelTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = Model::Load({.model_dir = TinyChatModel()});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
    auto tokenizer = Tokenizer::Load(TinyChatModel());
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_ = std::move(*tokenizer);
  }

  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace engine

#endif  // AGENTD_TESTS_ENGINE_TINY_CHAT_MODEL_TEST_BASE_H_
