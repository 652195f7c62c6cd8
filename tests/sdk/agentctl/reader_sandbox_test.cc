// What agentctl's PDF reader can still do once confined, each probe in a child of its own (the
// confinement cannot be undone): compute, write its answer, read what it had open, read under
// the readable directories where Landlock holds, what ordinary PDFs make its libraries do; and
// what it cannot: open another file, write, create or truncate one, learn of one by its path,
// connect, start a program, map executable memory, signal another process.
#include "reader_sandbox.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace agentctl {
namespace {

// How a confined child ended: its exit status, or the signal that ended it.
struct Ending {
  bool exited = false;
  int code = -1;    // when exited
  int signal = 0;   // when killed
  std::string out;  // what it wrote to standard output
};

// Runs `probe` in a child confined by `options`; the probe's return value is its exit status.
Ending RunConfined(const ReaderSandboxOptions& options, const std::function<int()>& probe) {
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    if (!ConfineReader(options).ok()) _exit(100);
    _exit(probe());
  }
  close(out[1]);
  Ending ending;
  char buffer[256];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;) ending.out.append(buffer, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  ending.exited = WIFEXITED(status);
  ending.code = ending.exited ? WEXITSTATUS(status) : -1;
  ending.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  // (Not a probe's answer: the kernel refused the confinement, as agentctl then refuses to read
  // any PDF.)
  EXPECT_FALSE(ending.exited && ending.code == 100) << "ConfineReader failed: this kernel allows no seccomp filter";
  return ending;
}

bool KernelHasLandlock() {
  return syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION) >= 1;
}

class ReaderSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("reader_sandbox_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "data");
    std::ofstream(dir_ / "data" / "cmap.txt") << "UniGB-UCS2-H";
    std::ofstream(dir_ / "secret.txt") << "tenant B's notes";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ReaderSandboxTest, ComputesWritesItsAnswerAndReadsWhatItHadOpen) {
  const int already_open = open((dir_ / "secret.txt").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(already_open, 0);
  const Ending ending = RunConfined({}, [&] {
    std::vector<char> memory(64 << 20, 'x');  // grows the heap through mmap
    char text[64] = {};
    if (read(already_open, text, sizeof text - 1) <= 0) return 2;
    const std::string answer = std::string("OK ") + text + " " + std::to_string(memory.size());
    return write(STDOUT_FILENO, answer.data(), answer.size()) == static_cast<ssize_t>(answer.size()) ? 0 : 3;
  });
  close(already_open);
  EXPECT_TRUE(ending.exited) << "signal " << ending.signal;
  EXPECT_EQ(ending.code, 0);
  EXPECT_EQ(ending.out, "OK tenant B's notes 67108864");
}

TEST_F(ReaderSandboxTest, OpensNoFileOutsideTheReadableDirectories) {
  const std::string secret = (dir_ / "secret.txt").string();
  const Ending ending = RunConfined({.readable_dirs = {(dir_ / "data").string()}}, [&] {
    for (const char* path : {secret.c_str(), "/etc/passwd", "/proc/self/environ"}) {
      const int fd = open(path, O_RDONLY);
      if (fd >= 0 || errno != EACCES) return 2;
    }
    return 0;
  });
  EXPECT_TRUE(ending.exited) << "signal " << ending.signal;
  EXPECT_EQ(ending.code, 0);
}

TEST_F(ReaderSandboxTest, WritesCreatesAndTruncatesNoFile) {
  const std::string secret = (dir_ / "secret.txt").string(), planted = (dir_ / "data" / "planted").string();
  const std::string data_file = (dir_ / "data" / "cmap.txt").string();
  const Ending ending = RunConfined({.readable_dirs = {(dir_ / "data").string()}}, [&] {
    if (open(secret.c_str(), O_WRONLY | O_TRUNC) >= 0) return 2;
    if (open(planted.c_str(), O_WRONLY | O_CREAT, 0644) >= 0) return 3;
    if (open(data_file.c_str(), O_RDWR) >= 0) return 4;  // readable, not writable
    if (open(data_file.c_str(), O_RDONLY | O_TRUNC) >= 0) return 5;  // (Landlock ABI 3 and the filter)
    // A descriptor it may not write reopened for writing through /proc.
    if (open(("/proc/self/fd/" + std::to_string(STDIN_FILENO)).c_str(), O_WRONLY) >= 0) return 6;
    return 0;
  });
  EXPECT_TRUE(ending.exited) << "signal " << ending.signal;
  EXPECT_EQ(ending.code, 0);
  EXPECT_FALSE(std::filesystem::exists(planted));
  std::ifstream in(secret);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "tenant B's notes");
  std::ifstream data(data_file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(data), {}), "UniGB-UCS2-H");
}

