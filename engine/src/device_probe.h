// The backend-specific half of ProbeDevices(): filled by src/cuda/device_probe.cu when the build
// has CUDA, by src/device_probe_none.cc otherwise.
#ifndef AGENTD_ENGINE_DEVICE_PROBE_H_
#define AGENTD_ENGINE_DEVICE_PROBE_H_

#include "engine/device.h"

namespace engine::internal {

// Appends the usable GPUs to report->gpus, or sets report->no_gpu_reason.
void ProbeGpus(DeviceReport* report);

}  // namespace engine::internal

#endif  // AGENTD_ENGINE_DEVICE_PROBE_H_
