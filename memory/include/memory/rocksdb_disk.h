// How agentd's RocksDB databases — the state store (DATA_DIR/state) and the memory store
// (DATA_DIR/memory/db) — live with a disk that fills up: they stay up, refuse writes with
// RESOURCE_EXHAUSTED naming their directory, keep serving reads, and write again as soon as the
// disk has room, without a restart.
//
//   memory::DiskAwareDb disk(path, env);  // outlives the database
//   rocksdb::DBOptions options;
//   disk.Configure(&options);
//   ... rocksdb::DB::Open(options, path, ...) ...
//   absl::Status s = disk.Write(db, write_options, &batch, "state store: write run");
//
// Every write to such a database must go through Write(): see there.
#ifndef AGENTD_MEMORY_ROCKSDB_DISK_H_
#define AGENTD_MEMORY_ROCKSDB_DISK_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rocksdb {
class DB;
class Env;
class FileSystem;
class Status;
class WriteBatch;
struct DBOptions;
struct WriteOptions;
}  // namespace rocksdb

namespace memory {

class DiskAwareDb {
 public:
  // `path` is the database directory (named in errors). `base` is the Env its files are written
  // through; nullptr for the default (tests pass one that fails on demand). Not owned.
  explicit DiskAwareDb(std::string path, rocksdb::Env* base = nullptr);
  ~DiskAwareDb();
  DiskAwareDb(const DiskAwareDb&) = delete;
  DiskAwareDb& operator=(const DiskAwareDb&) = delete;

  // Sets what the database needs in `options` (which must then open it):
  // - its files go through an Env whose info log (DIR/LOG) is written best-effort. Debian's
  //   RocksDB 7.8 is built with assertions, and its logger writes to the LOG again after a
  //   write to it failed: on a full disk that assertion aborted the daemon within a second of
  //   the first failed write (and at every start while the disk stayed full). Log lines lost
  //   while the disk is full are the lesser harm.
  // - its WALs take a failed write back (cut to their last sync), so that no torn record is
  //   left in a WAL that later ones follow: RocksDB's point-in-time recovery refuses to open
  //   such a database ("SST file is ahead of WALs").
  // - no file is preallocated (see Configure's body).
  // - RocksDB's own recovery from a full disk is off: it waits for 64 MiB free (a memtable)
  //   whatever the memtables hold, polls every 5 s, and while it waits DB::Resume() answers
  //   Busy. Write() resumes the database itself.
  // - it learns when the default family's memtable is flushed, for Write()'s marker.
  // This object must outlive the database.
  void Configure(rocksdb::DBOptions* options);

  // db->Write. When the database has stopped writing after a full disk (RocksDB's background
  // error, which otherwise lasts until a restart) and the disk has 4 MiB free again:
  // DB::Resume() — which flushes the memtables to new files and a new WAL — and the
  // write once more. A failed write applied nothing, so writing it again is safe. The resume
  // runs on a thread of its own, waited for up to kResumeWait (RocksDB 7.8 can hang in it).
  //
  // RocksDB 7.8 starts that new WAL only from a memtable that holds something: after a failed
  // write into empty memtables (the first write after an open or a resume) the WAL whose write
  // failed stayed in use, and writing to it again aborted the process (or failed for good
  // without assertions; facebook/rocksdb#11643). So before the first write after an open, or
  // after a flush of the default family, a marker kept out of the WAL goes into the default
  // family's memtable (IsWalLessMarker). Every write to the database must come through here.
  absl::Status Write(rocksdb::DB* db, const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch,
                     absl::string_view what) const;

  // Ends the thread resumes run on. Call before closing the database; a resume still running
  // then is cut short.
  void Stop(rocksdb::DB* db);

  // Whether `sequence` is one of the markers above: a sequence number no WAL holds, which a
  // reader of the WAL (GetUpdatesSince) finds as a gap.
  static bool IsWalLessMarker(rocksdb::DB* db, uint64_t sequence);

  // A RocksDB status of this database as an absl one naming `what` (e.g. "state store: write
  // run"): RESOURCE_EXHAUSTED for a full disk (naming the directory, and that writes resume once
  // space is freed), UNAVAILABLE for other I/O errors, DATA_LOSS for corruption, INTERNAL
  // otherwise.
  absl::Status Error(const rocksdb::Status& status, absl::string_view what) const;

  const std::string& path() const { return path_; }
  // The file system the database's files go through (`base`'s), for files a store writes
  // beside its database.
  rocksdb::FileSystem* file_system() const;

 private:
  class Resumer;
  // Free space below which no resume is tried, and how long a write waits for one.
  static constexpr uint64_t kResumeMinFreeBytes = 4 << 20;
  static constexpr std::chrono::seconds kResumeWait{30};

  // Writes the marker when one is needed; under mutex_ held exclusively.
  rocksdb::Status WriteMarker(rocksdb::DB* db) const;
  // The marker if needed, then the batch.
  rocksdb::Status WriteOnce(rocksdb::DB* db, const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch) const;
  // Resumes `db` unless the disk is still full; true when it then writes again.
  bool ResumeIfRoom(rocksdb::DB* db) const;

  std::string path_;
  rocksdb::Env* base_;
  std::unique_ptr<rocksdb::Env> env_;
  // Set while the default family's memtable may be empty; the listener sets it on a flush.
  std::shared_ptr<std::atomic<bool>> marker_needed_;
  // Writes hold it shared, writing the marker exclusively: its sequence number is the next one.
  mutable std::shared_mutex mutex_;
  std::unique_ptr<Resumer> resumer_;
};

// As DiskAwareDb::Error, for a store at `path`.
absl::Status RocksStatusToAbsl(const rocksdb::Status& status, absl::string_view what, absl::string_view path);

}  // namespace memory

#endif  // AGENTD_MEMORY_ROCKSDB_DISK_H_
