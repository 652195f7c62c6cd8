#include "engine/device.h"

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

}  // namespace
}  // namespace engine
