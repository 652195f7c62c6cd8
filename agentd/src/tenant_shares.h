// What each tenant may take of what all tenants share, where a setting leaves it to the daemon
// (0): with two tenants or more named by auth.tokens each gets a share, with one tenant it has
// everything. The daemon resolves its settings through these once, at start.
//
//   memory_options.max_stored_bytes_per_tenant = DocumentShare(options, PhysicalMemoryBytes());
#ifndef AGENTD_TENANT_SHARES_H_
#define AGENTD_TENANT_SHARES_H_

#include <cstdint>

#include "agentd/daemon_options.h"

namespace agentd {

// The tenants auth.tokens name, counted once each.
uint64_t TenantCount(const DaemonOptions& options);

// `configured` when set (> 0); else `several` with two tenants or more, none (0) with one.
uint64_t TenantShare(const DaemonOptions& options, uint64_t configured, uint64_t several);

// memory.max_stored_bytes_per_tenant resolved. A tenant's documents are on the disk and, as
// lexical postings and vectors, in the daemon's memory: with two tenants or more each may store
// 8 GiB or half the machine's memory divided among them, whichever is less (at least 64 MiB), so
// that the tenants' documents together cannot take the memory the daemon serves everyone from.
// `physical_memory_bytes` 0 (unknown): 8 GiB.
uint64_t DocumentShare(const DaemonOptions& options, uint64_t physical_memory_bytes);

// The daemon's memory in bytes: the machine's (sysconf), or its container's limit (cgroup v2
// memory.max, v1 memory.limit_in_bytes) where that is less; 0 when neither can be read.
uint64_t PhysicalMemoryBytes();

}  // namespace agentd

#endif  // AGENTD_TENANT_SHARES_H_
