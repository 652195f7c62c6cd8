// A sandboxed Lua 5.4 state for running untrusted scripts (tools, plans, `agentctl script run`).
//
// Each Sandbox is one isolated lua_State. Scripts see the safe parts of the standard library —
// base functions, string (without dump), table, math, utf8, coroutine, and os.time/clock/date —
// plus the modules: json, log, time, http, and memory, llm and tools through ScriptServices. Refused: io, debug, package,
// dofile/loadfile, binary chunks (load accepts text only), string.dump, the rest of os, and
// collectgarbage except "count"; require resolves only inside the configured scripts directory.
// Limits end a script with an error naming the file and line: an instruction budget (a count
// hook, shared by every coroutine), a memory cap (the allocator refuses past it), a wall-clock
// deadline, and a call-depth limit.
//
//   scripting::SandboxOptions options;
//   options.on_print = [](const std::string& line) { std::cout << line << "\n"; };
//   auto sandbox = scripting::Sandbox::Create(options);
//   absl::Status status = (*sandbox)->RunFile("tool.lua");   // "tool.lua:3: io is not allowed ..."
#ifndef AGENTD_SCRIPTING_SANDBOX_H_
#define AGENTD_SCRIPTING_SANDBOX_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scripting/http_client.h"
#include "scripting/script_services.h"

struct lua_State;

namespace scripting {

struct SandboxLimits {
  // VM instructions, counted in steps of 1000. Default 200 million (about a second of work).
  uint64_t max_instructions = 200'000'000;
  // Bytes the state may hold. Default 64 MiB.
  uint64_t max_memory_bytes = 64ull << 20;
  // Wall-clock limit from the start of each Run call. Default 30 s.
  double timeout_seconds = 30.0;
  // Nested Lua function calls. Default 200.
  int max_call_depth = 200;
};

struct SandboxOptions {
  SandboxLimits limits;
  // Root that `require("a.b")` loads a/b.lua from; empty disables require.
  std::string scripts_dir;
  // A second root, searched after scripts_dir for modules without a '.' only (NAME.lua at its
  // top): the plans every tenant shares, whose subdirectories are other tenants' and must stay
  // out of reach. Empty: none.
  std::string shared_scripts_dir;
  // Receives each print() call's line (tab-separated arguments, no newline). Default: dropped.
  std::function<void(const std::string&)> on_print;
  // What http.get/http.post may reach (allowlist, time limit, size cap). Default: nothing.
  HttpPolicy http;
  // memory.*, llm.*, tools.call; empty callbacks are "not available".
  ScriptServices services;
  // When set (borrowed) and true, the script stops at its next instruction-count check with
  // CANCELLED ("interrupted"); used to cancel long-running plans.
  const std::atomic<bool>* interrupt = nullptr;
  // Receives log.debug/info/warn/error(message). Default: dropped.
  std::function<void(const std::string& level, const std::string& message)> on_log;
};

class Sandbox {
 public:
  static absl::StatusOr<std::unique_ptr<Sandbox>> Create(const SandboxOptions& options);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Runs a script file (text only). A Lua error or a refused operation is INVALID_ARGUMENT,
  // a spent budget RESOURCE_EXHAUSTED, the deadline DEADLINE_EXCEEDED; messages start with
  // "file:line:". Only a regular file is read (ReadScriptFile).
  absl::Status RunFile(const std::string& path);
  // As RunFile, for a file's text read before (a tool file as it was when the tools were loaded).
  absl::Status RunSource(const std::string& code, const std::string& path);
  absl::Status RunString(const std::string& code, const std::string& chunk_name);
  // Calls the function below `nargs` arguments on the Lua stack under the same limits, leaving
  // `nresults` results; `what` names it in error messages (e.g. the tool file).
  absl::Status Call(int nargs, int nresults, const std::string& what);

  // For registering further modules. Valid for the Sandbox's lifetime.
  lua_State* lua() const { return state_; }
  uint64_t instructions_used() const;
  uint64_t memory_used() const;

  // Limits and counters the Lua callbacks reach through the state's allocator data.
  struct Guard;

 private:
  Sandbox() = default;
  absl::Status Run(int load_status, const std::string& chunk_name);

  lua_State* state_ = nullptr;
  std::unique_ptr<Guard> guard_;
};

}  // namespace scripting

#endif  // AGENTD_SCRIPTING_SANDBOX_H_
