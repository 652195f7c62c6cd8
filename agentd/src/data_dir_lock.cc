#include "agentd/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace agentd {
namespace {

constexpr char kLockMagic[] = "AGENTD-LOCK 1\n";

std::string ReadOwner(int fd) {
  char buffer[128] = {};
  ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return "unknown";
  absl::string_view text(buffer, static_cast<size_t>(n));
  if (!absl::ConsumePrefix(&text, kLockMagic)) return "unknown";
  absl::ConsumePrefix(&text, "pid ");
  return std::string(absl::StripTrailingAsciiWhitespace(text));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("data dir ", data_dir, ": cannot create: ", ec.message()));
  }
  if (!fs::is_directory(data_dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("data dir ", data_dir, ": not a directory"));
  }
  if (access(data_dir.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("data dir ", data_dir, ": not writable: ", std::strerror(errno)));
  }
  std::string lock_path = (fs::path(data_dir) / "LOCK").string();
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("data dir ", data_dir, ": cannot open ", lock_path, ": ", std::strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string owner = ReadOwner(fd);
    close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data dir ", data_dir, " is in use by another agentd (pid ", owner, "); stop it or pick another --data-dir"));
    }
    return absl::InternalError(absl::StrCat("data dir ", data_dir, ": flock: ", std::strerror(err)));
  }
  std::string content = absl::StrCat(kLockMagic, "pid ", getpid(), "\n");
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    int err = errno;
    close(fd);
    return absl::PermissionDeniedError(
        absl::StrCat("data dir ", data_dir, ": cannot write ", lock_path, ": ", std::strerror(err)));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(data_dir, fd));
}

DataDirLock::~DataDirLock() {
  // The file stays (removing it would race with a daemon that is opening it); the lock goes.
  flock(fd_, LOCK_UN);
  close(fd_);
}

}  // namespace agentd
