#include "agentd/state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rocksdb/db.h"
#include "support/daemon_process.h"

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

}  // namespace
}  // namespace agentd
