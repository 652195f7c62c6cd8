// Asks the CUDA runtime for GPUs. Without a driver or a device the runtime answers the first
// call with an error (cudaErrorNoDevice, cudaErrorInsufficientDriver, ...): that is the normal
// "no GPU" outcome on CPU machines, reported as a reason rather than treated as a failure.
#include <cuda_runtime.h>

#include <string>

#include "../device_probe.h"

namespace engine::internal {

void ProbeGpus(DeviceReport* report) {
  report->cuda_compiled = true;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    report->no_gpu_reason = std::string("CUDA runtime: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later probes start clean
    return;
  }
  if (count == 0) {
    report->no_gpu_reason = "CUDA runtime reports no devices";
    return;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    GpuInfo gpu;
    gpu.index = i;
    gpu.name = prop.name;
    gpu.total_memory_bytes = prop.totalGlobalMem;
    gpu.compute_capability_major = prop.major;
    gpu.compute_capability_minor = prop.minor;
    gpu.multiprocessor_count = prop.multiProcessorCount;
    report->gpus.push_back(gpu);
  }
  if (report->gpus.empty()) report->no_gpu_reason = "no GPU answered a property query";
}

}  // namespace engine::internal
