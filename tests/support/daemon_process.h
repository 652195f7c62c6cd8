// Test helpers that start the real binaries from build/bin as subprocesses: the daemon on an
// ephemeral 127.0.0.1 port with a temporary data directory, and one-shot commands (agentctl,
// agentd with bad flags) whose exit code and output the tests check.
#ifndef AGENTD_TESTS_SUPPORT_DAEMON_PROCESS_H_
#define AGENTD_TESTS_SUPPORT_DAEMON_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace testing_support {

// A directory under $TMPDIR (or /tmp) removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string BinaryPath(const std::string& name);
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with the arguments, waits up to `timeout`, and collects its output.
// The default is a guard against hangs, not a speed check: CI's 2-core machines vary in speed
// from run to run (one took 60 s to embed the three seed files that take 12 s here) and run two
// model-bound tests at once.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(240));

// RunCommand with the command's standard output and error on a pseudo-terminal, as a person at a
// terminal runs it: `out` holds what the terminal received (both streams, line breaks as the
// terminal driver writes them, "\r\n"). `err` stays empty.
CommandResult RunCommandInTerminal(const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(240));

class DaemonProcess {
 public:
  // Starts `agentd --listen 127.0.0.1:0 --data-dir DATA_DIR --port-file ...` plus `extra_args`
  // (plus `--model none` when they name no --model and add_model_none is set: a test chooses
  // its model; `--model default` is the shipped one) and waits for the port file. Returns nullopt (with the reason in *error) when the daemon
  // exits or does not serve within `timeout`.
  static std::optional<DaemonProcess> Start(const std::string& data_dir,
                                            const std::vector<std::string>& extra_args,
                                            std::string* error,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(60),
                                            bool add_model_none = true);

  DaemonProcess(DaemonProcess&& other) noexcept;
  DaemonProcess& operator=(DaemonProcess&&) = delete;
  // Kills the daemon (SIGKILL) if it is still running.
  ~DaemonProcess();

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

  void Signal(int signal_number) const;
  // The exit code, or -1 for death by signal, or nullopt if it did not exit within `timeout`.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout);
  // Everything the daemon wrote to stderr so far (its structured log).
  std::string Log() const;

 private:
  DaemonProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  std::unique_ptr<TempDir> scratch_;
};

// Starts the daemon (as DaemonProcess::Start) or throws with the reason and the daemon's log,
// which gtest reports as the test's failure.
DaemonProcess StartDaemonOrThrow(const std::string& data_dir, const std::vector<std::string>& extra_args = {});

// The tiny DeepSeek-V3 test checkpoint with a small tokenizer (tests/data/models).
std::string TinyChatModelDir();

}  // namespace testing_support

#endif  // AGENTD_TESTS_SUPPORT_DAEMON_PROCESS_H_
