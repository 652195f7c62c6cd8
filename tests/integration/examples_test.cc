// The example plans and tools that docs/plans.md and docs/tools.md are written around run as
// documented, on the shipped model, so the documentation cannot drift from the code: the
// commands below are the ones the files' headers and the docs show.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "nlohmann/json.hpp"
#include "support/daemon_process.h"

namespace {

using ::testing::HasSubstr;
using testing_support::BinaryPath;
using testing_support::DaemonProcess;
using testing_support::RunCommand;
using testing_support::TempDir;

const std::string kSource = AGENTD_SOURCE_DIR;

TEST(ExamplesTest, ThePlansAndToolsInExamplesRunAsDocumented) {
  TempDir dir;
  DaemonProcess daemon = testing_support::StartDaemonOrThrow(
      dir.Join("data"), {"--model", "default", "--plans-dir", kSource + "/examples/plans", "--tools-dir",
                         kSource + "/examples/tools"});
  const std::string agentctl = BinaryPath("agentctl");
  const std::string addr = daemon.address();

  // hello.lua, installed (by name) and as a file.
  auto hello = RunCommand({agentctl, "--addr", addr, "run", "hello", "--input", "name=Ada", "--quiet"});
  ASSERT_EQ(hello.exit_code, 0) << hello.err;
  EXPECT_EQ(hello.out, "Hello, Ada!");
  auto file = RunCommand({agentctl, "--addr", addr, "run", "hello", "--plan-file", kSource + "/examples/plans/hello.lua",
                          "--quiet"});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(file.out, "Hello, world!");

  // brief.lua over two seed reports: quoted answers, references, the word_count tool.
  const std::string seeds = std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/";
  ASSERT_EQ(RunCommand({agentctl, "--addr", addr, "memory", "create", "reports"}).exit_code, 0);
  auto ingested = RunCommand({agentctl, "--addr", addr, "memory", "ingest", "reports", seeds + "002_43b260d425d982aa.txt",
                              seeds + "001_8105c39df311472b.txt"});
  ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  auto brief = RunCommand({agentctl, "--addr", addr, "run", "brief", "--collection", "reports", "--inputs-json",
                           R"({"questions": ["2023年中国AI Agent市场规模是多少？", "DeepSeek-V3 的训练成本是多少？", "What is the capital of Mars?"]})",
                           "--json"},
                          std::chrono::seconds(120));
  ASSERT_EQ(brief.exit_code, 0) << brief.err;
  const nlohmann::json run = nlohmann::json::parse(brief.out);
  EXPECT_EQ(run["state"], "SUCCEEDED");
  const std::string content = run["artifact"]["content"];
  EXPECT_THAT(content, HasSubstr("## 2023年中国AI Agent市场规模是多少？"));
  // Each answer opens with the sentence that states what is asked, whatever the model adds.
  EXPECT_THAT(content, HasSubstr("2023年中国AI Agent市场规模是多少？\n\n2023 年中国 AI Agent 市场规模为 554 亿元"));
  EXPECT_THAT(content, HasSubstr("DeepSeek-V3 的训练成本是多少？\n\n训练成本仅为 557 万美元。[2]"));
  // A question the collection has no word of gets no sentence that merely resembles it.
  EXPECT_THAT(content, HasSubstr("## What is the capital of Mars?\n\n_The collection says nothing about this._"));
  EXPECT_THAT(content, HasSubstr("## References"));
  // The references are the passages cited, numbered as first cited: as many as the numbers used.
  std::set<std::string> cited, listed;
  const std::string body = content.substr(0, content.find("## References"));
  const std::regex citation(R"(\[([0-9]+)\])"), entry(R"(\n\[([0-9]+)\] )");
  for (std::sregex_iterator it(body.begin(), body.end(), citation), end; it != end; ++it) {
    cited.insert((*it)[1]);
  }
  const std::string list = content.substr(content.find("## References"));
  for (std::sregex_iterator it(list.begin(), list.end(), entry), end; it != end; ++it) {
    listed.insert((*it)[1]);
  }
  EXPECT_EQ(cited, listed) << content;
  EXPECT_TRUE(cited.count("1")) << content;
  EXPECT_THAT(content, ::testing::ContainsRegex("_[0-9]+ CJK characters and [0-9]+ words quoted._"));
  std::vector<std::string> steps;
  for (const auto& s : run["steps"]) steps.push_back(s["name"]);
  EXPECT_EQ(steps, (std::vector<std::string>{"answer/1", "answer/2", "answer/3", "count"}));

  // Its declared inputs are checked before a run exists, with the key named.
  auto missing = RunCommand({agentctl, "--addr", addr, "run", "brief", "--collection", "reports", "--quiet"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("inputs.questions: is required"));
  auto empty = RunCommand({agentctl, "--addr", addr, "run", "brief", "--collection", "reports", "--inputs-json",
                           R"({"questions": []})", "--quiet"});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_THAT(empty.err, HasSubstr("inputs.questions"));

  // The example tools, called directly as docs/tools.md shows.
  auto growth = RunCommand({agentctl, "--addr", addr, "tools", "call", "growth_rate", "--args",
                            R"({"start_value": 554, "end_value": 8520, "years": 5})"});
  ASSERT_EQ(growth.exit_code, 0) << growth.err;
  EXPECT_EQ(nlohmann::json::parse(growth.out)["cagr_percent"], 72.74);
  auto invalid = RunCommand({agentctl, "--addr", addr, "tools", "call", "growth_rate", "--args", R"({"start_value": 0, "end_value": 1, "years": 1})"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_THAT(invalid.err, HasSubstr("args.start_value"));
}

}  // namespace
