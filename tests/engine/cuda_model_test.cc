// The CUDA backend's whole forward pass (Model::Load with device "cuda") against Hugging Face
// transformers' logits on the tiny fixtures (tests/data/models, as model_parity_test.cc runs the
// CPU path): float32 weights to 1e-4, bf16 to 2e-2 with the greedy agreement printed; batched
// against one at a time, incremental decoding against the full forward, a bounded pool, a
// shared prefix's copy-on-write, and caches of another model refused. Without a GPU every case
// skips with the probe's reason.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_format.h"

#include "engine/device.h"
#include "engine/engine.h"
#include "engine/fixture_expectations.h"
#include "engine/model.h"
#include "model/kv_cache.h"

namespace engine {
namespace {

using namespace testing_fixtures;  // the fixtures' expectations and comparisons

// (fixture, whether the kernels not yet run on a GPU are used: cuda/cuda_model.h).
class CudaModelTest : public ::testing::TestWithParam<std::tuple<std::string, bool>> {
 protected:
  void SetUp() override {
    const DeviceReport report = ProbeDevices();
    if (report.gpus.empty()) GTEST_SKIP() << "no GPU: " << report.no_gpu_reason;
  }
  std::string Fixture() const { return std::get<0>(GetParam()); }
  // For the printed figures: the fixture, marked when the unverified kernels ran.
  std::string Name() const { return Fixture() + (std::get<1>(GetParam()) ? " (unverified kernels)" : ""); }
  std::unique_ptr<Model> Load(const std::string& dtype) {
    auto model = Model::Load({.model_dir = ModelDir(Fixture()), .device = "cuda", .device_dtype = dtype,
                              .cuda_unverified_kernels = std::get<1>(GetParam())});
    EXPECT_TRUE(model.ok()) << model.status();
    if (!model.ok()) return nullptr;
    EXPECT_EQ((*model)->weight_dtype(), dtype);
    EXPECT_EQ((*model)->device_description().rfind("cuda", 0), 0u) << (*model)->device_description();
    return std::move(*model);
  }
};

TEST_P(CudaModelTest, Float32LogitsMatchTransformers) {
  auto model = Load("f32");
  ASSERT_NE(model, nullptr);
  Expected expected = LoadExpected(Fixture());
  for (size_t s = 0; s < expected.sequences.size(); ++s) {
    ForwardResult result;
    std::vector<float> ref;
    ASSERT_NO_FATAL_FAILURE(ForwardEveryPosition(*model, expected, s, &result, &ref));
    const double error = RelativeError(result.logits.data(), ref.data(), ref.size());
    std::printf("%s f32 on the GPU, sequence %zu: relative error %.3g\n", Name().c_str(), s, error);
    EXPECT_LT(error, 1e-4) << "sequence " << s;
  }
}

TEST_P(CudaModelTest, Bf16LogitsStayCloseAndGreedyAgreementIsReported) {
  auto model = Load("bf16");
  ASSERT_NE(model, nullptr);
  Expected expected = LoadExpected(Fixture());
  const int64_t vocab = model->config().vocab_size;
  for (size_t s = 0; s < expected.sequences.size(); ++s) {
    ForwardResult result;
    std::vector<float> ref;
    ASSERT_NO_FATAL_FAILURE(ForwardEveryPosition(*model, expected, s, &result, &ref));
    const double error = RelativeError(result.logits.data(), ref.data(), ref.size());
    const PositionsOff moved = CountPositionsOff(result.logits, ref, vocab, 2e-2);
    const int off = moved.off, positions = moved.positions;
    const std::string& by_position = moved.by_position;
    int same = 0;
    for (int p = 0; p < positions; ++p) same += ArgMax(&result.logits[p * vocab], vocab) == ArgMax(&ref[p * vocab], vocab);
    std::printf("%s bf16 on the GPU, sequence %zu: relative error %.3g, top token as transformers' at %d of %d\n",
                Name().c_str(), s, error, same, positions);
    // Rounding weights and activations to bf16 moves these random models' logits by 0.4-1.3%.
    // One position can move far more alone: on the H200, qwen3_moe_tiny's sequence 0 at
    // position 11 by 0.32 while every other position stays within 0.4-1.8% — the mark of a
    // near-tied expert choice (8 experts, top 2, random weights) that rounding flips, as the CPU
    // path's 8-bit weights flip deepseek_v3_tiny's (model_parity_test.cc). A wrong kernel moves
    // every position: so at most one position in 20 may be off, and with none off the
    // sequence's error is under 2e-2.
    if (off > 0) std::printf("  by position:%s\n", by_position.c_str());
    EXPECT_LE(off, std::max(1, positions / 20)) << "sequence " << s << ", by position:" << by_position;
    if (off == 0) {
      EXPECT_LT(error, 2e-2) << "sequence " << s;
    }
  }
}

TEST_P(CudaModelTest, IncrementalAndGreedyDecodingMatchTransformers) {
  auto model = Load("f32");
  ASSERT_NE(model, nullptr);
  Expected expected = LoadExpected(Fixture());
  const int64_t vocab = model->config().vocab_size;
  const auto& tokens = expected.sequences[0];
  const std::vector<float> ref = expected.Tensor("logits_0");
  auto cache = model->NewCache();
  ForwardResult result;
  ASSERT_TRUE(model->Forward(std::span(tokens).first(5), cache.get(), {.all_logits = true}, &result).ok());
  for (size_t t = 5; t < tokens.size(); ++t) {
    ASSERT_TRUE(model->Forward(std::span(tokens).subspan(t, 1), cache.get(), {}, &result).ok());
    EXPECT_LT(RelativeError(result.logits.data(), &ref[t * vocab], vocab), 1e-4) << "position " << t;
  }
  EXPECT_EQ(cache->length(), static_cast<int64_t>(tokens.size()));

  for (size_t s = 0; s < expected.sequences.size(); ++s) {
    auto greedy_cache = model->NewCache();
    ASSERT_TRUE(model->Forward(expected.sequences[s], greedy_cache.get(), {}, &result).ok());
    std::vector<int32_t> generated;
    while (generated.size() < expected.greedy[s].size()) {
      int32_t next = ArgMax(result.logits.data(), vocab);
      generated.push_back(next);
      ASSERT_TRUE(model->Forward(std::span(&next, 1), greedy_cache.get(), {}, &result).ok());
    }
    EXPECT_EQ(generated, expected.greedy[s]) << "sequence " << s;
  }
}

// Three sequences in one pass (a prompt, a decode step, a second prompt; one pool) give each
// the logits and hidden states it gets alone, and the GPU agrees with the CPU path.
TEST_P(CudaModelTest, BatchedSequencesMatchAloneAndTheCpu) {
  auto model = Load("f32");
  ASSERT_NE(model, nullptr);
  auto cpu = Model::Load({.model_dir = ModelDir(Fixture())});
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  Expected expected = LoadExpected(Fixture());
  const auto& a = expected.sequences[0];
  const auto& b = expected.sequences[expected.sequences.size() > 1 ? 1 : 0];
  auto pool = model->NewBlockPool({.block_size = 4});
  auto ca = model->NewCache(pool), cb = model->NewCache(pool), cc = model->NewCache(pool);
  ForwardResult ra, rb, rc;
  // cb has 3 tokens cached already: its next one is a decode step.
  ASSERT_TRUE(model->Forward(std::span(b).first(3), cb.get(), {}, &rb).ok());
  const std::vector<BatchEntry> batch = {
      {std::span(a), ca.get(), {.all_logits = true, .return_hidden = true}, &ra},
      {std::span(b).subspan(3, 1), cb.get(), {}, &rb},
      {std::span(b).first(6), cc.get(), {}, &rc},
  };
  ASSERT_TRUE(model->ForwardBatch(batch).ok());
  EXPECT_EQ(ca->length(), static_cast<int64_t>(a.size()));
  EXPECT_EQ(cb->length(), 4);

  ForwardResult alone;
  auto fresh = model->NewCache();
  ASSERT_TRUE(model->Forward(a, fresh.get(), {.all_logits = true, .return_hidden = true}, &alone).ok());
  ASSERT_EQ(ra.logits.size(), alone.logits.size());
  EXPECT_LT(RelativeError(ra.logits.data(), alone.logits.data(), alone.logits.size()), 1e-5);
  EXPECT_LT(RelativeError(ra.hidden.data(), alone.hidden.data(), alone.hidden.size()), 1e-5);
  fresh = model->NewCache();
  ASSERT_TRUE(model->Forward(std::span(b).first(4), fresh.get(), {}, &alone).ok());
  EXPECT_LT(RelativeError(rb.logits.data(), alone.logits.data(), alone.logits.size()), 1e-5);

  ForwardResult on_cpu;
  auto cpu_cache = (*cpu)->NewCache();
  ASSERT_TRUE((*cpu)->Forward(std::span(b).first(6), cpu_cache.get(), {}, &on_cpu).ok());
  ASSERT_EQ(rc.logits.size(), on_cpu.logits.size());
  EXPECT_LT(RelativeError(rc.logits.data(), on_cpu.logits.data(), on_cpu.logits.size()), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CudaModelTest,
                         ::testing::Combine(::testing::Values("deepseek_v3_tiny", "deepseek_v2_lite_tiny", "qwen3_moe_tiny",
                                                              "qwen3_dense_tiny"),
                                            ::testing::Bool()));

class CudaCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const DeviceReport report = ProbeDevices();
    if (report.gpus.empty()) GTEST_SKIP() << "no GPU: " << report.no_gpu_reason;
    auto model = Model::Load({.model_dir = ModelDir("qwen3_moe_tiny"), .device = "cuda", .device_dtype = "f32"});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
  }
  std::unique_ptr<Model> model_;
};

TEST_F(CudaCacheTest, AFullPoolFailsThePassAndLeavesTheCacheAsItWas) {
  auto pool = model_->NewBlockPool({.block_size = 4, .max_blocks = 2});
  auto cache = model_->NewCache(pool);
  std::vector<int32_t> tokens(12, 5);
  ForwardResult result;
  const absl::Status status = model_->Forward(tokens, cache.get(), {}, &result);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(cache->length(), 0);
  EXPECT_TRUE(model_->Forward(std::span(tokens).first(8), cache.get(), {}, &result).ok());
}

// A cache that adopts another's blocks and continues inside the last one writes its own copy
// of that block (copy-on-write on the device), and both then decode as if alone.
TEST_F(CudaCacheTest, ASharedPrefixIsCopiedBeforeItIsWritten) {
  auto pool = model_->NewBlockPool({.block_size = 4});
  const std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 9, 2, 6};
  auto first = model_->NewCache(pool);
  ForwardResult result;
  ASSERT_TRUE(model_->Forward(prompt, first.get(), {}, &result).ok());
  auto second = model_->NewCache(pool);
  auto* paged = dynamic_cast<model::PagedKvCache*>(second.get());
  ASSERT_NE(paged, nullptr);
  paged->AdoptPrefix(dynamic_cast<model::PagedKvCache*>(first.get())->blocks());
  second->Truncate(6);  // positions 6 and 7 run again, into the shared second block
  ASSERT_TRUE(model_->Forward(std::span(prompt).subspan(6), second.get(), {}, &result).ok());
  ForwardResult a, b, alone;
  const int32_t next = 7;
  ASSERT_TRUE(model_->Forward(std::span(&next, 1), first.get(), {}, &a).ok());
  ASSERT_TRUE(model_->Forward(std::span(&next, 1), second.get(), {}, &b).ok());
  auto fresh = model_->NewCache();
  std::vector<int32_t> all = prompt;
  all.push_back(next);
  ASSERT_TRUE(model_->Forward(all, fresh.get(), {}, &alone).ok());
  EXPECT_LT(RelativeError(a.logits.data(), alone.logits.data(), alone.logits.size()), 1e-5);
  EXPECT_LT(RelativeError(b.logits.data(), alone.logits.data(), alone.logits.size()), 1e-5);
}

