#include "tools/tool_registry.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <regex>

#include "absl/strings/str_cat.h"
#include "scripting/lua_boundary.h"
#include "scripting/lua_json.h"
#include "tools/html_text.h"
#include "scripting/http_client.h"
#include "scripting/script_file.h"
#include "tools/json_schema.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace tools {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kDefinitionsKey[] = "agentd.tool_definitions";

struct Builtin {
  ToolInfo info;
  absl::StatusOr<Json> (*run)(const Json& args);
};

absl::StatusOr<Json> RunCalculator(const Json& args) {
  absl::StatusOr<double> value = EvaluateArithmetic(args["expression"].get<std::string>());
  if (!value.ok()) return value.status();
  return Json{{"expression", args["expression"]}, {"result", *value}};
}

absl::StatusOr<Json> RunCurrentTime(const Json& args) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char iso[32];
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  return Json{{"utc", iso}, {"date", date}, {"unix_seconds", static_cast<int64_t>(seconds)}};
}

const std::vector<Builtin>& Builtins() {
  static const std::vector<Builtin> builtins = {
      {{"calculator", "Evaluates an arithmetic expression exactly as written (+ - * / % ^, parentheses, sqrt, log, min, max, ...).",
        Json::parse(R"({"type": "object", "properties": {"expression": {"type": "string", "minLength": 1, "maxLength": 1000,
                        "description": "e.g. (557.6 - 78) / 78 * 100"}}, "required": ["expression"], "additionalProperties": false})"),
        ToolInfo::Origin::kBuiltin, ""},
       RunCalculator},
      {{"current_time", "The current date and time in UTC.",
        Json::parse(R"({"type": "object", "properties": {}, "additionalProperties": false})"), ToolInfo::Origin::kBuiltin, ""},
       RunCurrentTime},
  };
  return builtins;
}

// tool{...} from a Lua file: appends a copy of the definition's four fields, read here (inside
// the file's protected run, where a metamethod may run and fail) into a plain table that
// DefineFrom then reads outside any protected call — where an __index that raised would abort.
int DefineTool(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, LUA_REGISTRYINDEX, kDefinitionsKey);
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
  lua_createtable(L, 0, 4);
  for (const char* field : {"name", "description", "handler", "params"}) {
    lua_getfield(L, 1, field);
    lua_setfield(L, -2, field);
  }
  lua_rawseti(L, -2, n + 1);
  return 0;
}

struct Definition {
  ToolInfo info;
  int line = 0;
};

// Runs a tool file in `sandbox` and reads the tools it defines. The handler functions stay in
// the registry list (index i+1) for invocation.
absl::StatusOr<std::vector<Definition>> DefineFrom(scripting::Sandbox* sandbox, const std::string& source,
                                                  const std::string& path, const std::string& relative) {
  lua_State* L = sandbox->lua();
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kDefinitionsKey);
  lua_pushcfunction(L, DefineTool);
  lua_setglobal(L, "tool");
  absl::Status status = sandbox->RunSource(source, path);
  if (!status.ok()) return status;
  std::vector<Definition> definitions;
  lua_getfield(L, LUA_REGISTRYINDEX, kDefinitionsKey);
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
  static const std::regex valid_name("[a-z][a-z0-9_]{0,63}");
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, -1, i);
    Definition d;
    d.info.origin = ToolInfo::Origin::kLua;
    d.info.file = relative;
    lua_getfield(L, -1, "name");
    const char* name = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (name == nullptr || !std::regex_match(name, valid_name)) {
      lua_settop(L, 0);
      return absl::InvalidArgumentError(absl::StrCat(relative, ": tool #", i, ": name must match [a-z][a-z0-9_]* (up to 64)"));
    }
    d.info.name = name;
    lua_getfield(L, -1, "description");
    d.info.description = lua_tostring(L, -1) ? lua_tostring(L, -1) : "";
    lua_pop(L, 1);
    lua_getfield(L, -1, "handler");
    const bool has_handler = lua_isfunction(L, -1);
    lua_pop(L, 1);
    if (!has_handler) {
      lua_settop(L, 0);
      return absl::InvalidArgumentError(absl::StrCat(relative, ": tool ", d.info.name, ": handler must be a function"));
    }
    lua_getfield(L, -1, "params");
    if (lua_isnil(L, -1)) {
      d.info.parameters = Json{{"type", "object"}};
    } else {
      absl::StatusOr<Json> schema = scripting::LuaToJson(L, -1);
      // value("type", "") would throw on a type that is not a string ({type = 5}).
      if (!schema.ok() || !schema->is_object() || !schema->contains("type") || (*schema)["type"] != "object") {
        lua_settop(L, 0);
        return absl::InvalidArgumentError(absl::StrCat(relative, ": tool ", d.info.name,
                                                       ": params must be a JSON Schema of type \"object\""));
      }
      // Lua has no empty-object literal: {} converts to [] in places JSON needs an object.
      if (schema->contains("properties") && (*schema)["properties"].is_array() && (*schema)["properties"].empty()) {
        (*schema)["properties"] = Json::object();
      }
      absl::Status valid = CheckSchema(*schema);
      if (!valid.ok()) {
        lua_settop(L, 0);
        return absl::InvalidArgumentError(absl::StrCat(relative, ": tool ", d.info.name, ": params: ", valid.message()));
      }
      d.info.parameters = std::move(*schema);
    }
    lua_pop(L, 2);
    definitions.push_back(std::move(d));
  }
  lua_settop(L, 0);
  return definitions;
}

