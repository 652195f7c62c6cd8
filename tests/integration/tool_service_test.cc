// ToolService on the real daemon with a tools directory: list, call (validated arguments, Lua
// tools in the sandbox), reload after the directory changes, and agentctl tools.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "support/daemon_process.h"

namespace {

using ::testing::HasSubstr;
using testing_support::BinaryPath;
using testing_support::CommandResult;
using testing_support::DaemonProcess;
using testing_support::RunCommand;
using testing_support::TempDir;

TEST(ToolServiceTest, AgentctlListsCallsAndReloadsTools) {
  TempDir dir;
  std::filesystem::create_directories(dir.Join("tools"));
  testing_support::WriteFile(dir.Join("tools/shout.lua"),
                             "tool{ name = 'shout', description = 'Upper-cases.', "
                             "params = {type = 'object', properties = {text = {type = 'string'}}, required = {'text'}}, "
                             "handler = function(args) return {text = string.upper(args.text)} end }\n");
  std::string error;
  auto daemon = DaemonProcess::Start(dir.Join("data"), {"--tools-dir", dir.Join("tools")}, &error);
  ASSERT_TRUE(daemon.has_value()) << error;
  const std::vector<std::string> agentctl = {BinaryPath("agentctl"), "--addr", daemon->address(), "tools"};
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = agentctl;
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };

  CommandResult list = run({"list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("shout"));
  EXPECT_THAT(list.out, HasSubstr("calculator"));

  CommandResult call = run({"call", "shout", "--args", R"({"text": "deepseek"})"});
  ASSERT_EQ(call.exit_code, 0) << call.err;
  EXPECT_EQ(nlohmann::json::parse(call.out)["text"], "DEEPSEEK");

  CommandResult bad = run({"call", "shout", "--args", R"({"txt": "x"})"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("args.text: is required"));

  testing_support::WriteFile(dir.Join("tools/broken.lua"), "tool{ name = \n");
  testing_support::WriteFile(dir.Join("tools/more.lua"), "tool{ name = 'one', handler = function() return 1 end }\n");
  CommandResult reload = run({"reload"});
  EXPECT_EQ(reload.exit_code, 1);  // one file failed
  EXPECT_THAT(reload.out, HasSubstr("loaded 5 tools"));  // 3 built in, shout, one
  EXPECT_THAT(reload.err, HasSubstr("broken.lua"));
  EXPECT_EQ(run({"call", "one"}).out, "1\n");
}

}  // namespace
