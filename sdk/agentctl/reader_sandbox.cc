#include "reader_sandbox.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace agentctl {
namespace {

// The file-system rights Landlock (ABI `abi`) can take away; all of them are, but reading under
// the readable directories.
uint64_t LandlockHandledAccess(long abi) {
  uint64_t access = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: execute … make symlink
#ifdef LANDLOCK_ACCESS_FS_REFER
  if (abi >= 2) access |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
  if (abi >= 3) access |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
#ifdef LANDLOCK_ACCESS_FS_IOCTL_DEV
  if (abi >= 5) access |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
#endif
  return access;
}

// Whether files stay openable (read-only, under the readable directories); false when the kernel
// has no Landlock, and then none may be opened.
bool RestrictFilesToReading(const ReaderSandboxOptions& options) {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) return false;
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = LandlockHandledAccess(abi);
  const int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
  if (ruleset < 0) return false;
  for (const std::string& dir : options.readable_dirs) {
    const int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    landlock_path_beneath_attr beneath{};
    beneath.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    beneath.parent_fd = fd;
    syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0);
    close(fd);
  }
  const bool restricted = syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
  close(ruleset);
  return restricted;
}

struct FilterRelease {
  void operator()(void* filter) const { seccomp_release(filter); }
};

}  // namespace

absl::Status ConfineReader(const ReaderSandboxOptions& options) {
  // Both Landlock and an unprivileged seccomp filter need it; it also keeps a set-uid program
  // from gaining anything were one ever started.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(absl::StrCat("cannot confine the reader (no_new_privs: ", std::strerror(errno), ")"));
  }
  const bool may_open = RestrictFilesToReading(options);

  std::unique_ptr<void, FilterRelease> filter(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (filter == nullptr) return absl::InternalError("cannot confine the reader (seccomp_init)");
  int failed = 0;
  auto allow = [&](int syscall_number) { failed |= seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, syscall_number, 0); };
  auto refuse = [&](int syscall_number, int error) {
    failed |= seccomp_rule_add(filter.get(), SCMP_ACT_ERRNO(error), syscall_number, 0);
  };
  // Computing on memory: reading what is open, growing and returning memory, waiting on a lock,
  // the clock, and leaving.
  for (int call : {SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat),
                   SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(getdents64), SCMP_SYS(munmap), SCMP_SYS(mremap),
                   SCMP_SYS(brk), SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group),
                   SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid), SCMP_SYS(gettid),
                   SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(sched_yield)}) {
    allow(call);
  }
  // Memory, but never executable: a parser has no code to load.
  for (int call : {SCMP_SYS(mmap), SCMP_SYS(mprotect)}) {
    failed |= seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, call, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  }
  // Writing only the answer (standard output) and a diagnostic (standard error).
  for (int call : {SCMP_SYS(write), SCMP_SYS(writev)}) {
    for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
      failed |= seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, call, 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(fd)));
    }
  }
  // A terminal query (stdio asks whether its output is one) is answered "not a terminal".
  refuse(SCMP_SYS(ioctl), ENOTTY);
  // Files: read-only under the readable directories where Landlock holds them there; refused
  // (poppler then goes without its optional data, the time zone is UTC) where it cannot.
  if (may_open) {
    allow(SCMP_SYS(openat));
  } else {
    refuse(SCMP_SYS(openat), EACCES);
  }
#ifdef __NR_open
  refuse(SCMP_SYS(open), EACCES);
#endif
  if (failed != 0) return absl::InternalError("cannot confine the reader (a seccomp rule was refused)");
  if (const int loaded = seccomp_load(filter.get()); loaded != 0) {
    return absl::InternalError(absl::StrCat("cannot confine the reader (seccomp: ", std::strerror(-loaded), ")"));
  }
  return absl::OkStatus();
}

}  // namespace agentctl
