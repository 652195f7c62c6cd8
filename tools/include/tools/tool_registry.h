// The tools agents can call: built-in tools written in C++ (calculator, current_time, web_fetch,
// web_search when a search endpoint is configured, memory_search when memory is) and tools
// defined in Lua files in a tools directory, each described by a name, a description and a
// JSON Schema for its arguments. Arguments are validated against the schema before the tool
// runs; results are JSON.
//
// A Lua tool file calls `tool{...}` once per tool:
//
//   tool{
//     name = "word_count",
//     description = "Counts the words of a text.",
//     params = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
//     handler = function(args, ctx) local n = 0 for _ in args.text:gmatch("%S+") do n = n + 1 end
//                                   return {words = n} end,
//   }
//
// Files are loaded at Create and on Reload; a broken file is reported and skipped, the others
// still load. Every invocation runs in a fresh sandbox (scripting::Sandbox) with its limits.
#ifndef AGENTD_TOOLS_TOOL_REGISTRY_H_
#define AGENTD_TOOLS_TOOL_REGISTRY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "scripting/sandbox.h"

namespace tools {

struct ToolInfo {
  std::string name;
  std::string description;
  nlohmann::json parameters;  // JSON Schema of the arguments object
  enum class Origin { kBuiltin, kLua };
  Origin origin = Origin::kBuiltin;
  // Lua tools: the file, relative to the tools directory.
  std::string file;
};

struct ToolResult {
  nlohmann::json result;
  std::vector<std::string> logs;
  double duration_ms = 0;
};

struct ToolLoadError {
  std::string file;
  std::string message;
};

struct ToolRegistryOptions {
  // Directory of *.lua tool files; empty means built-in tools only.
  std::string tools_dir;
  // Limits for each Lua tool invocation (the timeout is replaced per call when one is given).
  scripting::SandboxLimits limits;
  // What web_fetch, web_search and Lua tools' http module may reach.
  scripting::HttpPolicy http;
  // web_search: a search endpoint answering JSON in SearxNG's shape ({"results": [{"title",
  // "url", "content"}]}), with {query} where the URL-encoded query goes, e.g.
  // "http://127.0.0.1:8888/search?format=json&q={query}". Empty: no web_search tool.
  std::string search_url;
  // memory, llm and tools modules for Lua tools; memory_search is a built-in tool when
  // services.memory_search is set. tools.call is wired to this registry when left empty
  // (nested calls up to 4 deep).
  scripting::ScriptServices services;
  // Told each call a caller makes (nested calls from Lua tools not counted apart) to a tool that
  // exists: its name, how it ended, and its duration in seconds (the daemon's metrics). Optional.
  std::function<void(const std::string& tool, const absl::Status& status, double seconds)> on_invoked;
};

// How one call runs; each default is the registry's own.
struct ToolCallOptions {
  // Seconds the call may take; 0 = the registry's limit, which a call may shorten, never extend.
  double timeout_seconds = 0;
  // Replaces options.services for this call: the daemon passes the caller's tenant-scoped memory
  // and model access. Borrowed; optional.
  const scripting::ScriptServices* services = nullptr;
  // When set and it becomes true, the call stops (CANCELLED) — a Lua tool at its next
  // instruction, an HTTP transfer within about a second: a cancelled run's tool call does not
  // run on. Borrowed; optional.
  const std::atomic<bool>* interrupt = nullptr;
};

class ToolRegistry {
 public:
  // Loads the directory; load errors are available from last_load_errors().
  static absl::StatusOr<std::unique_ptr<ToolRegistry>> Create(const ToolRegistryOptions& options);

  // Sorted by name.
  std::vector<ToolInfo> List() const;
  // NOT_FOUND for an unknown tool, INVALID_ARGUMENT naming the argument for bad arguments, the
  // tool's own error (with file:line for Lua tools) otherwise. A Lua tool runs as its file read
  // at the last load (Create or Reload), which its listed schema describes.
  absl::StatusOr<ToolResult> Invoke(const std::string& name, const nlohmann::json& arguments,
                                    const ToolCallOptions& call = {}) const;
  // Re-reads the tools directory; returns the names loaded, and fills *errors with the files that
  // did not load (skipped; the others load). Reloads run one at a time, so the last one started
  // is the one that stays. FAILED_PRECONDITION, with the tool set left as it was, when the
  // directory cannot be listed (removed, renamed away, unreadable).
  absl::StatusOr<std::vector<std::string>> Reload(std::vector<ToolLoadError>* errors);
  std::vector<ToolLoadError> last_load_errors() const;

 private:
  struct LuaTool {
    ToolInfo info;
    std::string path;
    // The file's text as it was loaded (shared by the tools one file defines).
    std::shared_ptr<const std::string> source;
  };
  explicit ToolRegistry(const ToolRegistryOptions& options) : options_(options) {}
  bool Exists(const std::string& name) const;
  // `call.services` is set here; `depth`: how many tool calls enclose this one (tools.call from a
  // Lua tool nests).
  absl::StatusOr<ToolResult> InvokeAt(const std::string& name, const nlohmann::json& arguments, const ToolCallOptions& call,
                                      int depth) const;
  absl::StatusOr<ToolResult> InvokeLua(const LuaTool& tool, const nlohmann::json& arguments, const ToolCallOptions& call,
                                       int depth) const;
  absl::StatusOr<nlohmann::json> WebFetch(const nlohmann::json& arguments, const ToolCallOptions& call) const;
  absl::StatusOr<nlohmann::json> WebSearch(const nlohmann::json& arguments, const ToolCallOptions& call) const;
  // Built-ins whose availability depends on the options.
  std::vector<ToolInfo> NetworkTools() const;

  ToolRegistryOptions options_;
  // Held through a whole Reload: one that read the directory before another and finished after
  // it would put back the older set.
  std::mutex reload_mutex_;
  mutable std::mutex mutex_;
  std::vector<LuaTool> lua_tools_;
  std::vector<ToolLoadError> load_errors_;
};

// Evaluates an arithmetic expression: numbers, + - * / % ^, parentheses, pi, e, and
// sqrt abs exp ln log log10 log2 sin cos tan asin acos atan floor ceil round min max pow.
absl::StatusOr<double> EvaluateArithmetic(const std::string& expression);

}  // namespace tools

#endif  // AGENTD_TOOLS_TOOL_REGISTRY_H_
