// Every escape we could think of is refused with a clear error naming file, line and what was
// refused — quickly, and without side effects — and the standard modules work.
#include "scripting/sandbox.h"

#include <chrono>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_process.h"

namespace scripting {
namespace {

using ::testing::HasSubstr;

struct Outcome {
  absl::Status status;
  std::vector<std::string> printed;
  double seconds;
};

Outcome RunScript(const std::string& code, SandboxLimits limits = {}) {
  Outcome outcome;
  SandboxOptions options;
  options.limits = limits;
  options.on_print = [&](const std::string& line) { outcome.printed.push_back(line); };
  auto sandbox = Sandbox::Create(options);
  EXPECT_TRUE(sandbox.ok());
  auto start = std::chrono::steady_clock::now();
  outcome.status = (*sandbox)->RunString(code, "script.lua");
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

void ExpectRefused(const std::string& code, const std::string& message) {
  Outcome outcome = RunScript(code);
  EXPECT_FALSE(outcome.status.ok()) << code;
  EXPECT_THAT(outcome.status.message(), HasSubstr("script.lua:")) << code;
  EXPECT_THAT(outcome.status.message(), HasSubstr(message)) << code;
  EXPECT_LT(outcome.seconds, 5.0) << code;
}

TEST(SandboxTest, StandardLibraryAndModulesWork) {
  Outcome outcome = RunScript(R"(
    print("sum", 1 + 2)
    print(json.encode({a = {1, 2, 3}, b = json.null}))
    local t = json.decode('{"x": [true, null, 2.5]}')
    print(t.x[1], t.x[2] == json.null, t.x[3])
    print(string.upper("abc"), math.floor(2.7), #utf8.char(0x6df1), table.concat({"a", "b"}, "-"))
    print(type(os.time()), type(os.clock()), os.date("!%Y", 0))
    local co = coroutine.wrap(function() coroutine.yield(7) end)
    print(co(), collectgarbage("count") > 0, time.iso(0))
    print(load("return 6 * 7")())
  )");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_THAT(outcome.printed, ::testing::ElementsAre("sum\t3", R"({"a":[1,2,3],"b":null})", "true\ttrue\t2.5",
                                                      "ABC\t2\t3\ta-b", "number\tnumber\t1970", "7\ttrue\t1970-01-01T00:00:00Z",
                                                      "42"));
}

TEST(SandboxTest, JsonKeysCountAgainstTheTextBudget) {
  // A 1 MiB key under each of a million shared values: the keys were copied without limit (and
  // every value's path with them), a terabyte on the C++ heap where the sandbox's cap does not
  // reach. Refused by name, quickly; an error deep down names its place with the key clipped.
  ExpectRefused(R"(local k = string.rep("x", 1 << 20); local o = {[k] = 1}; local t = {}
                   for i = 1, 200 do t[i] = o end; json.encode(t))",
                "MiB of text in all");
  Outcome outcome = RunScript(R"(print(select(2, pcall(json.encode, {[string.rep("k", 100)] = {{1, print}}}))))");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  ASSERT_EQ(outcome.printed.size(), 1u);
  EXPECT_THAT(outcome.printed[0], HasSubstr(std::string(64, 'k') + "...[1][2]: a function cannot be JSON"));
}

TEST(SandboxTest, JsonKeysWithNulBytesAndNumbersBeyondLuaIntegersSurviveDecoding) {
  // Found writing the lua_json fuzz target: keys were cut at a NUL byte, and integers above
  // Lua's largest wrapped around to negative numbers.
  Outcome outcome = RunScript(R"(
    local t = json.decode('{"a\\u0000b": 1, "a": 2}')
    assert(t["a\0b"] == 1 and t["a"] == 2, "a key with a NUL byte was cut")
    local big = json.decode('18446744073709551615')
    assert(math.type(big) == "float" and big > 1.8e19, "a large unsigned number wrapped: " .. tostring(big))
    assert(json.decode('9223372036854775807') == math.maxinteger)
    assert(json.encode(json.decode('{"k\\u0000": [1]}')) == '{"k\\u0000":[1]}')
  )");
  EXPECT_TRUE(outcome.status.ok()) << outcome.status;
}

TEST(SandboxTest, HostAccessIsRefusedByName) {
  ExpectRefused("io.open('/etc/passwd')", "io is not allowed");
  ExpectRefused("os.execute('touch /tmp/agentd-escaped')", "os.execute is not allowed");
  ExpectRefused("os.exit(1)", "os.exit is not allowed");
  ExpectRefused("os.getenv('HOME')", "os.getenv is not allowed");
  ExpectRefused("os.remove('/tmp/x')", "os.remove is not allowed");
  ExpectRefused("debug.getinfo(1)", "debug is not allowed");
  ExpectRefused("package.loadlib('libc.so.6', 'system')", "package is not allowed");
  ExpectRefused("dofile('/etc/passwd')", "dofile is not allowed");
  ExpectRefused("loadfile('/etc/passwd')", "loadfile is not allowed");
  EXPECT_FALSE(std::filesystem::exists("/tmp/agentd-escaped"));
}

TEST(SandboxTest, BinaryChunksAreRefused) {
  ExpectRefused("local f = function() end; local b = string.dump(f)", "string.dump is not allowed");
  ExpectRefused("load('\\27Lua', 'x')", "binary chunks are not allowed");
  ExpectRefused("load('return 1', 'x', 'b')", "binary chunks are not allowed");
  ExpectRefused("load(function() return nil end)", "only string chunks");
}

TEST(SandboxTest, EnvironmentTricksReachNothing) {
  // The refused libraries were never opened in this state: no table reaches them.
  Outcome outcome = RunScript(R"(
    print(rawget(_G, "io"), rawget(_G, "debug"), rawget(_G, "package"))
    setmetatable(_G, nil)
    print(io, debug)
    local _ENV = {print = print}
    print(os)
  )");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status;
  EXPECT_THAT(outcome.printed, ::testing::ElementsAre("nil\tnil\tnil", "nil\tnil", "nil"));
  ExpectRefused("collectgarbage('collect')", "collectgarbage(\"collect\") is not allowed");
  ExpectRefused("collectgarbage('stop')", "collectgarbage(\"stop\") is not allowed");
  ExpectRefused("require('os')", "require is not available");
}

TEST(SandboxTest, RunawayScriptsAreStopped) {
  Outcome loop = RunScript("while true do end");
  EXPECT_EQ(loop.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(loop.status.message(), HasSubstr("script.lua:1: instruction budget"));

  Outcome coroutine_loop = RunScript("local co = coroutine.wrap(function() while true do end end)\nco()");
  EXPECT_EQ(coroutine_loop.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(coroutine_loop.status.message(), HasSubstr("script.lua:1: instruction budget"));

  Outcome bomb = RunScript("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end");
  EXPECT_EQ(bomb.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(bomb.status.message(), HasSubstr("memory limit"));

  Outcome huge = RunScript("local s = string.rep('x', 2^40)");
  EXPECT_FALSE(huge.status.ok());
  EXPECT_LT(huge.seconds, 5.0);

  Outcome recursion = RunScript("local function f(n) return 1 + f(n + 1) end\nf(1)");
  EXPECT_THAT(recursion.status.message(), HasSubstr("script.lua:1: call depth limit (200) exceeded"));

  SandboxLimits short_deadline;
  short_deadline.timeout_seconds = 0.2;
  short_deadline.max_instructions = ~0ull;
  Outcome slow = RunScript("while true do local s = string.rep('x', 100000) end", short_deadline);
  EXPECT_EQ(slow.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(slow.status.message(), HasSubstr("time limit"));
  EXPECT_LT(slow.seconds, 5.0);  // stopped by its 0.2 s deadline; without one the loop never ends

  // A loop of C calls that each take long (sorting a million numbers) runs only a few
  // instructions between calls: the deadline is checked at every call, not only every 1000
  // instructions (a few hundred sorts, tens of seconds).
  SandboxLimits one_second;
  one_second.timeout_seconds = 1.0;
  one_second.max_instructions = ~0ull;
  Outcome sorting = RunScript(
      "local t = {} for i = 1, 1000000 do t[i] = (i * 7919) % 1000003 end\n"
      "local sort = table.sort\nwhile true do sort(t) sort(t, nil) end",
      one_second);
  EXPECT_EQ(sorting.status.code(), absl::StatusCode::kDeadlineExceeded) << sorting.status;
  EXPECT_LT(sorting.seconds, 6.0);
}

TEST(SandboxTest, StandardLibraryCLoopsEndAtTheDeadline) {
  // Library functions whose C loops are long without allocating: each must end (with an error
  // or a result) close to the 1 s deadline, not run on in C where no hook reaches.
  SandboxLimits one_second;
  one_second.timeout_seconds = 1.0;
  for (const std::string code : {
           "table.move({}, 1, 1e15, 2)",
           "table.move({}, 1, math.maxinteger - 1, 2)",
           "local t = {} table.move(t, -1e15, 1e15, 1, {})",
           "table.concat({}, '', 1, 1e15)",
           "table.unpack({}, 1, 1e15)",
           "string.rep('', 1e15)",
           "string.rep('', 1e15, '')",
           "utf8.len(string.rep('a', 1e7)) for i = 1, 1e9 do utf8.len('') end",
           "local s = string.rep('a', 1e7) for i = 1, 1e9 do s:reverse() end",
           "string.format('%s', string.rep('x', 1e7)):rep(3)",
           "local t = setmetatable({}, {__index = function(t, k) return k end}) table.concat(t, '', 1, 1e15)",
           // A plain find that compares the pattern at every position is quadratic.
           "local s = string.rep('a', 2^24) local p = string.rep('a', 2^23) .. 'b' assert(not s:find(p, 1, true))",
           "local s = string.rep('a', 2^24) local p = string.rep('a', 2^23) .. 'b' assert(not s:find(p))",
       }) {
    Outcome outcome = RunScript(code, one_second);
    EXPECT_LT(outcome.seconds, 6.0) << code << " → " << outcome.status;
  }
  // The elements table.move moves count against the instruction budget.
  SandboxLimits small_budget;
  small_budget.max_instructions = 1'000'000;
  Outcome moved = RunScript("table.move({}, 1, 1e15, 2)", small_budget);
  EXPECT_EQ(moved.status.code(), absl::StatusCode::kResourceExhausted) << moved.status;
  EXPECT_THAT(moved.status.message(), HasSubstr("instruction budget (1000000) exhausted in table.move"));
  Outcome overlapping = RunScript(
      "local t = {} for i = 1, 200000 do t[i] = i end\n"
      "table.move(t, 1, 200000, 3)\n"  // forward overlap: moved from the end, slice by slice
      "assert(t[3] == 1 and t[200002] == 200000 and t[100000] == 99998)\n"
      "table.move(t, 3, 200002, 1)\n"  // and back
      "assert(t[1] == 1 and t[200000] == 200000)\n"
      "local u = table.move(t, 1, 200000, 1, {})\n"
      "assert(#u == 200000 and u[123456] == 123456)");
  EXPECT_TRUE(overlapping.status.ok()) << overlapping.status;
}

TEST(SandboxTest, ErrorsNameFileAndLine) {
  testing_support::TempDir dir;
  testing_support::WriteFile(dir.Join("bad.lua"), "local x = 1\nlocal y = nil + x\n");
  SandboxOptions options;
  auto sandbox = Sandbox::Create(options);
  absl::Status status = (*sandbox)->RunFile(dir.Join("bad.lua"));
  EXPECT_THAT(status.message(), HasSubstr("bad.lua:2: attempt to perform arithmetic on a nil value"));
  testing_support::WriteFile(dir.Join("syntax.lua"), "local = 3\n");
  EXPECT_THAT((*sandbox)->RunFile(dir.Join("syntax.lua")).message(), HasSubstr("syntax.lua:1:"));
  EXPECT_EQ((*sandbox)->RunFile(dir.Join("missing.lua")).code(), absl::StatusCode::kNotFound);
}

TEST(SandboxTest, RequireStaysInsideTheScriptsDirectory) {
  testing_support::TempDir dir;
  std::filesystem::create_directories(dir.Join("lib"));
  testing_support::WriteFile(dir.Join("lib/util.lua"), "return {double = function(x) return 2 * x end}");
  SandboxOptions options;
  options.scripts_dir = dir.path();
  std::vector<std::string> printed;
  options.on_print = [&](const std::string& line) { printed.push_back(line); };
  auto sandbox = Sandbox::Create(options);
  ASSERT_TRUE((*sandbox)->RunString("print(require('lib.util').double(21))", "main.lua").ok());
  EXPECT_THAT(printed, ::testing::ElementsAre("42"));
  EXPECT_THAT((*sandbox)->RunString("require('../../etc/passwd')", "main.lua").message(), HasSubstr("module names"));
  EXPECT_THAT((*sandbox)->RunString("require('nope')", "main.lua").message(), HasSubstr("not found"));
}

// A Lua error is a longjmp that skips C++ destructors: a module that did not load left its file
// open each time, so a loop of failing requires ran the daemon out of descriptors.
TEST(SandboxTest, FailingRequiresLeaveNoFilesOpen) {
  testing_support::TempDir dir;
  testing_support::WriteFile(dir.Join("broken.lua"), "return {");
  testing_support::WriteFile(dir.Join("raises.lua"), "error('no')");
  SandboxOptions options;
  options.scripts_dir = dir.path();
  auto sandbox = Sandbox::Create(options);
  auto open_files = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator{});
  };
  const auto before = open_files();
  absl::Status status = (*sandbox)->RunString(R"(
    for i = 1, 300 do
      assert(not pcall(require, "broken"))
      assert(not pcall(require, "raises"))
    end
    local ok, message = pcall(require, "broken")
    error(message)
  )", "main.lua");
  EXPECT_THAT(status.message(), HasSubstr("broken.lua:1:"));
  EXPECT_LE(open_files(), before + 1);
}

TEST(SandboxTest, SharedModulesAreFlatSoOtherTenantsDirectoriesStayOutOfReach) {
  // plans/ holds shared plans at its top and each tenant's in plans/TENANT/: a tenant's run
  // loads its own modules and shared ones, never another tenant's.
  testing_support::TempDir plans;
  std::filesystem::create_directories(plans.Join("acme"));
  std::filesystem::create_directories(plans.Join("globex"));
  testing_support::WriteFile(plans.Join("acme/secret.lua"), "return 'acme secret'");
  testing_support::WriteFile(plans.Join("globex/own.lua"), "return 'globex own'");
  testing_support::WriteFile(plans.Join("shared.lua"), "return 'shared'");
  SandboxOptions options;
  options.scripts_dir = plans.Join("globex");
  options.shared_scripts_dir = plans.path();
  std::vector<std::string> printed;
  options.on_print = [&](const std::string& line) { printed.push_back(line); };
  auto sandbox = Sandbox::Create(options);
  ASSERT_TRUE((*sandbox)->RunString("print(require('own'), require('shared'))", "main.lua").ok());
  EXPECT_THAT(printed, ::testing::ElementsAre("globex own\tshared"));
  EXPECT_THAT((*sandbox)->RunString("require('acme.secret')", "main.lua").message(), HasSubstr("not found"));
}

TEST(SandboxTest, FinalizersAreRefusedBecauseNothingCouldStopThem) {
  // A __gc that never returns would spin inside lua_close with every hook off.
  ExpectRefused("setmetatable({}, {__gc = function() while true do end end})", "__gc metamethods are not allowed");
  ExpectRefused("setmetatable({}, {__gc = true})", "__gc metamethods are not allowed");
  // Adding __gc later registers no finalizer (Lua 5.4): the object is collected and the state
  // closes at once.
  Outcome later = RunScript("local mt = {} setmetatable({}, mt) mt.__gc = function() while true do end end "
                            "print(getmetatable(setmetatable({}, {__index = {x = 1}})).__index.x)");
  EXPECT_TRUE(later.status.ok()) << later.status;
  EXPECT_THAT(later.printed, ::testing::ElementsAre("1"));
}

TEST(SandboxTest, ErrorsUnwindingThroughCallsDoNotUseUpTheCallDepth) {
  // Each error unwinds a few frames without their return hooks; a thousand of them must not add
  // up to the call-depth limit, while real recursion still hits it.
  Outcome loop = RunScript(
      "local function inner(n) if n == 0 then error('x') end return inner(n - 1) + 0 end\n"
      "for i = 1, 1000 do pcall(inner, 5) end print('done')");
  EXPECT_TRUE(loop.status.ok()) << loop.status;
  EXPECT_THAT(loop.printed, ::testing::ElementsAre("done"));
  ExpectRefused("local function deep(n) return deep(n + 1) + 1 end deep(0)", "call depth limit");
}

}  // namespace
}  // namespace scripting