ToolInfo WebFetchInfo() {
  return {"web_fetch", "Fetches a web page (http/https, allowlisted hosts) and returns its title and readable text.",
          Json::parse(R"({"type": "object", "properties": {"url": {"type": "string", "minLength": 1, "maxLength": 4096},
                          "max_chars": {"type": "integer", "minimum": 100, "maximum": 200000}},
                          "required": ["url"], "additionalProperties": false})"),
          ToolInfo::Origin::kBuiltin, ""};
}

ToolInfo WebSearchInfo() {
  return {"web_search", "Searches the web through the configured search service; returns titles, URLs and snippets.",
          Json::parse(R"({"type": "object", "properties": {"query": {"type": "string", "minLength": 1, "maxLength": 1000},
                          "max_results": {"type": "integer", "minimum": 1, "maximum": 50}},
                          "required": ["query"], "additionalProperties": false})"),
          ToolInfo::Origin::kBuiltin, ""};
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

ToolInfo MemorySearchInfo() {
  return {"memory_search", "Searches a memory collection (hybrid vector + lexical) and returns passages with their sources.",
          Json::parse(R"({"type": "object", "properties": {"collection": {"type": "string", "minLength": 1, "maxLength": 64},
                          "query": {"type": "string", "minLength": 1, "maxLength": 8192},
                          "k": {"type": "integer", "minimum": 1, "maximum": 100},
                          "mode": {"enum": ["hybrid", "vector", "lexical"]},
                          "whole_sentences": {"type": "boolean"}},
                          "required": ["collection", "query"], "additionalProperties": false})"),
          ToolInfo::Origin::kBuiltin, ""};
}

std::vector<ToolInfo> ToolRegistry::NetworkTools() const {
  std::vector<ToolInfo> out = {WebFetchInfo()};
  if (!options_.search_url.empty()) out.push_back(WebSearchInfo());
  if (options_.services.memory_search) out.push_back(MemorySearchInfo());
  return out;
}

namespace {

// Whether a Content-Type names text a reader can be given: text/*, HTML, XML, JSON (and their
// +xml / +json kinds), or none at all.
bool IsTextType(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  type.erase(0, type.find_first_not_of(" \t"));
  type.erase(type.find_last_not_of(" \t") + 1);
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type.empty() || type.rfind("text/", 0) == 0) return true;
  for (const char* textual : {"application/xhtml+xml", "application/xml", "application/json", "application/javascript",
                              "application/ld+json", "application/rss+xml", "application/atom+xml"}) {
    if (type == textual) return true;
  }
  return type.ends_with("+xml") || type.ends_with("+json");
}

}  // namespace

