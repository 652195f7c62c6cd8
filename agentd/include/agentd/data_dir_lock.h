// Exclusive ownership of a data directory, so two daemons never write the same RocksDB files.
//
// Acquire() creates the directory if needed, checks it is writable, and takes an advisory lock
// (flock) on DATA_DIR/LOCK. The kernel drops the lock when the process dies, even by SIGKILL,
// so a crashed daemon never leaves a stale lock behind. The LOCK file records the owner's pid
// so the refusal message can name it.
#ifndef AGENTD_DATA_DIR_LOCK_H_
#define AGENTD_DATA_DIR_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace agentd {

class DataDirLock {
 public:
  // FAILED_PRECONDITION when another process holds the lock; PERMISSION_DENIED or
  // INVALID_ARGUMENT when the directory cannot be created or written.
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);

  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  const std::string& data_dir() const { return data_dir_; }

 private:
  DataDirLock(std::string data_dir, int fd) : data_dir_(std::move(data_dir)), fd_(fd) {}
  std::string data_dir_;
  int fd_;
};

}  // namespace agentd

#endif  // AGENTD_DATA_DIR_LOCK_H_
