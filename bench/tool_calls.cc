// The cost of tools: preparing a sandboxed Lua state, and one tool call from C++ through Lua and
// back (argument validation, a fresh state, loading the tool file, the handler, JSON both ways),
// against a built-in C++ tool as the floor; and the sandbox's guard on function-call-heavy Lua
// (its hooks check the budget, depth, deadline and cancellation) against the same code in a plain
// lua_State, measured in the same run.
//
//   tool_calls --calls 2000
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "CLI/CLI.hpp"
#include "lua.hpp"
#include "scripting/sandbox.h"
#include "tools/tool_registry.h"

int main(int argc, char** argv) {
  CLI::App app{"tool_calls: sandbox preparation and tool call latency"};
  int calls = 2000;
  app.add_option("--calls", calls, "calls per measurement (default 2000)");
  CLI11_PARSE(app, argc, argv);
  using Clock = std::chrono::steady_clock;
  auto per_call_us = [&](auto&& body) {
    auto start = Clock::now();
    for (int i = 0; i < calls; ++i) body();
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / calls;
  };

  const double prepare = per_call_us([] { auto sandbox = scripting::Sandbox::Create({}); });

  const std::string dir = (std::filesystem::temp_directory_path() / ("agentd-tool-bench-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/echo.lua") << "tool{ name = 'echo', params = {type = 'object', properties = {text = {type = 'string'}}},\n"
                                      "  handler = function(args) return {text = args.text, length = #args.text} end }\n";
  tools::ToolRegistryOptions options;
  options.tools_dir = dir;
  auto registry = tools::ToolRegistry::Create(options);
  if (!registry.ok()) return std::fprintf(stderr, "%s\n", registry.status().ToString().c_str()), 1;
  const nlohmann::json args = {{"text", "DeepSeek-V3 技术报告"}};
  const double lua_call = per_call_us([&] { (void)(*registry)->Invoke("echo", args); });
  const nlohmann::json calc = {{"expression", "(8520 / 554) ^ 0.2"}};
  const double builtin_call = per_call_us([&] { (void)(*registry)->Invoke("calculator", calc); });
  std::printf("sandbox state prepared: %.1f us\nLua tool call (fresh state each): %.1f us\nbuilt-in C++ tool call: %.1f us\n",
              prepare, lua_call, builtin_call);

  // fib(27): about 630,000 Lua calls, nearly all time in calls and returns (the hooks' worst case).
  const std::string fib = "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end\n"
                          "assert(fib(27) == 196418)";
  auto best_of = [](int runs, auto&& body) {
    double best = 1e30;
    for (int i = 0; i < runs; ++i) {
      auto start = Clock::now();
      body();
      best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    return best;
  };
  const double plain = best_of(5, [&] {
    lua_State* L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_dostring(L, fib.c_str()) != LUA_OK) std::fprintf(stderr, "plain Lua: %s\n", lua_tostring(L, -1));
    lua_close(L);
  });
  const double sandboxed = best_of(5, [&] {
    auto sandbox = scripting::Sandbox::Create({});
    absl::Status status = (*sandbox)->RunString(fib, "fib.lua");
    if (!status.ok()) std::fprintf(stderr, "sandbox: %s\n", status.ToString().c_str());
  });
  std::printf("fib(27), plain Lua: %.1f ms\nfib(27), sandboxed: %.1f ms (%.2fx)\n", plain, sandboxed, sandboxed / plain);
  std::filesystem::remove_all(dir);
  return 0;
}
