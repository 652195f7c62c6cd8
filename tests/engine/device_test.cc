#include "engine/device.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/kv_block_pool.h"
#include "engine/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace engine {
namespace {

using ::testing::HasSubstr;

TEST(DeviceTest, ProbeNeverFailsAndExplainsAMissingGpu) {
  DeviceReport report = ProbeDevices();
  EXPECT_GE(report.cpu_threads, 1);
  std::string description = DescribeDevices(report);
  if (report.gpus.empty()) {
    EXPECT_FALSE(report.no_gpu_reason.empty());
    EXPECT_THAT(description, HasSubstr("cpu ("));
    EXPECT_THAT(description, HasSubstr(report.no_gpu_reason));
  } else {
    EXPECT_TRUE(report.cuda_compiled);
    EXPECT_THAT(description, HasSubstr("cuda:0"));
    EXPECT_GT(report.gpus[0].total_memory_bytes, 0u);
  }
#ifdef AGENTD_WITH_CUDA
  EXPECT_TRUE(report.cuda_compiled);
#else
  EXPECT_FALSE(report.cuda_compiled);
  EXPECT_EQ(report.no_gpu_reason, "built without CUDA");
#endif
}

TEST(DeviceTest, DescribesGpus) {
  DeviceReport report;
  report.cuda_compiled = true;
  report.gpus.push_back({0, "NVIDIA H200", 150ull << 30, 9, 0, 132});
  EXPECT_EQ(DescribeDevices(report), "cuda:0 (NVIDIA H200, 150.0 GiB, sm_90)");
}

// ModelOptions::device: "cuda" without a GPU is an error that says why; "auto" then runs on the
// CPU and says why; unknown names are refused naming the field.
TEST(DeviceTest, ModelLoadRunsWhereAskedOrSaysWhyNot) {
  const std::string dir = std::string(AGENTD_TEST_DATA_DIR) + "/models/qwen3_moe_tiny";
  const bool gpu = !ProbeDevices().gpus.empty();
  auto unknown = Model::Load({.model_dir = dir, .device = "tpu"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("device"));
  auto bad_dtype = Model::Load({.model_dir = dir, .device = "cuda", .device_dtype = "fp8"});
  EXPECT_EQ(bad_dtype.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_dtype.status().message()), HasSubstr("device_dtype"));

  auto cpu = Model::Load({.model_dir = dir});
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ((*cpu)->device_description(), "cpu");

  auto cuda = Model::Load({.model_dir = dir, .device = "cuda"});
  auto automatic = Model::Load({.model_dir = dir, .device = "auto"});
  ASSERT_TRUE(automatic.ok()) << automatic.status();
  if (gpu) {
    ASSERT_TRUE(cuda.ok()) << cuda.status();
    EXPECT_THAT((*cuda)->device_description(), HasSubstr("cuda:0"));
    EXPECT_THAT((*automatic)->device_description(), HasSubstr("cuda:0"));
    EXPECT_EQ((*cuda)->weight_dtype(), "f32");  // a float32 checkpoint runs in the parity mode
    auto quantized = Model::Load({.model_dir = dir, .quantize = "q8", .device = "cuda"});
    EXPECT_EQ(quantized.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(quantized.status().message()), HasSubstr("quantize"));
  } else {
    EXPECT_EQ(cuda.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(cuda.status().message()), HasSubstr("no GPU"));
    EXPECT_THAT((*automatic)->device_description(), HasSubstr("cpu (auto: no GPU: "));
  }
}

// A cache whose rows live elsewhere (a GPU model's pool) has no host rows: the CPU model refuses
// it rather than write through the pool's missing row pointers.
class ElsewhereStorage final : public KvBlockStorage {
 public:
  bool Provide(int32_t) override { return true; }
  void CopyBlock(int32_t, int32_t) override {}
  uint64_t bytes_allocated() const override { return 0; }
};

TEST(DeviceTest, TheCpuModelRefusesACacheWhoseRowsLiveOnADevice) {
  auto model = Model::Load({.model_dir = std::string(AGENTD_TEST_DATA_DIR) + "/models/qwen3_moe_tiny"});
  ASSERT_TRUE(model.ok()) << model.status();
  // The same row shape as the model's own pools, the rows elsewhere.
  const KvRowShape shape = (*model)->NewBlockPool({})->shape();
  auto pool = std::make_shared<KvBlockPool>(shape, KvBlockPoolOptions{}, std::make_unique<ElsewhereStorage>());
  auto cache = (*model)->NewCache(pool);
  const std::vector<int32_t> tokens = {1, 2, 3};
  ForwardResult result;
  EXPECT_EQ((*model)->Forward(tokens, cache.get(), {}, &result).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache->length(), 0);
}

}  // namespace
}  // namespace engine
