// The daemon's own RocksDB database (DATA_DIR/state): run records, checkpoints and daemon
// metadata live in its column families. The memory component keeps its collections in a
// database of its own.
//
// Open() creates the database on first use and stamps it with a format magic and version in the
// `meta` column family; a database written by an incompatible version is refused rather than
// misread, and one of an older version this agentd reads is stamped with the current one.
// Close() (also run by the destructor) syncs the WAL and flushes memtables so a clean shutdown
// leaves nothing to replay. On a full disk writes are RESOURCE_EXHAUSTED and resume by
// themselves once there is room (memory/rocksdb_disk.h).
#ifndef AGENTD_STATE_STORE_H_
#define AGENTD_STATE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class Status;
class WriteBatch;
}  // namespace rocksdb

namespace memory {
class DiskAwareDb;
}  // namespace memory

namespace agentd {

struct StateStoreOptions {
  // Database directory. Required.
  std::string path;
  // Column families besides "default" and "meta" that callers need; created when missing.
  std::vector<std::string> column_families;
  // The Env the database's files are written through; nullptr for the default. Tests pass one
  // that fails on demand. Not owned; outlives the store.
  rocksdb::Env* env = nullptr;
};

class StateStore {
 public:
  static constexpr char kFormatMagic[] = "AGENTD-STATE";
  // 2: runs stored in parts (runs/run_store.h). A database stamped 1 is read as it is (its
  // runs are read in their old format) and stamped 2, so that an agentd that reads only 1
  // refuses it instead of skipping the runs it cannot parse.
  static constexpr int kFormatVersion = 2;
  static constexpr int kOldestReadableVersion = 1;

  static absl::StatusOr<std::unique_ptr<StateStore>> Open(const StateStoreOptions& options);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Syncs the WAL, flushes memtables and closes the database. Idempotent.
  absl::Status Close();

  rocksdb::DB* db() { return db_.get(); }

  // Writes `batch` synced (memory::DiskAwareDb::Write: on a full disk RESOURCE_EXHAUSTED naming
  // the directory, and writing again once there is room). `what` names the write in errors.
  absl::Status Write(rocksdb::WriteBatch* batch, absl::string_view what);
  // A RocksDB status of this store as an absl one naming `what` (RESOURCE_EXHAUSTED for a full
  // disk, UNAVAILABLE for other I/O errors, DATA_LOSS for corruption).
  absl::Status Error(const rocksdb::Status& status, absl::string_view what) const;
  // nullptr for a name not opened.
  rocksdb::ColumnFamilyHandle* column_family(const std::string& name) const;

  // How many times a daemon has opened this database, this time included.
  uint64_t open_count() const { return open_count_; }

 private:
  StateStore();
  // Declared before db_: the database's Env lives in it and must outlive the database.
  std::unique_ptr<memory::DiskAwareDb> disk_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  uint64_t open_count_ = 0;
};

}  // namespace agentd

#endif  // AGENTD_STATE_STORE_H_
