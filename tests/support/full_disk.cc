#include "support/full_disk.h"

#include <utility>

namespace testing_support {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

class FullDiskFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FullDiskFile(std::unique_ptr<rocksdb::FSWritableFile>&& file, FullDiskFileSystem* disk, std::string name, bool spared)
      : FSWritableFileOwnerWrapper(std::move(file)), disk_(disk), name_(std::move(name)), spared_(spared) {}

  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    if (spared_ || !disk_->Fails(name_)) return target()->Append(data, options, dbg);
    return Torn(data, options, dbg);
  }
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options, const rocksdb::DataVerificationInfo&,
                  IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    if (spared_ || !disk_->Fails(name_)) return target()->PositionedAppend(data, offset, options, dbg);
    disk_->CountFailure();
    return IOStatus::NoSpace("test disk is full: " + name_);
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo&, IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }

 private:
  // What a disk with room for half of `data` does: writes that half, then fails.
  IOStatus Torn(const rocksdb::Slice& data, const IOOptions& options, IODebugContext* dbg) {
    disk_->CountFailure();
    if (data.size() > 1) {
      target()->Append(rocksdb::Slice(data.data(), data.size() / 2), options, dbg).PermitUncheckedError();
    }
    return IOStatus::NoSpace("test disk is full: " + name_);
  }

  FullDiskFileSystem* disk_;
  std::string name_;
  bool spared_;
};

}  // namespace

FullDiskFileSystem::FullDiskFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

void FullDiskFileSystem::Fill(const std::string& only, int spared) {
  std::lock_guard<std::mutex> lock(mutex_);
  full_ = true;
  only_ = only;
  spared_ = spared;
}

void FullDiskFileSystem::Free() {
  std::lock_guard<std::mutex> lock(mutex_);
  full_ = false;
}

bool FullDiskFileSystem::Fails(const std::string& file_name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return full_ && (only_.empty() || file_name.find(only_) != std::string::npos);
}

bool FullDiskFileSystem::Spares(const std::string& file_name) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!full_ || spared_ == 0 || (!only_.empty() && file_name.find(only_) == std::string::npos)) return false;
  --spared_;
  return true;
}

IOStatus FullDiskFileSystem::NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  IOStatus status = target()->NewWritableFile(name, options, result, dbg);
  if (status.ok()) *result = std::make_unique<FullDiskFile>(std::move(*result), this, name, Spares(name));
  return status;
}

IOStatus FullDiskFileSystem::GetFreeSpace(const std::string& path, const IOOptions& options, uint64_t* free,
                                          IODebugContext* dbg) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (full_ && only_.empty()) {
      *free = 0;
      return IOStatus::OK();
    }
  }
  *free = uint64_t{1} << 40;
  return IOStatus::OK();
}

std::unique_ptr<rocksdb::Env> NewEnv(const std::shared_ptr<FullDiskFileSystem>& disk) {
  return rocksdb::NewCompositeEnv(disk);
}

}  // namespace testing_support
