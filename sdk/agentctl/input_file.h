// Reading a file a person named on agentctl's command line, whatever it turns out to be.
//
// A FIFO or a device (/dev/zero, /dev/stdin on a terminal) is refused without being read: the
// file is opened without waiting for a writer, and only regular files are read. A file larger
// than the daemon would take is refused by its size before anything is read. Before, `memory
// ingest` and `run --plan-file` waited for ever on a FIFO, and read /dev/zero until memory ran
// out.
//
//   absl::StatusOr<std::string> text = ReadInputFile(path, 8 << 20, "a document");
//   if (!text.ok()) return Fail(text.status());   // "big.txt: 12.0 MiB is more than a document may hold (8 MiB)"
#ifndef AGENTD_SDK_AGENTCTL_INPUT_FILE_H_
#define AGENTD_SDK_AGENTCTL_INPUT_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace agentctl {

// The file's bytes. INVALID_ARGUMENT naming the path for what is not a regular file or holds
// more than `max_bytes` (`what` names what it was to become); NOT_FOUND when it cannot be
// opened.
absl::StatusOr<std::string> ReadInputFile(const std::string& path, uint64_t max_bytes, absl::string_view what);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_INPUT_FILE_H_
