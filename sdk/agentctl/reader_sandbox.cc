#include "reader_sandbox.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>

#include "absl/strings/str_cat.h"

namespace agentctl {
namespace {

// The file-system rights Landlock (ABI `abi`) can take away; all of them are, but reading under
// the readable directories.
// (By the kernel's ABI, not the headers': Debian 12's are ABI 2 and lack truncation, which
// would leave a readable directory's files truncatable through O_RDONLY|O_TRUNC.)
uint64_t LandlockHandledAccess(long abi) {
  constexpr uint64_t kRefer = 1ull << 13, kTruncate = 1ull << 14, kIoctlDev = 1ull << 15;
  uint64_t access = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: execute … make symlink
  if (abi >= 2) access |= kRefer;
  if (abi >= 3) access |= kTruncate;
  if (abi >= 5) access |= kIoctlDev;
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
  const pid_t self = getpid();

  // What the filter does not name fails with ENOSYS: a library's incidental call (glibc's qsort
  // asking sysinfo, fontconfig's access and readlink) then fails as on a kernel without it,
  // rather than ending the reading of an ordinary PDF. What an exploit needs next is named
  // below and ends the process.
  std::unique_ptr<void, FilterRelease> filter(seccomp_init(SCMP_ACT_ERRNO(ENOSYS)));
  if (filter == nullptr) return absl::InternalError("cannot confine the reader (seccomp_init)");
  int failed = 0;
  // A call made through another architecture's table (x32, i386) ends the process, not only
  // its thread; and the filter covers every thread, were a library to start one.
  failed |= seccomp_attr_set(filter.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  failed |= seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_TSYNC, 1);
  auto rule = [&](uint32_t action, int call, std::initializer_list<scmp_arg_cmp> args = {}) {
    failed |= seccomp_rule_add_array(filter.get(), action, call, static_cast<unsigned>(args.size()),
                                     args.size() == 0 ? nullptr : std::data(args));
  };
  // Computing on memory: reading what is open, growing and returning memory, waiting on a lock,
  // the clock, and leaving.
  for (int call : {SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat),
                   SCMP_SYS(getdents64), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(madvise),
                   SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
                   SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(clock_gettime),
                   SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(sched_yield), SCMP_SYS(sysinfo)}) {
    rule(SCMP_ACT_ALLOW, call);
  }
  // The status of what is open (glibc's fstat is newfstatat with AT_EMPTY_PATH), not of a path:
  // a file's size, owner and times are not the reader's to learn.
  rule(SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), {SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)});
  rule(SCMP_ACT_ALLOW, SCMP_SYS(statx), {SCMP_A2(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)});
  // Memory, but never executable: a parser has no code to load.
  for (int call : {SCMP_SYS(mmap), SCMP_SYS(mprotect)}) {
    rule(SCMP_ACT_ALLOW, call, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)});
    rule(SCMP_ACT_KILL_PROCESS, call, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)});
  }
  // Writing only the answer (standard output) and a diagnostic (standard error; the parent
  // makes it /dev/null); a write anywhere else ends the process.
  for (int call : {SCMP_SYS(write), SCMP_SYS(writev)}) {
    rule(SCMP_ACT_ALLOW, call, {SCMP_A0(SCMP_CMP_EQ, STDOUT_FILENO)});
    rule(SCMP_ACT_ALLOW, call, {SCMP_A0(SCMP_CMP_EQ, STDERR_FILENO)});
    rule(SCMP_ACT_KILL_PROCESS, call, {SCMP_A0(SCMP_CMP_EQ, STDIN_FILENO)});
    rule(SCMP_ACT_KILL_PROCESS, call, {SCMP_A0(SCMP_CMP_GT, STDERR_FILENO)});
  }
  // abort() (poppler out of memory, an uncaught exception) signals this process: it ends by
  // SIGABRT as it would unconfined, which the parent names. No other process may be signalled.
  rule(SCMP_ACT_ALLOW, SCMP_SYS(tgkill), {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(self)),
                                          SCMP_A2(SCMP_CMP_EQ, SIGABRT)});
  rule(SCMP_ACT_KILL_PROCESS, SCMP_SYS(tgkill), {SCMP_A0(SCMP_CMP_NE, static_cast<scmp_datum_t>(self))});
  // A terminal query (stdio asks whether its output is one) is answered "not a terminal".
  rule(SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl));
  // Files: opened to read only, never a path handle, and only where Landlock holds them under
  // the readable directories; refused (poppler then goes without its optional data) where it
  // cannot. A refused open fails with EACCES, as a file Landlock keeps from the reader does.
  if (may_open) {
    rule(SCMP_ACT_ALLOW, SCMP_SYS(openat), {SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_PATH, 0)});
    for (const int flag : {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_PATH}) {
      const auto bit = static_cast<scmp_datum_t>(flag);
      rule(SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), {SCMP_A2(SCMP_CMP_MASKED_EQ, bit, bit)});
    }
  } else {
    rule(SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat));
  }
#ifdef __NR_open
  rule(SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open));
#endif
  // What an exploit does next, never a parser: start a program, a process or a thread; reach
  // the network or another process; make a channel or executable memory some other way; leave
  // the file-system confinement (a file handle opens by inode, not path).
  for (int call : {SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(clone),
                   SCMP_SYS(clone3), SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect), SCMP_SYS(bind),
                   SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(sendto), SCMP_SYS(sendmsg),
                   SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(ptrace),
                   SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(pidfd_open),
                   SCMP_SYS(pidfd_getfd), SCMP_SYS(pidfd_send_signal), SCMP_SYS(pipe), SCMP_SYS(pipe2),
                   SCMP_SYS(memfd_create), SCMP_SYS(pkey_mprotect), SCMP_SYS(personality), SCMP_SYS(io_uring_setup),
                   SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register), SCMP_SYS(bpf), SCMP_SYS(userfaultfd),
                   SCMP_SYS(perf_event_open), SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
                   SCMP_SYS(chroot), SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(keyctl), SCMP_SYS(add_key),
                   SCMP_SYS(request_key), SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at)}) {
    rule(SCMP_ACT_KILL_PROCESS, call);
  }
  if (failed != 0) return absl::InternalError("cannot confine the reader (a seccomp rule was refused)");
  if (const int loaded = seccomp_load(filter.get()); loaded != 0) {
    return absl::InternalError(absl::StrCat("cannot confine the reader (seccomp: ", std::strerror(-loaded), ")"));
  }
  return absl::OkStatus();
}

}  // namespace agentctl
