// Reading a Lua script from disk: a tool file, an installed plan, a module `require` loads.
// Only a regular file is read, and only up to kMaxScriptBytes: a FIFO named tool.lua would hold
// its reader (a gRPC handler, the daemon's start) for good, and a device would never end.
//
//   absl::StatusOr<std::string> code = scripting::ReadScriptFile("/srv/tools/echo.lua");
//   // FAILED_PRECONDITION "not a regular file" for a FIFO, a directory or a device
#ifndef AGENTD_SCRIPTING_SCRIPT_FILE_H_
#define AGENTD_SCRIPTING_SCRIPT_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace scripting {

// The largest script read: the size of a plan source a request may carry (1 MiB) with room.
inline constexpr size_t kMaxScriptBytes = 4u << 20;

// The file's bytes. NOT_FOUND when it does not exist, PERMISSION_DENIED when it may not be
// read ("cannot open (Permission denied)"); FAILED_PRECONDITION when it is not a regular file
// (it is never read: opening does not wait for a FIFO's writer); RESOURCE_EXHAUSTED past
// kMaxScriptBytes. Messages leave the path out (a tenant may read them): callers name the file
// as they would have it named.
absl::StatusOr<std::string> ReadScriptFile(const std::string& path);

}  // namespace scripting

#endif  // AGENTD_SCRIPTING_SCRIPT_FILE_H_
