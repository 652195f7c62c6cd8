#include "agentd/data_dir_lock.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_process.h"

namespace agentd {
namespace {

using ::testing::HasSubstr;
using testing_support::ReadFile;
using testing_support::TempDir;
using testing_support::WriteFile;

TEST(DataDirLockTest, CreatesTheDirectoryAndRecordsTheOwner) {
  TempDir dir;
  std::string data_dir = dir.Join("a/b/data");
  auto lock = DataDirLock::Acquire(data_dir);
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_EQ(ReadFile(data_dir + "/LOCK"),
            "AGENTD-LOCK 1\npid " + std::to_string(getpid()) + "\n");
}

TEST(DataDirLockTest, SecondOwnerIsRefusedUntilTheFirstReleases) {
  TempDir dir;
  auto first = DataDirLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok());
  auto second = DataDirLock::Acquire(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr("in use by another agentd (pid " + std::to_string(getpid()) + ")"));
  first->reset();
  EXPECT_TRUE(DataDirLock::Acquire(dir.path()).ok());
}

TEST(DataDirLockTest, PathThroughAFileIsRefused) {
  TempDir dir;
  WriteFile(dir.Join("file"), "x");
  auto lock = DataDirLock::Acquire(dir.Join("file/data"));
  ASSERT_FALSE(lock.ok());
  EXPECT_THAT(lock.status().message(), HasSubstr("cannot create"));
  auto on_file = DataDirLock::Acquire(dir.Join("file"));
  ASSERT_FALSE(on_file.ok());
  EXPECT_THAT(on_file.status().message(), HasSubstr("file"));
}

}  // namespace
}  // namespace agentd
