// SHA-256 of a text as 64 lowercase hex digits: what documents are deduplicated by, and what
// other components use to fingerprint content (a run's plan source).
#ifndef AGENTD_MEMORY_CONTENT_HASH_H_
#define AGENTD_MEMORY_CONTENT_HASH_H_

#include <string>
#include <string_view>

namespace memory {

std::string Sha256Hex(std::string_view text);

}  // namespace memory

#endif  // AGENTD_MEMORY_CONTENT_HASH_H_
