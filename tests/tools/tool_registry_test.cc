// Tools: JSON Schema validation, the calculator, and Lua tools loaded from a directory — good
// and broken files, argument validation, isolation between invocations, sandbox limits, reload.
#include "tools/tool_registry.h"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_process.h"
#include "support/http_test_server.h"
#include "tools/json_schema.h"

namespace tools {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;
using testing_support::TempDir;
using testing_support::WriteFile;

TEST(JsonSchemaTest, SchemasThatWereNeverCheckedGiveErrorsNotExceptions) {
  // The decoding constraint accepts bounds of any type; ValidateJson then read them as numbers.
  EXPECT_THAT(ValidateJson(Json::parse(R"({"minimum": "0"})"), Json(5)).message(), HasSubstr("schema: cannot be checked"));
  EXPECT_THAT(ValidateJson(Json::parse(R"({"type": ["string", 5]})"), Json(true)).message(), HasSubstr("schema: cannot be checked"));
  EXPECT_THAT(ValidateJson(Json::parse(R"({"maxLength": "x"})"), Json("abc")).message(), HasSubstr("schema: cannot be checked"));
  // Invalid UTF-8 in a schema from Lua is written replaced in the message.
  Json odd_enum = Json::object();
  odd_enum["enum"] = Json::array({std::string("a\xff")});
  EXPECT_THAT(ValidateJson(odd_enum, Json("b")).message(), HasSubstr("must be one of"));
}

TEST(JsonSchemaTest, ValidationStopsAtItsStepBudget) {
  // anyOf forms × array items: 64 failing forms over 20,000 items is 1.3M checks.
  Json forms = Json::array();
  for (int i = 0; i < 63; ++i) forms.push_back(Json{{"type", "string"}});
  forms.push_back(Json{{"type", "integer"}});
  const Json schema = {{"type", "array"}, {"items", {{"anyOf", forms}}}};
  EXPECT_TRUE(CheckSchema(schema).ok());
  EXPECT_TRUE(ValidateJson(schema, Json::array({1, 2, 3})).ok());
  const absl::Status costly = ValidateJson(schema, Json(std::vector<int>(20000, 1)));
  EXPECT_THAT(costly.message(), HasSubstr("too costly to check against its schema"));
  forms.push_back(Json{{"type", "null"}});
  EXPECT_THAT(CheckSchema({{"anyOf", forms}}).message(), HasSubstr("at most 64 forms"));
}

TEST(JsonSchemaTest, ValidatesTypesRequiredRangesAndNesting) {
  const Json schema = Json::parse(R"({"type": "object", "required": ["query"], "additionalProperties": false,
    "properties": {"query": {"type": "string", "minLength": 1}, "k": {"type": "integer", "minimum": 1, "maximum": 50},
                   "mode": {"enum": ["hybrid", "lexical"]}, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}}})");
  EXPECT_TRUE(CheckSchema(schema).ok());
  EXPECT_TRUE(ValidateJson(schema, Json::parse(R"({"query": "x", "k": 5, "tags": ["a"]})")).ok());
  EXPECT_EQ(ValidateJson(schema, Json::parse(R"({"k": 5})")).message(), "args.query: is required");
  EXPECT_EQ(ValidateJson(schema, Json::parse(R"({"query": 3})")).message(), "args.query: must be a string");
  EXPECT_EQ(ValidateJson(schema, Json::parse(R"({"query": "x", "k": 99})")).message(), "args.k: must be at most 50");
  EXPECT_EQ(ValidateJson(schema, Json::parse(R"({"query": "x", "k": 2.5})")).message(), "args.k: must be an integer");
  EXPECT_THAT(ValidateJson(schema, Json::parse(R"({"query": "x", "mode": "fast"})")).message(), HasSubstr("args.mode: must be one of"));
  EXPECT_EQ(ValidateJson(schema, Json::parse(R"({"query": "x", "tags": ["a", 1]})")).message(), "args.tags[1]: must be a string");
  EXPECT_EQ(ValidateJson(schema, Json::parse(R"({"query": "x", "extra": 1})")).message(), "args.extra: is not a known argument");
  EXPECT_THAT(CheckSchema(Json::parse(R"({"type": "object", "patternProperties": {}})")).message(), HasSubstr("patternProperties"));
  EXPECT_THAT(CheckSchema(Json::parse(R"({"type": "thing"})")).message(), HasSubstr("not a JSON type"));
}

