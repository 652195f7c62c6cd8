#include "device_probe.h"

namespace engine::internal {

void ProbeGpus(DeviceReport* report) {
  report->cuda_compiled = false;
  report->no_gpu_reason = "built without CUDA";
}

}  // namespace engine::internal
