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
  options.engine.max_streams = 256;
  options.engine.max_streams_per_tenant = 257;
  EXPECT_THAT(options.Validate().message(), HasSubstr("engine.max_streams_per_tenant"));
  options.engine.max_streams_per_tenant = 0;
  options.engine.max_running_per_tenant = 17;
  EXPECT_THAT(options.Validate().message(), HasSubstr("engine.max_running_per_tenant"));
  options.engine.max_running_per_tenant = 0;
  options.engine.quantize = "q3";
  EXPECT_THAT(options.Validate().message(), HasSubstr("engine.quantize \"q3\""));
  options.engine.quantize = "q8";
  EXPECT_TRUE(options.Validate().ok());
  options.engine.device = "tpu";
  EXPECT_THAT(options.Validate().message(), HasSubstr("engine.device \"tpu\""));
  for (const char* device : {"cpu", "cuda", "auto"}) {
    options.engine.device = device;
    EXPECT_TRUE(options.Validate().ok()) << device;
  }
}

TEST(DaemonOptionsTest, TokensAndTlsAreCheckedWithTheirKeyNamed) {
  TempDir dir;
  auto load_error = [&](const std::string& json) {
    WriteFile(dir.Join("c.json"), json);
    DaemonOptions options;
    return std::string(LoadConfigFile(dir.Join("c.json"), &options).message());
  };
  EXPECT_THAT(load_error(R"({"auth": {"tokens": {"token": "x"}}})"), HasSubstr("\"auth.tokens\" must be a list"));
  EXPECT_THAT(load_error(R"({"auth": {"keys": []}})"), HasSubstr("\"auth.keys\" is not a known setting"));
  EXPECT_THAT(load_error(R"({"auth": {"tokens": [{"token": "short", "tenant": "acme"}]}})"),
              HasSubstr("\"auth.tokens[0].token\" must be at least 16 characters"));
  EXPECT_THAT(load_error(R"({"auth": {"tokens": [{"token": "0123456789abcdef", "tenant": "../etc"}]}})"),
              HasSubstr("auth.tokens[0].tenant"));
  EXPECT_THAT(load_error(R"({"auth": {"tokens": [{"token": "0123456789abcdef", "tenant": ".."}]}})"),
              HasSubstr("auth.tokens[0].tenant"));
  EXPECT_THAT(load_error(R"({"auth": {"tokens": [{"token": "0123456789abcdef", "tenant": ""}]}})"),
              HasSubstr("auth.tokens[0].tenant"));
  EXPECT_THAT(load_error(R"({"auth": {"tokens": [{"token": "0123456789abcdef", "tenant": "a", "admin": "yes"}]}})"),
              HasSubstr("auth.tokens[0]"));
  EXPECT_THAT(load_error(R"({"auth": {"tokens": [{"token": "0123456789abcdef"}]}})"), HasSubstr("auth.tokens[0]"));
  EXPECT_THAT(load_error(R"({"auth": {"tokens": [{"token": "0123456789abcdef", "tenant": "acme"},
                                                {"token": "fedcba9876543210", "tenant": "globex"},
                                                {"token": "0123456789abcdef", "tenant": "initech"}]}})"),
              HasSubstr("\"auth.tokens[2].token\" repeats auth.tokens[0].token"));
  EXPECT_THAT(load_error(R"({"tls": {"cert": "a.pem"}})"), HasSubstr("\"tls.cert\" is not a known setting"));
  EXPECT_THAT(load_error(R"({"tls": {"cert_file": 3}})"), HasSubstr("cert_file"));

  WriteFile(dir.Join("ok.json"), R"({"auth": {"tokens": [{"token": "0123456789abcdef", "tenant": "acme", "admin": true},
                                                        {"token": "fedcba9876543210", "tenant": "globex"}]},
                                    "tls": {"cert_file": "server.pem"}})");
  DaemonOptions options;
  ASSERT_TRUE(LoadConfigFile(dir.Join("ok.json"), &options).ok());
  ASSERT_EQ(options.api_tokens.size(), 2u);
  EXPECT_EQ(options.api_tokens[0].tenant, "acme");
  EXPECT_TRUE(options.api_tokens[0].admin);
  EXPECT_FALSE(options.api_tokens[1].admin);
  options.data_dir = "/tmp/x";
  EXPECT_THAT(options.Validate().message(), HasSubstr("tls: cert_file and key_file must be given together"));
  options.tls_key_file = "server.key";
  EXPECT_TRUE(options.Validate().ok());
}

TEST(DaemonOptionsTest, OtherMachinesAreServedOnlyWithTlsAndTokens) {
  DaemonOptions options;
  options.data_dir = "/tmp/x";
  options.listen = "0.0.0.0:7700";
  EXPECT_THAT(options.Validate().message(), HasSubstr("without TLS and API tokens"));
  options.api_tokens.push_back({"0123456789abcdef", "acme", false});
  EXPECT_THAT(options.Validate().message(), HasSubstr("without TLS would let anyone"));
  options.tls_cert_file = "server.pem";
  options.tls_key_file = "server.key";
  EXPECT_TRUE(options.Validate().ok());
  options.api_tokens.clear();
  EXPECT_THAT(options.Validate().message(), HasSubstr("without API tokens"));
  options.allow_insecure_listen = true;
  EXPECT_TRUE(options.Validate().ok());
  for (const std::string loopback : {"127.0.0.1:7700", "localhost:7700", "[::1]:7700"}) {
    DaemonOptions local;
    local.data_dir = "/tmp/x";
    local.listen = loopback;
    EXPECT_TRUE(local.Validate().ok()) << loopback;
  }
}

}  // namespace
}  // namespace agentd
