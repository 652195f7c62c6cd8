#include "scripting/script_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace scripting {
namespace {

absl::Status ErrorOf(int error, const char* what) {
  const std::string message = absl::StrCat(what, " (", std::strerror(error), ")");
  if (error == ENOENT || error == ENOTDIR) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace

absl::StatusOr<std::string> ReadScriptFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused below, unread.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrorOf(errno, "cannot open");
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError("not a regular file");
  }
  if (static_cast<size_t>(info.st_size) > kMaxScriptBytes) {
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat(info.st_size, " bytes; a script holds at most ", kMaxScriptBytes >> 20, " MiB"));
  }
  std::string code;
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      close(fd);
      return ErrorOf(error, "cannot read");
    }
    if (got == 0) break;
    // A file that grows while it is read is held to the same cap.
    if (code.size() + static_cast<size_t>(got) > kMaxScriptBytes) {
      close(fd);
      return absl::ResourceExhaustedError(absl::StrCat("a script holds at most ", kMaxScriptBytes >> 20, " MiB"));
    }
    code.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return code;
}

}  // namespace scripting
