#include "agentd/daemon_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_process.h"

namespace agentd {
namespace {

using ::testing::HasSubstr;
using testing_support::TempDir;
using testing_support::WriteFile;

TEST(DaemonOptionsTest, DefaultsNeedOnlyADataDir) {
  DaemonOptions options;
  EXPECT_THAT(options.Validate().message(), HasSubstr("data_dir is required"));
  options.data_dir = "/tmp/x";
  EXPECT_TRUE(options.Validate().ok());
}

TEST(DaemonOptionsTest, ConfigFileOverridesOnlyWhatItSets) {
  TempDir dir;
  WriteFile(dir.Join("c.json"), R"({
    // comments are allowed
    "data_dir": "/srv/agentd", "log_level": "debug",
    "limits": {"max_field_bytes": 2048}
  })");
  DaemonOptions options;
  ASSERT_TRUE(LoadConfigFile(dir.Join("c.json"), &options).ok());
  EXPECT_EQ(options.data_dir, "/srv/agentd");
  EXPECT_EQ(options.log_level, "debug");
  EXPECT_EQ(options.limits.max_field_bytes, 2048u);
  EXPECT_EQ(options.listen, "127.0.0.1:7700");
  EXPECT_EQ(options.limits.max_items, 4096u);
  EXPECT_TRUE(options.Validate().ok());
}

TEST(DaemonOptionsTest, ConfigErrorsNameTheKey) {
  TempDir dir;
  DaemonOptions options;
  WriteFile(dir.Join("a.json"), R"({"listn": "x"})");
  EXPECT_THAT(LoadConfigFile(dir.Join("a.json"), &options).message(),
              HasSubstr("\"listn\" is not a known setting"));
  WriteFile(dir.Join("b.json"), R"({"limits": {"max_items": -3}})");
  EXPECT_THAT(LoadConfigFile(dir.Join("b.json"), &options).message(),
              HasSubstr("limits.max_items"));
  WriteFile(dir.Join("c.json"), R"({"listen": 7700})");
  EXPECT_THAT(LoadConfigFile(dir.Join("c.json"), &options).message(),
              HasSubstr("\"listen\" must be a string"));
  WriteFile(dir.Join("d.json"), "{not json");
  EXPECT_THAT(LoadConfigFile(dir.Join("d.json"), &options).message(), HasSubstr("not valid JSON"));
  EXPECT_EQ(LoadConfigFile(dir.Join("missing.json"), &options).code(),
            absl::StatusCode::kNotFound);
}

TEST(DaemonOptionsTest, ValidateNamesTheSetting) {
  DaemonOptions options;
  options.data_dir = "/tmp/x";
  options.log_level = "loud";
  EXPECT_THAT(options.Validate().message(), HasSubstr("log_level"));
  options.log_level = "info";
  options.listen = "nowhere";
  EXPECT_THAT(options.Validate().message(), HasSubstr("listen address"));
  options.listen = "127.0.0.1:1";
  options.limits.max_request_bytes = 100;
  EXPECT_THAT(options.Validate().message(), HasSubstr("limits.max_request_bytes"));
  options.limits = {};
  ASSERT_TRUE(options.Validate().ok());
  options.engine.max_streams = 0;
  EXPECT_THAT(options.Validate().message(), HasSubstr("engine.max_streams"));
  options.engine.max_streams = 5000;
  EXPECT_THAT(options.Validate().message(), HasSubstr("engine.max_streams"));
}

}  // namespace
}  // namespace agentd
