#include "agentd/state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "runs/run_store.h"
#include "support/daemon_process.h"
#include "support/full_disk.h"

namespace agentd {
namespace {

using ::testing::HasSubstr;
using testing_support::TempDir;

TEST(StateStoreTest, CountsOpensAndKeepsData) {
  TempDir dir;
  StateStoreOptions options;
  options.path = dir.Join("state");
  options.column_families = {"runs"};
  {
    auto store = StateStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->open_count(), 1u);
    rocksdb::ColumnFamilyHandle* runs = (*store)->column_family("runs");
    ASSERT_NE(runs, nullptr);
    ASSERT_TRUE((*store)->db()->Put(rocksdb::WriteOptions(), runs, "r1", "v").ok());
    EXPECT_TRUE((*store)->Close().ok());
    EXPECT_TRUE((*store)->Close().ok());  // idempotent
  }
  // Opening without asking for "runs" keeps it (and its data).
  options.column_families.clear();
  auto store = StateStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->open_count(), 2u);
  std::string value;
  ASSERT_NE((*store)->column_family("runs"), nullptr);
  ASSERT_TRUE((*store)->db()->Get(rocksdb::ReadOptions(), (*store)->column_family("runs"), "r1", &value).ok());
  EXPECT_EQ(value, "v");
}

TEST(StateStoreTest, RefusesAnotherFormat) {
  TempDir dir;
  StateStoreOptions options;
  options.path = dir.Join("state");
  {
    auto store = StateStore::Open(options);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->db()->Put(rocksdb::WriteOptions(), (*store)->column_family("meta"),
                                    "format", "AGENTD-STATE 99").ok());
  }
  auto store = StateStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("AGENTD-STATE 99"));
}

TEST(StateStoreTest, ReadsTheFormerFormatAndStampsItCurrent) {
  // Format 1 stored each run whole; format 2 stores runs in parts (runs/run_store.h), which an
  // agentd of format 1 would misread: once opened here, such a database says 2.
  TempDir dir;
  StateStoreOptions options;
  options.path = dir.Join("state");
  options.column_families = {"runs"};
  {
    auto store = StateStore::Open(options);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->db()->Put(rocksdb::WriteOptions(), (*store)->column_family("meta"), "format",
                                    "AGENTD-STATE 1").ok());
    ASSERT_TRUE((*store)->db()->Put(rocksdb::WriteOptions(), (*store)->column_family("runs"), "r1", "v").ok());
  }
  auto store = StateStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  std::string value;
  ASSERT_TRUE((*store)->db()->Get(rocksdb::ReadOptions(), (*store)->column_family("meta"), "format", &value).ok());
  EXPECT_EQ(value, "AGENTD-STATE 2");
  ASSERT_TRUE((*store)->db()->Get(rocksdb::ReadOptions(), (*store)->column_family("runs"), "r1", &value).ok());
  EXPECT_EQ(value, "v");
}

TEST(StateStoreTest, UnopenableDirectoryIsAnError) {
  TempDir dir;
  testing_support::WriteFile(dir.Join("file"), "x");
  StateStoreOptions options;
  options.path = dir.Join("file/state");
  auto store = StateStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("state store"));
}

agentd::internal::RunRecord Record(const std::string& run_id) {
  agentd::internal::RunRecord record;
  record.mutable_run()->set_tenant("t");
  record.mutable_run()->set_run_id(run_id);
  record.mutable_run()->set_plan("p");
  record.set_plan_source(std::string(2000, 'x'));  // a write of some size, torn when it fails
  return record;
}

// RunStore::Put borrows the record it writes.
absl::Status Put(runs::RunStore& runs, agentd::internal::RunRecord record, const std::string& idempotency_key = "") {
  return runs.Put(&record, idempotency_key);
}

agentd::v1::RunEvent Event(const std::string& run_id, uint64_t sequence) {
  agentd::v1::RunEvent event;
  event.set_run_id(run_id);
  event.set_sequence(sequence);
  event.mutable_warning()->set_message("w");
  return event;
}