TEST(CalculatorTest, EvaluatesSafelyWithClearErrors) {
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("1 + 2 * 3"), 7);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("-(2 ^ 3 ^ 2) / 4"), -128);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("max(1, sqrt(16), 3) + min(2, 5) % 3"), 6);
  EXPECT_NEAR(*EvaluateArithmetic("round((8520 / 554) ^ (1 / 5) * 10000) / 100 - 100"), 72.74, 1e-9);
  EXPECT_THAT(EvaluateArithmetic("1 / 0").status().message(), HasSubstr("division by zero"));
  EXPECT_THAT(EvaluateArithmetic("2 +").status().message(), HasSubstr("unexpected end"));
  EXPECT_THAT(EvaluateArithmetic("system(1)").status().message(), HasSubstr("unknown function 'system'"));
  EXPECT_THAT(EvaluateArithmetic(std::string(200, '(') + "1" + std::string(200, ')')).status().message(), HasSubstr("nested too deeply"));
  EXPECT_THAT(EvaluateArithmetic("sqrt(-1)").status().message(), HasSubstr("not a finite number"));
}

class LuaToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Join("good.lua"), R"(
      counter = (counter or 0)
      tool{
        name = "echo_upper", description = "Upper-cases text.",
        params = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
        handler = function(args, ctx)
          counter = counter + 1
          log.info("called " .. ctx.tool)
          return {text = string.upper(args.text), calls = counter}
        end,
      }
      tool{
        name = "escape", description = "Tries to leave the sandbox.",
        handler = function(args) return os.execute("id") end,
      }
      tool{
        name = "spin", description = "Never returns.",
        handler = function(args) while true do end end,
      }
    )");
    WriteFile(dir_.Join("broken.lua"), "tool{ name = 'half', handler = function( end }");
    WriteFile(dir_.Join("bad_schema.lua"), "tool{ name = 'x', params = {type = 'array'}, handler = function() end }");
    ToolRegistryOptions options;
    options.tools_dir = dir_.path();
    options.limits.max_instructions = 20'000'000;
    auto registry = ToolRegistry::Create(options);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
  }
  TempDir dir_;
  std::unique_ptr<ToolRegistry> registry_;
};

TEST_F(LuaToolsTest, GoodFilesLoadAndBrokenOnesAreReported) {
  std::vector<std::string> names;
  for (const ToolInfo& t : registry_->List()) names.push_back(t.name);
  EXPECT_THAT(names, ::testing::ElementsAre("calculator", "current_time", "echo_upper", "escape", "spin", "web_fetch"));
  std::vector<ToolLoadError> errors = registry_->last_load_errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].file, "bad_schema.lua");
  EXPECT_THAT(errors[0].message, HasSubstr("type \"object\""));
  EXPECT_EQ(errors[1].file, "broken.lua");
  EXPECT_THAT(errors[1].message, HasSubstr("broken.lua:1:"));
}

