#include "memory/rocksdb_disk.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/convenience.h"
#include "rocksdb/write_batch.h"

namespace memory {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

// The info log's file: every write reports success, whatever became of it. RocksDB's logger
// writes through a WritableFileWriter that, in builds with assertions (Debian's), aborts when
// written to again after one of its writes failed; a LOG line lost on a full disk is no harm.
class BestEffortFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  explicit BestEffortFile(std::unique_ptr<rocksdb::FSWritableFile>&& file)
      : FSWritableFileOwnerWrapper(std::move(file)) {}
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    target()->Append(data, options, dbg).PermitUncheckedError();
    return IOStatus::OK();
  }
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    target()->Append(data, options, info, dbg).PermitUncheckedError();
    return IOStatus::OK();
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    target()->PositionedAppend(data, offset, options, dbg).PermitUncheckedError();
    return IOStatus::OK();
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    target()->PositionedAppend(data, offset, options, info, dbg).PermitUncheckedError();
    return IOStatus::OK();
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    target()->Flush(options, dbg).PermitUncheckedError();
    return IOStatus::OK();
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    target()->Sync(options, dbg).PermitUncheckedError();
    return IOStatus::OK();
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    target()->Fsync(options, dbg).PermitUncheckedError();
    return IOStatus::OK();
  }
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    target()->Close(options, dbg).PermitUncheckedError();
    return IOStatus::OK();
  }
};

// A WAL whose failed write is taken back: the file is cut back to what its last successful sync
// held. Without it, a write the disk had room for only in part left a torn record in a WAL that
// later WALs followed (a resume starts a new one), and RocksDB's point-in-time recovery then
// refused to open the database ("SST file is ahead of WALs"): a full disk, freed and restarted,
// left a data directory that would not open. What is cut was never acknowledged (every write
// of agentd's stores is synced before it is), and the database is not written there again: a
// failed WAL write stops it until a resume, which starts a new WAL (rocksdb_disk.h).
class WholeRecordsFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  explicit WholeRecordsFile(std::unique_ptr<rocksdb::FSWritableFile>&& file)
      : FSWritableFileOwnerWrapper(std::move(file)) {}
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return TakeBackOnError(target()->Append(data, options, dbg));
  }
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options, const rocksdb::DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return TakeBackOnError(target()->Append(data, options, info, dbg));
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return TakeBackOnError(target()->PositionedAppend(data, offset, options, dbg));
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return TakeBackOnError(target()->PositionedAppend(data, offset, options, info, dbg));
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return Synced(target()->Sync(options, dbg));
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return Synced(target()->Fsync(options, dbg));
  }

 private:
  IOStatus TakeBackOnError(IOStatus status) {
    if (!status.ok()) target()->Truncate(synced_, IOOptions(), nullptr).PermitUncheckedError();
    return status;
  }
  IOStatus Synced(IOStatus status) {
    if (status.ok()) {
      synced_ = target()->GetFileSize(IOOptions(), nullptr);
      return status;
    }
    return TakeBackOnError(std::move(status));
  }

  std::mutex mutex_;
  uint64_t synced_ = 0;  // bytes the last successful sync made durable
};

// "000123.log": a WAL (RocksDB keeps them in the database directory unless told otherwise).
bool IsWal(const std::filesystem::path& name) {
  const std::string stem = name.stem().string();
  return name.extension() == ".log" && !stem.empty() &&
         std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The database's files as `target` writes them, except the info log (DIR/LOG, the only file of
// that name RocksDB writes), which is written best-effort, and the WALs, whose failed writes
// are taken back.
class DataDirFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit DataDirFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target) : FileSystemWrapper(target) {}
  static const char* kClassName() { return "AgentdDataDir"; }
  const char* Name() const override { return kClassName(); }

  IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                           std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) override {
    IOStatus status = target()->NewWritableFile(name, options, result, dbg);
    if (!status.ok()) return status;
    const std::filesystem::path path(name);
    if (path.filename() == "LOG") {
      *result = std::make_unique<BestEffortFile>(std::move(*result));
    } else if (IsWal(path.filename())) {
      *result = std::make_unique<WholeRecordsFile>(std::move(*result));
    }
    return status;
  }
  // FileSystemWrapper hands this to the target, whose logger would open the file without
  // passing through NewWritableFile above; FileSystem's own opens it through it.
  IOStatus NewLogger(const std::string& name, const IOOptions& options, std::shared_ptr<rocksdb::Logger>* result,
                     IODebugContext* dbg) override {
    return FileSystem::NewLogger(name, options, result, dbg);
  }
};