// What a kill -9 at this moment leaves on disk: a copy of the open database's files (every
// write the store acknowledged was synced before it returned).
std::string CrashImage(const std::string& path, const std::string& to) {
  std::filesystem::copy(path, to, std::filesystem::copy_options::recursive);
  std::filesystem::remove(to + "/LOCK");
  return to;
}

// On a full disk a write is RESOURCE_EXHAUSTED naming the store's directory, reads go on, the
// store writes again once there is room (without reopening), and neither the store nor a
// crash image of it loses or resurrects a write. Before: every write failed with INTERNAL until
// a restart; the store's own info log aborted the process (Debian's RocksDB asserts when its
// logger writes after a failed write); and after a resume a crash image would not open ("SST
// file is ahead of WALs", from the torn record the failed write left in its WAL).
TEST(StateStoreTest, AFullDiskRefusesWritesByNameKeepsReadsAndWritesAgainOnceFreed) {
  TempDir dir;
  auto disk = std::make_shared<testing_support::FullDiskFileSystem>();
  std::unique_ptr<rocksdb::Env> env = testing_support::NewEnv(disk);
  StateStoreOptions options;
  options.path = dir.Join("state");
  options.column_families.assign(std::begin(runs::RunStore::kColumnFamilies), std::end(runs::RunStore::kColumnFamilies));
  options.env = env.get();
  auto store = StateStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto runs = runs::RunStore::Create(store->get());
  ASSERT_TRUE(runs.ok());
  ASSERT_TRUE(Put(**runs, Record("run-1")).ok());
  ASSERT_TRUE((*runs)->AppendEvent(Event("run-1", 1)).ok());

  disk->Fill();
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::Status put = Put(**runs, Record("run-full"), "key-full");
    EXPECT_EQ(put.code(), absl::StatusCode::kResourceExhausted) << put;
    EXPECT_THAT(put.message(), HasSubstr(options.path));
    EXPECT_THAT(put.message(), HasSubstr("is full"));
    EXPECT_EQ((*runs)->AppendEvent(Event("run-1", 2)).code(), absl::StatusCode::kResourceExhausted);
  }
  // RocksDB logs the errors; its log file cannot take them either, and it goes on logging.
  std::shared_ptr<rocksdb::Logger> info_log = (*store)->db()->GetDBOptions().info_log;
  ASSERT_NE(info_log, nullptr);
  for (int line = 0; line < 3; ++line) {
    rocksdb::Log(rocksdb::InfoLogLevel::WARN_LEVEL, info_log, "a line on a full disk %d", line);
    rocksdb::LogFlush(info_log);
  }
  EXPECT_GT(disk->failed_writes(), 0u);
  // Reads go on.
  EXPECT_TRUE((*runs)->Get("t", "run-1").ok());
  EXPECT_EQ((*runs)->Get("t", "run-full").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*runs)->ReadEvents("run-1", 0, 10, 1 << 20)->size(), 1u);

  disk->Free();
  ASSERT_TRUE(Put(**runs, Record("run-2")).ok());
  ASSERT_TRUE((*runs)->AppendEvent(Event("run-1", 2)).ok());

  auto holds_what_was_acknowledged = [](const std::string& path) {
    StateStoreOptions reopen;
    reopen.path = path;
    auto store = StateStore::Open(reopen);
    ASSERT_TRUE(store.ok()) << store.status();
    auto runs = runs::RunStore::Create(store->get());
    ASSERT_TRUE(runs.ok());
    EXPECT_TRUE((*runs)->Get("t", "run-1").ok());
    EXPECT_TRUE((*runs)->Get("t", "run-2").ok());
    EXPECT_EQ((*runs)->Get("t", "run-full").status().code(), absl::StatusCode::kNotFound);
    EXPECT_FALSE((*runs)->FindByIdempotencyKey("t", "key-full")->has_value());
    EXPECT_EQ((*runs)->ReadEvents("run-1", 0, 10, 1 << 20)->size(), 2u);
  };
  holds_what_was_acknowledged(CrashImage(options.path, dir.Join("crashed")));
  ASSERT_TRUE((*store)->Close().ok());
  holds_what_was_acknowledged(options.path);
}

