#include "script_commands.h"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "scripting/sandbox.h"
#include "tools/tool_registry.h"

namespace agentctl {

std::function<int()> AddScriptCommands(CLI::App* app) {
  CLI::App* script = app->add_subcommand("script", "run Lua scripts in the sandbox");
  script->footer("Example:\n  agentctl script run check.lua --tools-dir examples/tools --allow-host example.com");
  script->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto scripts_dir = std::make_shared<std::string>();
  auto limits = std::make_shared<scripting::SandboxLimits>();
  auto memory_mb = std::make_shared<uint64_t>(limits->max_memory_bytes >> 20);
  CLI::App* run = script->add_subcommand("run", "run FILE.lua locally in the sandbox");
  run->add_option("file", *file, "the script")->required();
  run->add_option("--scripts-dir", *scripts_dir, "directory require() may load from (default: the script's)");
  run->add_option("--max-instructions", limits->max_instructions, "instruction budget (default 200000000)");
  run->add_option("--max-memory-mb", *memory_mb, "memory cap in MiB (default 64)");
  run->add_option("--timeout", limits->timeout_seconds, "wall-clock limit in seconds (default 30)");
  run->add_option("--max-depth", limits->max_call_depth, "call depth limit (default 200)");
  auto allowed_hosts = std::make_shared<std::vector<std::string>>();
  auto tools_dir = std::make_shared<std::string>();
  run->add_option("--allow-host", *allowed_hosts, "a host http.get/post may reach (repeatable; default none)");
  run->add_option("--tools-dir", *tools_dir, "Lua tools tools.call may run, besides the built-in ones");

  return [=]() -> int {
    if (!run->parsed()) return -1;
    scripting::SandboxOptions options;
    options.limits = *limits;
    options.limits.max_memory_bytes = *memory_mb << 20;
    options.scripts_dir = !scripts_dir->empty() ? *scripts_dir
                                                : std::filesystem::path(*file).parent_path().string();
    if (options.scripts_dir.empty()) options.scripts_dir = ".";
    options.on_print = [](const std::string& line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    };
    options.on_log = [](const std::string& level, const std::string& message) {
      std::fprintf(stderr, "[%s] %s\n", level.c_str(), message.c_str());
    };
    options.http.allowed_hosts = *allowed_hosts;
    // tools.call runs tools locally (built-ins and --tools-dir); memory.* and llm.* need the
    // daemon and report that they are not available here.
    tools::ToolRegistryOptions tool_options;
    tool_options.tools_dir = *tools_dir;
    tool_options.http = options.http;
    auto registry = tools::ToolRegistry::Create(tool_options);
    if (!registry.ok()) {
      std::fprintf(stderr, "agentctl: %s\n", std::string(registry.status().message()).c_str());
      return 1;
    }
    for (const tools::ToolLoadError& e : (*registry)->last_load_errors()) {
      std::fprintf(stderr, "agentctl: tool file not loaded: %s: %s\n", e.file.c_str(), e.message.c_str());
    }
    std::shared_ptr<tools::ToolRegistry> shared_registry(std::move(*registry));
    options.services.tool_call = [shared_registry](const std::string& name, const nlohmann::json& args) -> absl::StatusOr<nlohmann::json> {
      auto result = shared_registry->Invoke(name, args);
      if (!result.ok()) return result.status();
      return result->result;
    };
    auto sandbox = scripting::Sandbox::Create(options);
    if (!sandbox.ok()) {
      std::fprintf(stderr, "agentctl: %s\n", std::string(sandbox.status().message()).c_str());
      return 1;
    }
    absl::Status status = (*sandbox)->RunFile(*file);
    if (!status.ok()) {
      std::fprintf(stderr, "agentctl: script error: %s\n", std::string(status.message()).c_str());
      return 1;
    }
    return 0;
  };
}

}  // namespace agentctl