TEST_F(LuaToolsTest, InvocationsValidateRunIsolatedAndReportLimits) {
  auto result = registry_->Invoke("echo_upper", Json{{"text", "深度 seek"}});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->result["text"], "深度 SEEK");
  EXPECT_THAT(result->logs, ::testing::ElementsAre("[info] called echo_upper"));
  // A fresh state each time: the global counter never carries over.
  EXPECT_EQ(registry_->Invoke("echo_upper", Json{{"text", "a"}})->result["calls"], 1);

  EXPECT_EQ(registry_->Invoke("echo_upper", Json::object()).status().message(), "args.text: is required");
  EXPECT_EQ(registry_->Invoke("missing", Json::object()).status().code(), absl::StatusCode::kNotFound);
  auto escape = registry_->Invoke("escape", Json::object());
  EXPECT_THAT(escape.status().message(), HasSubstr("good.lua:"));
  EXPECT_THAT(escape.status().message(), HasSubstr("os.execute is not allowed"));
  auto spin = registry_->Invoke("spin", Json::object());
  EXPECT_EQ(spin.status().code(), absl::StatusCode::kResourceExhausted);
  // With a 0.05 s timeout the same tool ends on its deadline. Its instruction budget is out of
  // reach here, so which limit ends it never depends on how fast this machine runs Lua.
  ToolRegistryOptions unbounded;
  unbounded.tools_dir = dir_.path();
  unbounded.limits.max_instructions = uint64_t{1} << 50;
  auto deadline_only = ToolRegistry::Create(unbounded);
  ASSERT_TRUE(deadline_only.ok()) << deadline_only.status();
  auto slow = (*deadline_only)->Invoke("spin", Json::object(), {.timeout_seconds = 0.05});
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_THAT(slow.status().message(), HasSubstr("time limit (0.05 s)"));
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("2"), 2);
  EXPECT_EQ(registry_->Invoke("calculator", Json{{"expression", "6*7"}})->result["result"], 42);
}

TEST_F(LuaToolsTest, ReloadPicksUpChangesAndDropsRemovedTools) {
  WriteFile(dir_.Join("broken.lua"), "tool{ name = 'fixed', handler = function() return 'ok' end }");
  std::filesystem::remove(dir_.Join("good.lua"));
  std::vector<ToolLoadError> errors;
  absl::StatusOr<std::vector<std::string>> loaded = registry_->Reload(&errors);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(*loaded, ::testing::ElementsAre("calculator", "current_time", "fixed", "web_fetch"));
  ASSERT_EQ(errors.size(), 1u);  // bad_schema.lua still broken
  EXPECT_EQ(registry_->Invoke("fixed", Json::object())->result, "ok");
  EXPECT_EQ(registry_->Invoke("echo_upper", Json{{"text", "a"}}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LuaToolsTest, ReloadKeepsTheToolsWhenTheDirectoryIsGone) {
  // A deploy that swaps the directory away: every Lua tool was dropped with no error.
  const std::string moved = dir_.path() + ".moved";
  std::filesystem::rename(dir_.path(), moved);
  std::vector<ToolLoadError> errors;
  absl::StatusOr<std::vector<std::string>> loaded = registry_->Reload(&errors);
  std::filesystem::rename(moved, dir_.path());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(loaded.status().message(), HasSubstr("the tools loaded before are kept"));
  EXPECT_EQ(registry_->Invoke("echo_upper", Json{{"text", "a"}})->result["text"], "A");
}

TEST_F(LuaToolsTest, AFileThatIsNotARegularFileIsReportedUnread) {
  // A FIFO named *.lua held Reload (and the daemon's start) in its read for good.
  ASSERT_EQ(mkfifo(dir_.Join("pipe.lua").c_str(), 0600), 0);
  std::filesystem::create_directory(dir_.Join("folder.lua"));
  std::vector<ToolLoadError> errors;
  absl::StatusOr<std::vector<std::string>> loaded = registry_->Reload(&errors);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(*loaded, ::testing::Contains("echo_upper"));
  std::vector<std::string> unread;
  for (const ToolLoadError& e : errors) {
    if (e.message == "not a regular file") unread.push_back(e.file);
  }
  EXPECT_THAT(unread, ::testing::ElementsAre("folder.lua", "pipe.lua"));
}

TEST_F(LuaToolsTest, AToolRunsAsItWasLoaded) {
  // Edited on disk without a Reload, a tool ran its new handler against its old schema (and a
  // file being written failed mid-call as a syntax error): a call runs the loaded text.
  WriteFile(dir_.Join("good.lua"), "tool{ name = 'echo_upper', params = {type = 'object', required = {'n'}}, "
                                   "handler = function(args) return 'edited' end }");
  EXPECT_EQ(registry_->Invoke("echo_upper", Json{{"text", "a"}})->result["text"], "A");
  std::vector<ToolLoadError> errors;
  ASSERT_TRUE(registry_->Reload(&errors).ok());
  EXPECT_EQ(registry_->Invoke("echo_upper", Json{{"n", 1}})->result, "edited");
}

TEST(ToolInterruptTest, AnInterruptedCallStops) {
  // A cancelled run's tool call ran on to its end (a Lua tool up to its time limit, web_fetch
  // up to the HTTP one), holding the run's worker.
  testing_support::HttpTestServer server;  // /slow answers after 3 s
  TempDir dir;
  WriteFile(dir.Join("fetch.lua"), "tool{ name = 'fetch', handler = function(args) return http.get(args.url).body end }");
  ToolRegistryOptions options;
  options.tools_dir = dir.path();
  options.http.allowed_hosts = {"127.0.0.1:" + std::to_string(server.port())};
  options.http.timeout_seconds = 30;
  auto registry = ToolRegistry::Create(options);
  ASSERT_TRUE(registry.ok()) << registry.status();
  for (const std::string tool : {"web_fetch", "fetch"}) {
    std::atomic<bool> interrupt{false};
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      interrupt = true;
    });
    auto result = (*registry)->Invoke(tool, Json{{"url", server.Url("/slow")}}, {.interrupt = &interrupt});
    canceller.join();
    EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled) << tool << ": " << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr("interrupted")) << tool;
  }
  std::atomic<bool> already{true};
  EXPECT_EQ((*registry)->Invoke("calculator", Json{{"expression", "1"}}, {.interrupt = &already}).status().code(),
            absl::StatusCode::kCancelled);
}