// What ordinary PDFs made glibc and poppler's libraries do, which a first filter ended the reader
// for: a sort of 128 or more text blocks (glibc's qsort asks sysinfo how much memory there is),
// fontconfig's look for a fallback font (access, readlink), abort() when poppler runs out of
// memory (it signals itself: SIGABRT, named by the parent as memory, not as hostility).
TEST_F(ReaderSandboxTest, LetsLibrariesDoWhatOrdinaryPdfsMakeThemDo) {
  const Ending sorted = RunConfined({}, [] {
    std::vector<const char*> blocks(4096, nullptr);
    std::vector<char> words(blocks.size());
    for (size_t i = 0; i < blocks.size(); ++i) blocks[i] = &words[blocks.size() - 1 - i];
    std::qsort(blocks.data(), blocks.size(), sizeof(const char*), [](const void* a, const void* b) {
      const char* x = *static_cast<const char* const*>(a);
      const char* y = *static_cast<const char* const*>(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return std::is_sorted(blocks.begin(), blocks.end()) ? 0 : 2;
  });
  EXPECT_TRUE(sorted.exited) << "signal " << sorted.signal;
  EXPECT_EQ(sorted.code, 0);
  const Ending looked = RunConfined({}, [] {
    char target[64];
    if (access("/etc/fonts/fonts.conf", R_OK) == 0) return 2;
    if (readlink("/proc/self/exe", target, sizeof target) >= 0) return 3;
    return 0;
  });
  EXPECT_TRUE(looked.exited) << "signal " << looked.signal;
  EXPECT_EQ(looked.code, 0);
  const Ending aborted = RunConfined({}, [] {
    std::abort();
    return 2;
  });
  EXPECT_EQ(aborted.signal, SIGABRT);
}

// The status of what it has open, not of a path: whether a file exists, its size, owner and
// times are not the reader's to learn.
TEST_F(ReaderSandboxTest, LearnsNothingOfFilesByTheirPath) {
  const std::string secret = (dir_ / "secret.txt").string();
  const Ending ending = RunConfined({}, [&] {
    struct stat status {};
    if (fstat(STDOUT_FILENO, &status) != 0) return 2;
    if (stat(secret.c_str(), &status) == 0 || stat("/etc/passwd", &status) == 0) return 3;
    if (open(secret.c_str(), O_PATH) >= 0) return 4;
    return 0;
  });
  EXPECT_TRUE(ending.exited) << "signal " << ending.signal;
  EXPECT_EQ(ending.code, 0);
}

TEST_F(ReaderSandboxTest, ReadsUnderTheReadableDirectoriesWhereTheKernelHasLandlock) {
  const std::string data_file = (dir_ / "data" / "cmap.txt").string();
  const Ending ending = RunConfined({.readable_dirs = {(dir_ / "data").string()}}, [&] {
    const int fd = open(data_file.c_str(), O_RDONLY);
    if (fd < 0) return errno == EACCES ? 10 : 2;
    char text[64] = {};
    if (read(fd, text, sizeof text - 1) <= 0) return 3;
    return write(STDOUT_FILENO, text, std::strlen(text)) > 0 ? 0 : 4;
  });
  EXPECT_TRUE(ending.exited) << "signal " << ending.signal;
  if (KernelHasLandlock()) {
    EXPECT_EQ(ending.code, 0);
    EXPECT_EQ(ending.out, "UniGB-UCS2-H");
  } else {
    EXPECT_EQ(ending.code, 10) << "without Landlock no file may be opened";
  }
}

// Each of these is what an exploit in the parser would do next; each ends the child.
TEST_F(ReaderSandboxTest, EndsTheReaderOnAnythingParsingNeverNeeds) {
  const int opened_for_writing = open((dir_ / "secret.txt").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(opened_for_writing, 0);
  const pid_t parent = getpid();
  const std::vector<std::pair<std::string, std::function<int()>>> attempts = {
      {"socket", [] { return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 2; }},
      {"execve", [] {
         const char* argv[] = {"/bin/true", nullptr};
         execv("/bin/true", const_cast<char* const*>(argv));
         return 2;
       }},
      {"fork", [] { return static_cast<int>(syscall(SYS_fork)) >= 0 ? 0 : 2; }},
      {"clone thread", [] { return static_cast<int>(syscall(SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, 0, 0, 0, 0)) >= 0 ? 0 : 2; }},
      {"kill", [parent] { return kill(parent, 0) == 0 ? 0 : 2; }},
      {"ptrace", [] { return static_cast<int>(syscall(SYS_ptrace, 0, 0, 0, 0)) == 0 ? 0 : 2; }},
      {"executable mmap", [] {
         return mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED ? 0 : 2;
       }},
      {"mprotect to executable", [] {
         void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         return mprotect(page, 4096, PROT_READ | PROT_EXEC) == 0 ? 0 : 2;
       }},
      {"write to another descriptor", [&] { return write(opened_for_writing, "x", 1) == 1 ? 0 : 2; }},
      {"pipe", [] {
         int ends[2];
         return pipe(ends) == 0 ? 0 : 2;
       }},
      {"write to standard input", [] { return write(STDIN_FILENO, "x", 1) == 1 ? 0 : 2; }},
      {"signal another process", [parent] { return static_cast<int>(syscall(SYS_tgkill, parent, parent, SIGABRT)); }},
      {"personality (read implies exec)", [] { return static_cast<int>(syscall(SYS_personality, 0x0400000)) >= 0 ? 0 : 2; }},
  };
  for (const auto& [name, attempt] : attempts) {
    const Ending ending = RunConfined({}, attempt);
    EXPECT_FALSE(ending.exited) << name << " was let through (exit " << ending.code << ")";
    EXPECT_EQ(ending.signal, SIGSYS) << name;
  }
  close(opened_for_writing);
  std::ifstream in(dir_ / "secret.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "tenant B's notes");
}

}  // namespace
}  // namespace agentctl
