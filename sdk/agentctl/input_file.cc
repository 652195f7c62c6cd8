#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace agentctl {
namespace {

const char* KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string Size(uint64_t bytes) {
  if (bytes < (1u << 20)) return absl::StrCat(bytes, " bytes");
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

std::string Limit(uint64_t bytes) {
  return bytes % (1u << 20) == 0 ? absl::StrCat(bytes >> 20, " MiB") : absl::StrCat(bytes, " bytes");
}

}  // namespace

absl::StatusOr<std::string> ReadInputFile(const std::string& path, uint64_t max_bytes, absl::string_view what) {
  // O_NONBLOCK: opening a FIFO does not wait for a writer (it is refused below).
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat(path, ": cannot be read (", std::strerror(errno), ")"));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat info {};
  if (fstat(fd, &info) != 0) return absl::NotFoundError(absl::StrCat(path, ": cannot be read (", std::strerror(errno), ")"));
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is ", KindOf(info.st_mode), ", not a regular file"));
  }
  auto too_large = [&](uint64_t size) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", Size(size), " is more than ", what, " may hold (", Limit(max_bytes), ")"));
  };
  if (static_cast<uint64_t>(info.st_size) > max_bytes) return too_large(static_cast<uint64_t>(info.st_size));
  std::string text;
  text.resize(static_cast<size_t>(info.st_size) + 1);  // one byte more shows a file that grew
  size_t have = 0;
  while (true) {
    if (have == text.size()) {
      if (have > max_bytes) return too_large(have);
      text.resize(std::min<uint64_t>(max_bytes + 1, have * 2 + 4096));
    }
    const ssize_t n = read(fd, text.data() + have, text.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::NotFoundError(absl::StrCat(path, ": cannot be read (", std::strerror(errno), ")"));
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  if (have > max_bytes) return too_large(have);
  text.resize(have);
  return text;
}

}  // namespace agentctl