TEST(NestedToolsTest, ToolsCallOtherToolsUpToFourDeep) {
  TempDir dir;
  WriteFile(dir.Join("nest.lua"), R"(
    tool{ name = "add_one", params = {type = "object", properties = {n = {type = "integer"}}, required = {"n"}},
          handler = function(args) return tools.call("calculator", {expression = args.n .. " + 1"}).result end }
    tool{ name = "recurse", handler = function(args) return tools.call("recurse", {}) end }
  )");
  ToolRegistryOptions options;
  options.tools_dir = dir.path();
  auto registry = ToolRegistry::Create(options);
  ASSERT_TRUE(registry.ok());
  EXPECT_EQ((*registry)->Invoke("add_one", Json{{"n", 41}})->result, 42);
  auto recursion = (*registry)->Invoke("recurse", Json::object());
  ASSERT_FALSE(recursion.ok());
  EXPECT_THAT(recursion.status().message(), HasSubstr("nested more than 4 deep"));
  EXPECT_THAT(recursion.status().message(), HasSubstr("nest.lua:"));
}

TEST(WebToolsTest, WebFetchReturnsReadableTextFromAllowedHostsOnly) {
  testing_support::HttpTestServer server;
  ToolRegistryOptions options;
  options.http.allowed_hosts = {"127.0.0.1:" + std::to_string(server.port())};
  options.http.timeout_seconds = 2;
  options.search_url = server.Url("/search?q={query}");
  auto registry = ToolRegistry::Create(options);
  ASSERT_TRUE(registry.ok());
  auto page = (*registry)->Invoke("web_fetch", Json{{"url", server.Url("/page")}});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->result["title"], "DeepSeek & AI");
  EXPECT_EQ(page->result["text"], "Report\n\nFirst <paragraph>.\n\n深度求索");
  EXPECT_EQ(page->result["status"], 200);
  auto cut = (*registry)->Invoke("web_fetch", Json{{"url", server.Url("/big")}, {"max_chars", 100}});
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(cut->result["text"].get<std::string>().size(), 100u);
  EXPECT_TRUE(cut->result["truncated"].get<bool>());
  auto refused = (*registry)->Invoke("web_fetch", Json{{"url", "http://localhost:" + std::to_string(server.port()) + "/page"}});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  // A body that is not text is refused naming its type (it reached the model as control
  // characters), and credentials in the URL are not repeated back.
  auto binary = (*registry)->Invoke("web_fetch", Json{{"url", "http://user:secret@127.0.0.1:" + std::to_string(server.port()) + "/binary"}});
  EXPECT_EQ(binary.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(binary.status().message(), HasSubstr("application/octet-stream, not text"));
  EXPECT_THAT(binary.status().message(), ::testing::Not(HasSubstr("secret")));
  auto with_credentials = (*registry)->Invoke("web_fetch", Json{{"url", "http://user:secret@127.0.0.1:" + std::to_string(server.port()) + "/page"}});
  ASSERT_TRUE(with_credentials.ok()) << with_credentials.status();
  EXPECT_EQ(with_credentials->result["url"], server.Url("/page"));
  // The test server has no search endpoint: a clear error, not a crash.
  auto search = (*registry)->Invoke("web_search", Json{{"query", "DeepSeek V3"}});
  EXPECT_THAT(search.status().message(), HasSubstr("web_search: the search service answered 404"));
}