// Turns RocksDB's automatic recovery from background errors off (see Configure), and notes
// when the default family's memtable is replaced by an empty one.
class DiskListener : public rocksdb::EventListener {
 public:
  explicit DiskListener(std::shared_ptr<std::atomic<bool>> marker_needed) : marker_needed_(std::move(marker_needed)) {}
  const char* Name() const override { return "AgentdDiskListener"; }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status bg_error, bool* auto_recovery) override {
    bg_error.PermitUncheckedError();
    *auto_recovery = false;
  }
  void OnMemTableSealed(const rocksdb::MemTableInfo& info) override {
    if (info.cf_name == rocksdb::kDefaultColumnFamilyName) marker_needed_->store(true);
  }

 private:
  std::shared_ptr<std::atomic<bool>> marker_needed_;
};

std::string MarkerKey(uint64_t sequence) {
  char key[48];
  std::snprintf(key, sizeof key, "agentd.wal-less.%020llu", static_cast<unsigned long long>(sequence));
  return key;
}

bool IsDiskFull(const rocksdb::Status& status) {
  return status.IsNoSpace() || status.subcode() == rocksdb::Status::SubCode::kSpaceLimit;
}

}  // namespace

absl::Status RocksStatusToAbsl(const rocksdb::Status& status, absl::string_view what, absl::string_view path) {
  if (status.ok()) return absl::OkStatus();
  if (IsDiskFull(status)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": the disk holding ", path, " is full (", status.ToString(), ")"));
  }
  if (status.IsIOError()) {
    return absl::UnavailableError(absl::StrCat(what, ": cannot read or write ", path, " (", status.ToString(), ")"));
  }
  if (status.IsCorruption()) return absl::DataLossError(absl::StrCat(what, ": ", path, ": ", status.ToString()));
  return absl::InternalError(absl::StrCat(what, ": ", status.ToString()));
}

// Runs DB::Resume() on a thread of its own, one attempt at a time, for writers that wait for it
// a bounded time: in RocksDB 7.8 a resume can wait for good for a flush that an earlier failed
// one orphaned (facebook/rocksdb#15030), and no writer may hang with it.
class DiskAwareDb::Resumer {
 public:
  ~Resumer() { Stop(nullptr); }

  // Starts an attempt and waits for it up to `wait`; true when it finished and succeeded. While
  // one runs, false at once: a writer waits for its own attempt only, so a resume that hangs
  // delays one write, not every one after it.
  bool Resume(rocksdb::DB* db, std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    if (stopping_ || running_) return false;
    running_ = true;
    ++attempt_;
    db_ = db;
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    wake_.notify_all();
    const uint64_t attempt = attempt_;
    done_.wait_for(lock, wait, [&] { return finished_ >= attempt; });
    return finished_ >= attempt && succeeded_;
  }

  // Ends the thread. A resume still running is cut short (DB shutdown) so it cannot outlive the
  // database: the caller closes `db` next.
  void Stop(rocksdb::DB* db) {
    {
      std::unique_lock lock(mutex_);
      stopping_ = true;
      if (running_ && db != nullptr) rocksdb::CancelAllBackgroundWork(db, /*wait=*/false);
      wake_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || running_; });
      if (!running_) return;
      rocksdb::DB* db = db_;
      lock.unlock();
      const bool succeeded = db->Resume().ok();
      lock.lock();
      running_ = false;
      succeeded_ = succeeded;
      finished_ = attempt_;
      done_.notify_all();
      if (stopping_) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::thread thread_;
  rocksdb::DB* db_ = nullptr;
  bool running_ = false, stopping_ = false, succeeded_ = false;
  uint64_t attempt_ = 0, finished_ = 0;
};

