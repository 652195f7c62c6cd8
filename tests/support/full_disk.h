// A disk that fills up on demand, for tests of the stores on a full disk without root or a
// mount: a RocksDB file system over the real one whose writes fail with ENOSPC's status while it
// is "full". A failing append first writes half of its data, as a disk with room for only part
// of it does, so a torn record is left where one would be.
//
//   auto disk = std::make_shared<testing_support::FullDiskFileSystem>();
//   std::unique_ptr<rocksdb::Env> env = testing_support::NewEnv(disk);
//   options.env = env.get();           // StateStoreOptions, MemoryStoreOptions
//   disk->Fill();  ...  disk->Free();
#ifndef AGENTD_TESTS_SUPPORT_FULL_DISK_H_
#define AGENTD_TESTS_SUPPORT_FULL_DISK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace testing_support {

class FullDiskFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FullDiskFileSystem();
  static const char* kClassName() { return "TestFullDisk"; }
  const char* Name() const override { return kClassName(); }

  // From now on writes to files whose name contains `only` (every file when empty) fail, and
  // the free space reads 0 (only when `only` is empty). The next `spared` such files created
  // are written in full: room for that much and no more.
  void Fill(const std::string& only = "", int spared = 0);
  void Free();
  // Writes that failed so far.
  uint64_t failed_writes() const { return failed_writes_; }
  bool Fails(const std::string& file_name) const;
  // For a file being created: false when Fill's `spared` exempts it.
  bool Spares(const std::string& file_name);
  void CountFailure() { ++failed_writes_; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& options, uint64_t* free,
                                 rocksdb::IODebugContext* dbg) override;

 private:
  mutable std::mutex mutex_;
  bool full_ = false;
  std::string only_;
  int spared_ = 0;
  std::atomic<uint64_t> failed_writes_{0};
};

// An Env writing its files through `disk` (threads and clock as the default one's).
std::unique_ptr<rocksdb::Env> NewEnv(const std::shared_ptr<FullDiskFileSystem>& disk);

}  // namespace testing_support

#endif  // AGENTD_TESTS_SUPPORT_FULL_DISK_H_
