#include "tenant_shares.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>

namespace agentd {

uint64_t TenantCount(const DaemonOptions& options) {
  std::set<std::string> tenants;
  for (const ApiToken& token : options.api_tokens) tenants.insert(token.tenant);
  return tenants.size();
}

uint64_t TenantShare(const DaemonOptions& options, uint64_t configured, uint64_t several) {
  if (configured > 0) return configured;
  return TenantCount(options) > 1 ? several : 0;
}

uint64_t DocumentShare(const DaemonOptions& options, uint64_t physical_memory_bytes) {
  constexpr uint64_t kMost = uint64_t{8} << 30, kLeast = uint64_t{64} << 20;
  const uint64_t tenants = std::max<uint64_t>(1, TenantCount(options));
  const uint64_t of_memory = physical_memory_bytes == 0 ? kMost : physical_memory_bytes / 2 / tenants;
  return TenantShare(options, options.memory.max_stored_bytes_per_tenant, std::clamp(of_memory, kLeast, kMost));
}

uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  uint64_t bytes = pages > 0 && page_size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) : 0;
  // A container's limit is the daemon's memory (cgroup v2, then v1): "max" or a huge v1 value
  // means none.
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(path);
    std::string value;
    if (!(in >> value) || value.empty() || value == "max" || value.find_first_not_of("0123456789") != std::string::npos) continue;
    if (value.size() > 19) continue;
    const uint64_t limit = std::stoull(value);
    if (limit > 0 && (bytes == 0 || limit < bytes)) bytes = limit;
  }
  return bytes;
}

}  // namespace agentd