DiskAwareDb::DiskAwareDb(std::string path, rocksdb::Env* base)
    : path_(std::move(path)),
      base_(base != nullptr ? base : rocksdb::Env::Default()),
      marker_needed_(std::make_shared<std::atomic<bool>>(true)),
      resumer_(std::make_unique<Resumer>()) {}

DiskAwareDb::~DiskAwareDb() = default;

void DiskAwareDb::Configure(rocksdb::DBOptions* options) {
  env_ = rocksdb::NewCompositeEnv(std::make_shared<DataDirFileSystem>(base_->GetFileSystem()));
  options->env = env_.get();
  // No preallocation: RocksDB reserves 1.1 memtables (70 MiB) for each new WAL and 4 MiB for
  // each MANIFEST. On a nearly full disk the first database's reservation took what was left
  // (ext4 keeps a partial fallocate), so the other could not even open, and a fresh start
  // needed some 150 MiB free to write a few KB; a WAL switched by a resume took 70 MiB of the
  // space just freed. Files now take what they hold.
  options->allow_fallocate = false;
  options->listeners.push_back(std::make_shared<DiskListener>(marker_needed_));
}

void DiskAwareDb::Stop(rocksdb::DB* db) { resumer_->Stop(db); }

rocksdb::Status DiskAwareDb::WriteMarker(rocksdb::DB* db) const {
  if (!marker_needed_->load()) return rocksdb::Status::OK();
  // No other write runs (mutex_ is held exclusively), so the marker's sequence number is the
  // next one.
  const uint64_t sequence = db->GetLatestSequenceNumber() + 1;
  rocksdb::WriteOptions no_wal;
  no_wal.disableWAL = true;
  rocksdb::Status status = db->Put(no_wal, db->DefaultColumnFamily(), MarkerKey(sequence), "");
  if (status.ok()) marker_needed_->store(false);
  return status;
}

bool DiskAwareDb::IsWalLessMarker(rocksdb::DB* db, uint64_t sequence) {
  std::string value;
  return db->Get(rocksdb::ReadOptions(), db->DefaultColumnFamily(), MarkerKey(sequence), &value).ok();
}

rocksdb::Status DiskAwareDb::WriteOnce(rocksdb::DB* db, const rocksdb::WriteOptions& options,
                                       rocksdb::WriteBatch* batch) const {
  if (marker_needed_->load()) {
    std::unique_lock lock(mutex_);
    // One that cannot be written (the database stopped) is written before a later write.
    WriteMarker(db).PermitUncheckedError();
  }
  std::shared_lock lock(mutex_);
  return db->Write(options, batch);
}

bool DiskAwareDb::ResumeIfRoom(rocksdb::DB* db) const {
  // Not while the disk is still full: a resume flushes the memtables, and one whose flush fails
  // costs that work for nothing. (What the flush needs is not known beforehand: a memtable
  // holds every version of a key, a table file only the last.)
  uint64_t free = 0;
  if (!base_->GetFreeSpace(path_, &free).ok() || free < kResumeMinFreeBytes) return false;
  return resumer_->Resume(db, kResumeWait);
}

absl::Status DiskAwareDb::Write(rocksdb::DB* db, const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch,
                                absl::string_view what) const {
  rocksdb::Status status = WriteOnce(db, options, batch);
  if (IsDiskFull(status) && ResumeIfRoom(db)) status = WriteOnce(db, options, batch);
  if (IsDiskFull(status)) {
    // What a client can do about it, and that nothing of it is half there.
    return absl::ResourceExhaustedError(absl::StrCat(what, ": not written: the disk holding ", path_,
                                                     " is full; writes resume by themselves once it has room (",
                                                     status.ToString(), ")"));
  }
  return Error(status, what);
}

rocksdb::FileSystem* DiskAwareDb::file_system() const { return base_->GetFileSystem().get(); }

absl::Status DiskAwareDb::Error(const rocksdb::Status& status, absl::string_view what) const {
  return RocksStatusToAbsl(status, what, path_);
}

}  // namespace memory