StateStoreOptions FullDiskOptions(const TempDir& dir, rocksdb::Env* env) {
  StateStoreOptions options;
  options.path = dir.Join("state");
  options.column_families.assign(std::begin(runs::RunStore::kColumnFamilies), std::end(runs::RunStore::kColumnFamilies));
  options.env = env;
  return options;
}

// A write failing into empty memtables — right after a resume, whose flush emptied them, the
// disk full again — is written once there is room. Before, RocksDB's next resume kept the WAL
// whose write had failed (it starts a new one only from a memtable that holds something), and
// the next write to it aborted the process.
TEST(StateStoreTest, AWriteFailingRightAfterAResumeIsWrittenOnceFreed) {
  TempDir dir;
  auto disk = std::make_shared<testing_support::FullDiskFileSystem>();
  std::unique_ptr<rocksdb::Env> env = testing_support::NewEnv(disk);
  const StateStoreOptions options = FullDiskOptions(dir, env.get());
  auto store = StateStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto runs = runs::RunStore::Create(store->get());
  ASSERT_TRUE(Put(**runs, Record("run-1")).ok());
  disk->Fill();
  EXPECT_EQ(Put(**runs, Record("run-full")).code(), absl::StatusCode::kResourceExhausted);
  // Room for the resume's table files, none for the WAL it starts.
  disk->Fill(".log");
  EXPECT_EQ(Put(**runs, Record("run-full-2")).code(), absl::StatusCode::kResourceExhausted);
  disk->Free();
  absl::Status put = Put(**runs, Record("run-2"));
  ASSERT_TRUE(put.ok()) << put;
  ASSERT_TRUE(Put(**runs, Record("run-3")).ok());
  ASSERT_TRUE((*store)->Close().ok());
  StateStoreOptions reopen;
  reopen.path = options.path;
  auto reopened = StateStore::Open(reopen);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto stored = runs::RunStore::Create(reopened->get());
  for (const char* run_id : {"run-1", "run-2", "run-3"}) EXPECT_TRUE((*stored)->Get("t", run_id).ok()) << run_id;
  for (const char* run_id : {"run-full", "run-full-2"}) EXPECT_FALSE((*stored)->Get("t", run_id).ok()) << run_id;
}

// A resume that runs out of space again part way (the disk filling anew while it flushes) and a
// crash right after leave a directory that opens with every acknowledged write. Before, the
// failed write's torn record stayed in a WAL the resume had moved past, and RocksDB's
// point-in-time recovery refused the directory: "SST file is ahead of WALs".
TEST(StateStoreTest, AResumeRunningOutOfSpaceThenACrashLeavesADirectoryThatOpens) {
  TempDir dir;
  auto disk = std::make_shared<testing_support::FullDiskFileSystem>();
  std::unique_ptr<rocksdb::Env> env = testing_support::NewEnv(disk);
  const StateStoreOptions options = FullDiskOptions(dir, env.get());
  auto store = StateStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto runs = runs::RunStore::Create(store->get());
  ASSERT_TRUE(Put(**runs, Record("run-1")).ok());
  ASSERT_TRUE((*runs)->AppendEvent(Event("run-1", 1)).ok());
  disk->Fill();
  EXPECT_EQ(Put(**runs, Record("run-full")).code(), absl::StatusCode::kResourceExhausted);
  // Room for the resume's first table file and no more.
  disk->Fill(".sst", /*spared=*/1);
  EXPECT_EQ(Put(**runs, Record("run-2")).code(), absl::StatusCode::kResourceExhausted);

  StateStoreOptions crashed;
  crashed.path = CrashImage(options.path, dir.Join("crashed"));
  auto reopened = StateStore::Open(crashed);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto stored = runs::RunStore::Create(reopened->get());
  EXPECT_TRUE((*stored)->Get("t", "run-1").ok());
  EXPECT_EQ((*stored)->ReadEvents("run-1", 0, 10, 1 << 20)->size(), 1u);
  EXPECT_FALSE((*stored)->Get("t", "run-full").ok());
  disk->Free();
}

}  // namespace
}  // namespace agentd
