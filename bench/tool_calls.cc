// The cost of tools: preparing a sandboxed Lua state, and one tool call from C++ through Lua and
// back (argument validation, a fresh state, loading the tool file, the handler, JSON both ways),
// against a built-in C++ tool as the floor.
//
//   tool_calls --calls 2000
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "CLI/CLI.hpp"
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
  std::filesystem::remove_all(dir);
  return 0;
}