TEST(WebToolsTest, WebSearchPassesOverResultsOfTheWrongShape) {
  testing_support::HttpTestServer server;
  ToolRegistryOptions options;
  options.http.allowed_hosts = {"127.0.0.1:" + std::to_string(server.port())};
  options.search_url = server.Url("/searx-odd?q={query}");
  auto registry = ToolRegistry::Create(options);
  ASSERT_TRUE(registry.ok());
  auto search = (*registry)->Invoke("web_search", Json{{"query", "agents"}});
  ASSERT_TRUE(search.ok()) << search.status();
  const Json& results = search->result["results"];
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], (Json{{"title", ""}, {"url", ""}, {"snippet", ""}}));
  EXPECT_EQ(results[1], (Json{{"title", "Good"}, {"url", "http://news.example/good"}, {"snippet", "Kept."}}));
}

// A registry over `dir`'s tool files, with the load errors of a reload.
absl::StatusOr<std::unique_ptr<ToolRegistry>> LoadDirectory(const TempDir& dir, std::vector<ToolLoadError>* errors) {
  ToolRegistryOptions options;
  options.tools_dir = dir.path();
  auto registry = ToolRegistry::Create(options);
  if (registry.ok()) (*registry)->Reload(errors).IgnoreError();
  return registry;
}

// Both once aborted the process: the arguments were pushed into the tool's Lua state outside
// any protected call (a memory error there is a panic), and the definition's fields were read
// there too (an __index that raised).
TEST(LuaToolsParamsTest, ArgumentsBeyondTheToolsMemoryAndHostileDefinitionsAreErrors) {
  TempDir dir;
  WriteFile(dir.Join("big.lua"), "tool{ name = 'big', handler = function(args) return #args.x end }");
  WriteFile(dir.Join("sneaky.lua"),
            "tool(setmetatable({}, {__index = function(t, k) if k == 'params' then error('no') end;"
            " if k == 'name' then return 'sneaky' end; if k == 'handler' then return function() return 1 end end end}))");
  std::vector<ToolLoadError> errors;
  auto registry = LoadDirectory(dir, &errors);
  ASSERT_TRUE(registry.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("sneaky.lua"));
  auto huge = (*registry)->Invoke("big", Json{{"x", std::string(96 << 20, 'a')}});
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(), HasSubstr("do not fit in the tool's memory"));
  EXPECT_EQ((*registry)->Invoke("big", Json{{"x", "abc"}})->result, 3);
}

TEST(LuaToolsParamsTest, ASchemaWhoseTypeIsNotAStringIsAnErrorNotAThrow) {
  TempDir dir;
  WriteFile(dir.Join("odd.lua"), "tool{ name = 'odd', params = {type = 5}, handler = function() return 1 end }");
  std::vector<ToolLoadError> errors;
  auto registry = LoadDirectory(dir, &errors);
  ASSERT_TRUE(registry.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("params must be a JSON Schema of type \"object\""));
}

}  // namespace
}  // namespace tools
