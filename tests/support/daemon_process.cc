#include "support/daemon_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace testing_support {
namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base ? base : "/tmp") + "/agentd-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  // A test may have made parts read-only; make them removable first.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

std::string BinaryPath(const std::string& name) { return std::string(AGENTD_BIN_DIR) + "/" + name; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

namespace {

pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path,
            const std::string& err_path) {
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  // A test that crashes must not leave daemons behind.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int in = open("/dev/null", O_RDONLY);
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  execv(args[0], args.data());
  _exit(127);
}

// Exit code, -1 for a signal, nullopt on timeout.
std::optional<int> WaitPid(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  TempDir scratch;
  std::string out_path = scratch.Join("out"), err_path = scratch.Join("err");
  pid_t pid = Spawn(argv, out_path, err_path);
  CommandResult result;
  std::optional<int> code = WaitPid(pid, timeout);
  if (!code) {
    kill(pid, SIGKILL);
    WaitPid(pid, std::chrono::seconds(10));
  }
  result.exit_code = code.value_or(-1);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

CommandResult RunCommandInTerminal(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int terminal = -1;
  const pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // as Spawn's children: none outlives a crashed test
    execv(args[0], args.data());
    _exit(127);
  }
  fcntl(terminal, F_SETFD, FD_CLOEXEC);
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd readable{terminal, POLLIN, 0};
    if (poll(&readable, 1, 100) <= 0) continue;
    const ssize_t n = read(terminal, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EIO once the command has exited and its side of the terminal closed
    result.out.append(buffer, static_cast<size_t>(n));
  }
  close(terminal);
  std::optional<int> code = WaitPid(pid, std::chrono::seconds(10));
  if (!code) {
    kill(pid, SIGKILL);
    WaitPid(pid, std::chrono::seconds(10));
  }
  result.exit_code = code.value_or(-1);
  return result;
}

std::optional<DaemonProcess> DaemonProcess::Start(const std::string& data_dir,
                                                  const std::vector<std::string>& extra_args,
                                                  std::string* error,
                                                  std::chrono::milliseconds timeout,
                                                  bool add_model_none) {
  DaemonProcess daemon;
  daemon.scratch_ = std::make_unique<TempDir>();
  std::string port_file = daemon.scratch_->Join("port");
  daemon.log_path_ = daemon.scratch_->Join("agentd.log");
  std::vector<std::string> argv = {BinaryPath("agentd"), "--listen", "127.0.0.1:0", "--data-dir",
                                   data_dir, "--port-file", port_file};
  // Tests say which model they need; without --model a daemon would load the shipped one.
  if (add_model_none && std::find(extra_args.begin(), extra_args.end(), "--model") == extra_args.end()) {
    argv.insert(argv.end(), {"--model", "none"});
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  daemon.pid_ = Spawn(argv, daemon.scratch_->Join("stdout"), daemon.log_path_);

  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string port_text = ReadFile(port_file);
    if (!port_text.empty()) {
      daemon.port_ = std::atoi(port_text.c_str());
      return daemon;
    }
    int status = 0;
    if (waitpid(daemon.pid_, &status, WNOHANG) == daemon.pid_) {
      daemon.pid_ = -1;
      *error = "agentd exited before serving: " + ReadFile(daemon.log_path_);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "agentd did not serve in time: " + ReadFile(daemon.log_path_);
  return std::nullopt;
}

DaemonProcess::DaemonProcess(DaemonProcess&& other) noexcept
    : pid_(other.pid_), port_(other.port_), log_path_(std::move(other.log_path_)),
      scratch_(std::move(other.scratch_)) {
  other.pid_ = -1;
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    WaitPid(pid_, std::chrono::seconds(10));
  }
}

void DaemonProcess::Signal(int signal_number) const {
  if (pid_ > 0) kill(pid_, signal_number);
}

std::optional<int> DaemonProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  std::optional<int> code = WaitPid(pid_, timeout);
  if (code) pid_ = -1;
  return code;
}

std::string DaemonProcess::Log() const { return ReadFile(log_path_); }

DaemonProcess StartDaemonOrThrow(const std::string& data_dir, const std::vector<std::string>& extra_args) {
  std::string error;
  std::optional<DaemonProcess> daemon = DaemonProcess::Start(data_dir, extra_args, &error);
  if (!daemon) throw std::runtime_error(error);
  return std::move(*daemon);
}

std::string TinyChatModelDir() { return std::string(AGENTD_TEST_DATA_DIR) + "/models/deepseek_v3_tiny_chat"; }

}  // namespace testing_support