absl::StatusOr<Json> ToolRegistry::WebFetch(const Json& args, const ToolCallOptions& call) const {
  scripting::HttpRequest request;
  request.url = args["url"].get<std::string>();
  request.timeout_seconds = call.timeout_seconds;
  request.interrupt = call.interrupt;
  absl::StatusOr<scripting::HttpResponse> response = scripting::HttpFetch(request, options_.http);
  if (!response.ok()) return response.status();
  const size_t max_chars = args.value("max_chars", 20000);
  const std::string type = response->headers.count("content-type") ? response->headers.at("content-type") : "";
  // A body that is not text (an executable, an image, an archive) would reach the model as
  // control characters: refused, naming its type. Without a type, the body is taken as text.
  if (!IsTextType(type)) {
    return absl::FailedPreconditionError(absl::StrCat("web_fetch: ", response->final_url, " is ",
                                                      type.substr(0, 100), ", not text"));
  }
  PageText page;
  if (type.find("html") != std::string::npos || response->body.find("<html") != std::string::npos) {
    page = HtmlToText(response->body);
  } else {
    page.text = response->body;
  }
  // Cut at a character boundary.
  bool truncated = false;
  size_t bytes = 0, chars = 0;
  while (bytes < page.text.size() && chars < max_chars) {
    const unsigned char c = page.text[bytes];
    bytes += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    ++chars;
  }
  if (bytes < page.text.size()) {
    page.text.resize(bytes);
    truncated = true;
  }
  return Json{{"url", response->final_url}, {"status", response->status}, {"title", page.title},
              {"text", page.text}, {"truncated", truncated}};
}

absl::StatusOr<Json> ToolRegistry::WebSearch(const Json& args, const ToolCallOptions& call) const {
  std::string url = options_.search_url;
  const size_t at = url.find("{query}");
  if (at == std::string::npos) return absl::FailedPreconditionError("search_url has no {query} placeholder");
  url.replace(at, 7, UrlEncode(args["query"].get<std::string>()));
  scripting::HttpRequest request;
  request.url = url;
  request.timeout_seconds = call.timeout_seconds;
  request.interrupt = call.interrupt;
  absl::StatusOr<scripting::HttpResponse> response = scripting::HttpFetch(request, options_.http);
  if (!response.ok()) return response.status();
  if (response->status != 200) return absl::UnavailableError(absl::StrCat("web_search: the search service answered ", response->status));
  Json body = Json::parse(response->body, nullptr, false);
  if (body.is_discarded() || !body.contains("results") || !body["results"].is_array()) {
    return absl::UnavailableError("web_search: the search service did not answer {\"results\": [...]}");
  }
  const size_t max_results = args.value("max_results", 8);
  Json results = Json::array();
  // The service's answer is as hostile as the pages it indexes: a result that is not an object,
  // or a field that is not a string, is passed over rather than trusted (value() would throw).
  const auto text_field = [](const Json& result, const char* key) {
    const auto found = result.find(key);
    return found != result.end() && found->is_string() ? found->get<std::string>() : std::string();
  };
  for (const Json& r : body["results"]) {
    if (results.size() >= max_results) break;
    if (!r.is_object()) continue;
    results.push_back({{"title", text_field(r, "title")}, {"url", text_field(r, "url")}, {"snippet", text_field(r, "content")}});
  }
  return Json{{"query", args["query"]}, {"results", results}};
}

absl::StatusOr<std::unique_ptr<ToolRegistry>> ToolRegistry::Create(const ToolRegistryOptions& options) {
  std::unique_ptr<ToolRegistry> registry(new ToolRegistry(options));
  if (!options.tools_dir.empty() && !fs::is_directory(options.tools_dir)) {
    return absl::NotFoundError(absl::StrCat("tools directory ", options.tools_dir, ": not a directory"));
  }
  std::vector<ToolLoadError> errors;
  absl::StatusOr<std::vector<std::string>> loaded = registry->Reload(&errors);
  if (!loaded.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("tools directory ", options.tools_dir, ": cannot be listed"));
  }
  return registry;
}

