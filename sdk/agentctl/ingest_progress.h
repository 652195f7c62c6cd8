// The status line `agentctl memory ingest` keeps on a terminal: files and chunks done, the rate,
// the time left (from the bytes sent so far), and the file the daemon is working on with how
// long it has taken — redrawn twice a second, so a file that takes minutes (a 4 MB document is
// thousands of chunks to embed) still shows that work is going on. Nothing is drawn when
// standard error is not a terminal or the output is --json.
#ifndef AGENTD_SDK_AGENTCTL_INGEST_PROGRESS_H_
#define AGENTD_SDK_AGENTCTL_INGEST_PROGRESS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace agentctl {

class IngestProgress {
 public:
  // `enabled` false: every call is a no-op.
  IngestProgress(size_t files, uint64_t bytes, bool enabled);
  // Stops redrawing and clears the line (Finish, if it was not called).
  ~IngestProgress();
  // Stops redrawing and clears the line, before the result is printed. Idempotent.
  void Finish();
  IngestProgress(const IngestProgress&) = delete;
  IngestProgress& operator=(const IngestProgress&) = delete;

  // A request with these files is on its way; `first` names it on the line.
  void Sending(const std::string& first, size_t files);
  // It came back: so many files, bytes and chunks more are done.
  void Done(size_t files, uint64_t bytes, uint64_t chunks);

 private:
  using Clock = std::chrono::steady_clock;
  void Draw();  // with mutex_ held

  const bool enabled_;
  const size_t total_files_;
  const uint64_t total_bytes_;
  const Clock::time_point start_ = Clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  size_t files_done_ = 0, files_sending_ = 0;
  uint64_t bytes_done_ = 0, chunks_done_ = 0;
  std::string current_;
  Clock::time_point sent_at_ = Clock::now();
  std::thread ticker_;
};

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_INGEST_PROGRESS_H_
