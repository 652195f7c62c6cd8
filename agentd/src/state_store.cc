#include "agentd/state_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "memory/rocksdb_disk.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace agentd {
namespace {

constexpr char kMetaFamily[] = "meta";
constexpr char kFormatKey[] = "format";
constexpr char kOpenCountKey[] = "open_count";

}  // namespace

StateStore::StateStore() = default;

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const StateStoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("state store path is required");

  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, kMetaFamily};
  for (const std::string& name : options.column_families) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  // Keep families that exist on disk but were not asked for: RocksDB refuses to open otherwise,
  // and a newer component's data must not be dropped by an older caller.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options.path, &existing).ok()) {
    for (const std::string& name : existing) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }

  std::unique_ptr<StateStore> store(new StateStore());
  store->disk_ = std::make_unique<memory::DiskAwareDb>(options.path, options.env);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  store->disk_->Configure(&db_options);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());

  rocksdb::DB* raw = nullptr;
  absl::Status status = store->Error(
      rocksdb::DB::Open(db_options, options.path, descriptors, &store->handles_, &raw),
      absl::StrCat("state store ", options.path));
  if (!status.ok()) return status;
  store->db_.reset(raw);
  store->names_ = names;

  rocksdb::ColumnFamilyHandle* meta = store->column_family(kMetaFamily);
  std::string format;
  std::string expected_format = absl::StrCat(kFormatMagic, " ", kFormatVersion);
  rocksdb::Status get = store->db_->Get(rocksdb::ReadOptions(), meta, kFormatKey, &format);
  if (get.ok()) {
    bool readable = false;
    for (int version = kOldestReadableVersion; version <= kFormatVersion; ++version) {
      readable = readable || format == absl::StrCat(kFormatMagic, " ", version);
    }
    if (!readable) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state store ", options.path, " has format \"", format, "\"; this agentd reads \"", kFormatMagic, " ",
          kOldestReadableVersion, "\" to \"", expected_format, "\""));
    }
  } else if (!get.IsNotFound()) {
    return store->Error(get, "state store format");
  }

  std::string count_text;
  uint64_t count = 0;
  if (store->db_->Get(rocksdb::ReadOptions(), meta, kOpenCountKey, &count_text).ok() &&
      !absl::SimpleAtoi(count_text, &count)) {
    return absl::DataLossError(absl::StrCat("state store ", options.path, ": the open count \"", count_text,
                                            "\" is not a number"));
  }
  store->open_count_ = count + 1;
  rocksdb::WriteBatch batch;
  batch.Put(meta, kFormatKey, expected_format);
  batch.Put(meta, kOpenCountKey, std::to_string(store->open_count_));
  status = store->Write(&batch, "state store meta");
  // A daemon restarted on a full disk still opens a stamped store: the count is only
  // informational, and serving reads (runs, events) while writes wait for space beats not
  // starting at all. A new store must be stamped, and so must one of an older format: its
  // values are about to be written in the current one, which the older agentd cannot read.
  if (!status.ok() && !(get.ok() && format == expected_format && absl::IsResourceExhausted(status))) return status;
  return store;
}

absl::Status StateStore::Write(rocksdb::WriteBatch* batch, absl::string_view what) {
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  return disk_->Write(db_.get(), write_options, batch, what);
}

absl::Status StateStore::Error(const rocksdb::Status& status, absl::string_view what) const {
  return disk_->Error(status, what);
}

rocksdb::ColumnFamilyHandle* StateStore::column_family(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return handles_[i];
  }
  return nullptr;
}

absl::Status StateStore::Close() {
  if (!db_) return absl::OkStatus();
  disk_->Stop(db_.get());
  absl::Status status = Error(db_->FlushWAL(/*sync=*/true), "state store flush WAL");
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  if (status.ok()) status = Error(db_->Flush(flush_options, handles_), "state store flush");
  for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  handles_.clear();
  absl::Status close = Error(db_->Close(), "state store close");
  db_.reset();
  return status.ok() ? close : status;
}

StateStore::~StateStore() { Close().IgnoreError(); }

}  // namespace agentd