TEST_F(CudaCacheTest, ACacheOfAnotherModelIsRefused) {
  auto cpu = Model::Load({.model_dir = ModelDir("qwen3_moe_tiny")});
  ASSERT_TRUE(cpu.ok());
  auto foreign = (*cpu)->NewCache();
  const std::vector<int32_t> tokens = {1, 2, 3};
  ForwardResult result;
  EXPECT_EQ(model_->Forward(tokens, foreign.get(), {}, &result).code(), absl::StatusCode::kInvalidArgument);
  const std::vector<int32_t> outside = {1, 1 << 30};
  auto cache = model_->NewCache();
  EXPECT_EQ(model_->Forward(outside, cache.get(), {}, &result).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache->length(), 0);
}

// The engine on the GPU (scheduler, prefix cache, sampling and speculation above CudaModel)
// writes the CPU engine's greedy text, token for token, alone, speculated and batched.
TEST(CudaEngineTest, TheEngineOnTheGpuWritesTheCpusGreedyText) {
  const DeviceReport report = ProbeDevices();
  if (report.gpus.empty()) GTEST_SKIP() << "no GPU: " << report.no_gpu_reason;
  const std::string dir = ModelDir("deepseek_v3_tiny_chat");
  auto gpu = Engine::Load({.model_dir = dir, .device = "cuda"});
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  auto cpu = Engine::Load({.model_dir = dir});
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ((*gpu)->info().device.rfind("cuda", 0), 0u) << (*gpu)->info().device;
  EXPECT_EQ((*cpu)->info().device, "cpu");
  const std::vector<std::string> prompts = {"the theory of", "on the station of the theory of the station of the",
                                            "in the", "a"};
  CompletionOptions options;
  options.max_tokens = 40;
  CompletionOptions speculative = options;
  speculative.speculation.mode = SpeculationConfig::Mode::kNgram;
  speculative.speculation.num_draft_tokens = 5;
  std::vector<std::vector<int32_t>> want;
  for (const std::string& prompt : prompts) {
    auto on_cpu = (*cpu)->Complete(prompt, options, nullptr);
    auto on_gpu = (*gpu)->Complete(prompt, options, nullptr);
    auto drafted = (*gpu)->Complete(prompt, speculative, nullptr);
    ASSERT_TRUE(on_cpu.ok() && on_gpu.ok() && drafted.ok());
    EXPECT_EQ(on_gpu->tokens, on_cpu->tokens) << prompt;
    EXPECT_EQ(drafted->tokens, on_cpu->tokens) << prompt << " (n-gram speculation)";
    want.push_back(on_cpu->tokens);
  }
  // Together: the scheduler runs them in one batch (decode steps from the captured graphs).
  std::vector<std::vector<int32_t>> got(prompts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < prompts.size(); ++i) {
    threads.emplace_back([&, i] {
      auto result = (*gpu)->Complete(prompts[i], options, nullptr);
      if (result.ok()) got[i] = result->tokens;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace engine
