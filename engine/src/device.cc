#include "engine/device.h"

#include <thread>

#include "absl/strings/str_format.h"
#include "device_probe.h"

namespace engine {

DeviceReport ProbeDevices() {
  DeviceReport report;
  report.cpu_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  internal::ProbeGpus(&report);
  return report;
}

std::string DescribeDevices(const DeviceReport& report) {
  if (report.gpus.empty()) {
    return absl::StrFormat("cpu (%d threads; no GPU: %s)", report.cpu_threads,
                           report.no_gpu_reason);
  }
  std::string out;
  for (const GpuInfo& gpu : report.gpus) {
    if (!out.empty()) out += ", ";
    out += absl::StrFormat("cuda:%d (%s, %.1f GiB, sm_%d%d)", gpu.index, gpu.name,
                           gpu.total_memory_bytes / double(1ull << 30),
                           gpu.compute_capability_major, gpu.compute_capability_minor);
  }
  return out;
}

}  // namespace engine