absl::StatusOr<std::vector<std::string>> ToolRegistry::Reload(std::vector<ToolLoadError>* errors) {
  std::lock_guard<std::mutex> reloading(reload_mutex_);
  errors->clear();
  std::vector<LuaTool> loaded;
  std::vector<std::string> names;
  for (const Builtin& b : Builtins()) names.push_back(b.info.name);
  for (const ToolInfo& t : NetworkTools()) names.push_back(t.name);
  if (!options_.tools_dir.empty()) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(options_.tools_dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".lua") files.push_back(it->path());
    }
    if (ec) {
      // A directory swapped away mid-deploy would otherwise drop every Lua tool without a word.
      return absl::FailedPreconditionError(absl::StrCat("tools directory ", options_.tools_dir, ": ", ec.message(),
                                                        "; the tools loaded before are kept"));
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& path : files) {
      const std::string relative = path.filename().string();
      // Read once: what runs at each call is this text, which the listed schema describes.
      absl::StatusOr<std::string> read = scripting::ReadScriptFile(path.string());
      if (!read.ok()) {
        errors->push_back({relative, std::string(read.status().message())});
        continue;
      }
      auto source = std::make_shared<const std::string>(std::move(*read));
      scripting::SandboxOptions sandbox_options;
      sandbox_options.limits = options_.limits;
      sandbox_options.scripts_dir = options_.tools_dir;
      auto sandbox = scripting::Sandbox::Create(sandbox_options);
      if (!sandbox.ok()) {
        errors->push_back({relative, std::string(sandbox.status().message())});
        continue;
      }
      auto definitions = DefineFrom(sandbox->get(), *source, path.string(), relative);
      if (!definitions.ok()) {
        errors->push_back({relative, std::string(definitions.status().message())});
        continue;
      }
      bool clash = false;
      for (const Definition& d : *definitions) {
        if (std::find(names.begin(), names.end(), d.info.name) != names.end()) {
          errors->push_back({relative, absl::StrCat("tool ", d.info.name, " is already defined")});
          clash = true;
        }
      }
      if (clash) continue;
      for (const Definition& d : *definitions) {
        names.push_back(d.info.name);
        loaded.push_back({d.info, path.string(), source});
      }
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  lua_tools_ = std::move(loaded);
  load_errors_ = *errors;
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<ToolLoadError> ToolRegistry::last_load_errors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return load_errors_;
}

std::vector<ToolInfo> ToolRegistry::List() const {
  std::vector<ToolInfo> out;
  for (const Builtin& b : Builtins()) out.push_back(b.info);
  for (const ToolInfo& t : NetworkTools()) out.push_back(t);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const LuaTool& t : lua_tools_) out.push_back(t.info);
  }
  std::sort(out.begin(), out.end(), [](const ToolInfo& a, const ToolInfo& b) { return a.name < b.name; });
  return out;
}

absl::StatusOr<ToolResult> ToolRegistry::Invoke(const std::string& name, const Json& arguments,
                                                const ToolCallOptions& call) const {
  const auto start = Clock::now();
  ToolCallOptions resolved = call;
  if (resolved.services == nullptr) resolved.services = &options_.services;
  absl::StatusOr<ToolResult> result = InvokeAt(name, arguments, resolved, 0);
  // Only names of tools that exist reach the observer: a caller's made-up name is not a label
  // (nor one refused before it was looked up, by an interrupt).
  if (options_.on_invoked && Exists(name)) {
    options_.on_invoked(name, result.status(), std::chrono::duration<double>(Clock::now() - start).count());
  }
  return result;
}

bool ToolRegistry::Exists(const std::string& name) const {
  for (const ToolInfo& info : List()) {
    if (info.name == name) return true;
  }
  return false;
}

absl::StatusOr<ToolResult> ToolRegistry::InvokeAt(const std::string& name, const Json& arguments,
                                                  const ToolCallOptions& call, int depth) const {
  if (call.interrupt != nullptr && call.interrupt->load()) return absl::CancelledError("the tool call was interrupted");
  const scripting::ScriptServices& services = *call.services;
  const Json args = arguments.is_null() ? Json::object() : arguments;
  if (!args.is_object()) return absl::InvalidArgumentError("args: must be a JSON object");
  const auto start = Clock::now();
  for (const Builtin& b : Builtins()) {
    if (b.info.name != name) continue;
    absl::Status valid = ValidateJson(b.info.parameters, args);
    if (!valid.ok()) return valid;
    absl::StatusOr<Json> result = b.run(args);
    if (!result.ok()) return result.status();
    return ToolResult{std::move(*result), {}, std::chrono::duration<double, std::milli>(Clock::now() - start).count()};
  }
  for (const ToolInfo& t : NetworkTools()) {
    if (t.name != name) continue;
    absl::Status valid = ValidateJson(t.parameters, args);
    if (!valid.ok()) return valid;
    // A caller may shorten the daemon's limit, never extend it.
    ToolCallOptions bounded = call;
    bounded.timeout_seconds = call.timeout_seconds > 0 ? std::min(call.timeout_seconds, options_.http.timeout_seconds)
                                                       : options_.http.timeout_seconds;
    absl::StatusOr<Json> result = name == "web_fetch"       ? WebFetch(args, bounded)
                                  : name == "web_search"    ? WebSearch(args, bounded)
                                                            : services.memory_search
                                                                  ? services.memory_search(args)
                                                                  : absl::StatusOr<Json>(absl::FailedPreconditionError("memory_search is not available"));
    if (!result.ok()) return result.status();
    return ToolResult{std::move(*result), {}, std::chrono::duration<double, std::milli>(Clock::now() - start).count()};
  }
  LuaTool tool;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find_if(lua_tools_.begin(), lua_tools_.end(), [&](const LuaTool& t) { return t.info.name == name; });
    if (it == lua_tools_.end()) return absl::NotFoundError(absl::StrCat("tool \"", name, "\" does not exist"));
    tool = *it;
  }
  absl::Status valid = ValidateJson(tool.info.parameters, args);
  if (!valid.ok()) return valid;
  ToolCallOptions bounded = call;
  bounded.timeout_seconds = call.timeout_seconds > 0 ? std::min(call.timeout_seconds, options_.limits.timeout_seconds)
                                                     : options_.limits.timeout_seconds;
  return InvokeLua(tool, args, bounded, depth);
}

