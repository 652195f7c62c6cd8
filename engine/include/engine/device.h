// Device discovery: which accelerators this process can run the engine on.
//
// The engine is GPU first with a complete CPU path. ProbeDevices() never fails: a build without
// CUDA, a machine without an NVIDIA driver, or a driver without a usable GPU all come back as an
// empty `gpus` list with `no_gpu_reason` saying why, and callers fall back to the CPU.
//
//   engine::DeviceReport report = engine::ProbeDevices();
//   if (report.gpus.empty()) LOG("cpu only: " + report.no_gpu_reason);
#ifndef AGENTD_ENGINE_DEVICE_H_
#define AGENTD_ENGINE_DEVICE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace engine {

struct GpuInfo {
  int index = 0;
  std::string name;
  uint64_t total_memory_bytes = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  int multiprocessor_count = 0;
};

struct DeviceReport {
  // True when this binary contains CUDA kernels.
  bool cuda_compiled = false;
  // Usable GPUs; empty means CPU only.
  std::vector<GpuInfo> gpus;
  // Why `gpus` is empty ("built without CUDA", the CUDA runtime's error, ...); empty otherwise.
  std::string no_gpu_reason;
  // Hardware threads available to the CPU path.
  int cpu_threads = 1;
};

DeviceReport ProbeDevices();

// One line for logs and ModelInfo: "cuda:0 (NVIDIA H200, 139.8 GiB, sm_90)" or
// "cpu (2 threads; no GPU: built without CUDA)".
std::string DescribeDevices(const DeviceReport& report);

}  // namespace engine

#endif  // AGENTD_ENGINE_DEVICE_H_
