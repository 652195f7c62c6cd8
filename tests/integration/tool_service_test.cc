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
  EXPECT_THAT(reload.out, HasSubstr("loaded 6 tools"));  // 4 built in (with memory_search), shout, one
  EXPECT_THAT(reload.err, HasSubstr("broken.lua"));
  EXPECT_EQ(run({"call", "one"}).out, "1\n");
}

// A Lua tool reaching memory, the model and another tool through the daemon's services, and the
// built-in memory_search tool.
TEST(ToolServiceTest, LuaToolsUseMemoryModelAndOtherTools) {
  TempDir dir;
  std::filesystem::create_directories(dir.Join("tools"));
  testing_support::WriteFile(dir.Join("tools/research.lua"), R"(
tool{
  name = "research",
  description = "Looks a question up and does arithmetic on it.",
  params = {type = "object", properties = {question = {type = "string"}}, required = {"question"}},
  handler = function(args)
    memory.ingest{collection = "notes", documents = {{id = "n1", text = "2023年中国AI Agent市场规模约为554亿元。"}}}
    local found = memory.search{collection = "notes", query = args.question, k = 1, mode = "lexical"}
    local sum = tools.call("calculator", {expression = "554 * 2"})
    local said = llm.generate{prompt = "hello", max_tokens = 3}
    return {passage = found.hits[1].text, doubled = sum.result, generated_tokens = said.completion_tokens}
  end,
}
)");
  std::string error;
  auto daemon = DaemonProcess::Start(dir.Join("data"),
                                     {"--tools-dir", dir.Join("tools"), "--model", testing_support::TinyChatModelDir()},
                                     &error);
  ASSERT_TRUE(daemon.has_value()) << error;
  const std::string agentctl = BinaryPath("agentctl");
  ASSERT_EQ(RunCommand({agentctl, "--addr", daemon->address(), "memory", "create", "notes"}).exit_code, 0);
  CommandResult call = RunCommand({agentctl, "--addr", daemon->address(), "tools", "call", "research", "--args",
                                   R"({"question": "AI Agent市场规模"})"});
  ASSERT_EQ(call.exit_code, 0) << call.err;
  nlohmann::json result = nlohmann::json::parse(call.out);
  EXPECT_THAT(result["passage"].get<std::string>(), HasSubstr("554"));
  EXPECT_EQ(result["doubled"], 1108);
  EXPECT_EQ(result["generated_tokens"], 3);

  CommandResult search = RunCommand({agentctl, "--addr", daemon->address(), "tools", "call", "memory_search", "--args",
                                     R"({"collection": "notes", "query": "市场规模", "mode": "lexical"})"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  EXPECT_EQ(nlohmann::json::parse(search.out)["hits"][0]["document"], "n1");
}

}  // namespace