absl::StatusOr<ToolResult> ToolRegistry::InvokeLua(const LuaTool& tool, const Json& args, const ToolCallOptions& call,
                                                   int depth) const {
  const auto start = Clock::now();
  ToolResult result;
  scripting::SandboxOptions options;
  options.limits = options_.limits;
  options.limits.timeout_seconds = call.timeout_seconds;
  options.scripts_dir = options_.tools_dir;
  options.http = options_.http;
  options.services = *call.services;
  options.interrupt = call.interrupt;
  if (!options.services.tool_call) {
    // tools.call runs another tool of this registry, one level deeper, for the same caller.
    options.services.tool_call = [this, depth, call](const std::string& name, const Json& call_args) -> absl::StatusOr<Json> {
      if (depth + 1 > 4) return absl::ResourceExhaustedError("tool calls nested more than 4 deep");
      absl::StatusOr<ToolResult> nested = InvokeAt(name, call_args, call, depth + 1);
      if (!nested.ok()) return nested.status();
      return nested->result;
    };
  }
  options.on_print = [&](const std::string& line) { result.logs.push_back(line); };
  options.on_log = [&](const std::string& level, const std::string& message) {
    result.logs.push_back(absl::StrCat("[", level, "] ", message));
  };
  // A fresh state per invocation: nothing one call leaves behind is seen by the next.
  auto sandbox = scripting::Sandbox::Create(options);
  if (!sandbox.ok()) return sandbox.status();
  auto definitions = DefineFrom(sandbox->get(), *tool.source, tool.path, tool.info.file);
  if (!definitions.ok()) return definitions.status();
  lua_State* L = (*sandbox)->lua();
  lua_getfield(L, LUA_REGISTRYINDEX, kDefinitionsKey);
  int index = 0;
  for (size_t i = 0; i < definitions->size(); ++i) {
    if ((*definitions)[i].info.name == tool.info.name) index = static_cast<int>(i) + 1;
  }
  if (index == 0) return absl::NotFoundError(absl::StrCat(tool.info.file, " no longer defines tool ", tool.info.name));
  lua_rawgeti(L, -1, index);
  lua_getfield(L, -1, "handler");
  // Outside any protected call: a Lua memory error here (arguments larger than the tool's
  // memory) would abort the process.
  if (!scripting::PushJsonOrError(L, args)) {
    lua_settop(L, 0);
    return absl::ResourceExhaustedError(
        absl::StrCat(tool.info.file, ": tool ", tool.info.name, ": its arguments do not fit in the tool's memory"));
  }
  lua_newtable(L);
  lua_pushstring(L, tool.info.name.c_str());
  lua_setfield(L, -2, "tool");
  absl::Status status = (*sandbox)->Call(2, 1, tool.info.file);
  if (!status.ok()) return status;
  absl::StatusOr<Json> value = scripting::LuaToJson(L, -1);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(tool.info.file, ": tool ", tool.info.name, " returned ", value.status().message()));
  }
  result.result = std::move(*value);
  result.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return result;
}

}  // namespace tools
