#include "modules.h"

#include "scripting/http_client.h"
#include "scripting/lua_json.h"

#include <chrono>
#include <ctime>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace scripting::internal {

void OpenJsonModule(lua_State* L);

namespace {

const SandboxOptions* OptionsOf(lua_State* L) {
  return static_cast<const SandboxOptions*>(lua_touserdata(L, lua_upvalueindex(1)));
}

int LogAt(lua_State* L, const char* level) {
  const SandboxOptions* options = OptionsOf(L);
  size_t length;
  const char* message = luaL_tolstring(L, 1, &length);
  if (options->on_log) options->on_log(level, std::string(message, length));
  return 0;
}
int LogDebug(lua_State* L) { return LogAt(L, "debug"); }
int LogInfo(lua_State* L) { return LogAt(L, "info"); }
int LogWarn(lua_State* L) { return LogAt(L, "warn"); }
int LogError(lua_State* L) { return LogAt(L, "error"); }

int TimeNow(lua_State* L) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(now).count());
  return 1;
}

int TimeIso(lua_State* L) {
  const std::time_t seconds = luaL_opt(L, luaL_checkinteger, 1, static_cast<lua_Integer>(std::time(nullptr)));
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  lua_pushstring(L, buffer);
  return 1;
}

// http.get(url [, {headers = {...}, timeout = s}]) and http.post(url, body [, opts]) →
// {status = 200, body = "...", headers = {...}, url = final url}.
int HttpCall(lua_State* L, const char* method) {
  const SandboxOptions* options = OptionsOf(L);
  HttpRequest request;
  request.method = method;
  request.url = luaL_checkstring(L, 1);
  int opts = 2;
  if (request.method == "POST") {
    size_t length;
    const char* body = luaL_optlstring(L, 2, "", &length);
    request.body.assign(body, length);
    opts = 3;
  }
  if (lua_istable(L, opts)) {
    lua_getfield(L, opts, "timeout");
    request.timeout_seconds = luaL_optnumber(L, -1, 0);
    lua_pop(L, 1);
    lua_getfield(L, opts, "headers");
    if (lua_istable(L, -1)) {
      lua_pushnil(L);
      while (lua_next(L, -2) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
          request.headers[lua_tostring(L, -2)] = lua_tostring(L, -1);
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  absl::StatusOr<HttpResponse> response = HttpFetch(request, options->http);
  if (!response.ok()) {
    return luaL_error(L, "http.%s: %s", request.method == "GET" ? "get" : "post", std::string(response.status().message()).c_str());
  }
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, response->status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, response->body.data(), response->body.size());
  lua_setfield(L, -2, "body");
  lua_pushstring(L, response->final_url.c_str());
  lua_setfield(L, -2, "url");
  lua_newtable(L);
  for (const auto& [name, value] : response->headers) {
    lua_pushstring(L, value.c_str());
    lua_setfield(L, -2, name.c_str());
  }
  lua_setfield(L, -2, "headers");
  return 1;
}
int HttpGet(lua_State* L) { return HttpCall(L, "GET"); }
int HttpPost(lua_State* L) { return HttpCall(L, "POST"); }

// A module function that forwards its table argument to a JSON callback and returns the result.
int ForwardJson(lua_State* L, const char* name, const JsonCall& call) {
  if (!call) return luaL_error(L, "%s is not available here", name);
  luaL_checktype(L, 1, LUA_TTABLE);
  absl::StatusOr<nlohmann::json> request = LuaToJson(L, 1);
  if (!request.ok()) return luaL_error(L, "%s: %s", name, std::string(request.status().message()).c_str());
  absl::StatusOr<nlohmann::json> result = call(*request);
  if (!result.ok()) return luaL_error(L, "%s: %s", name, std::string(result.status().message()).c_str());
  PushJson(L, *result);
  return 1;
}
int MemorySearch(lua_State* L) { return ForwardJson(L, "memory.search", OptionsOf(L)->services.memory_search); }
int MemoryIngest(lua_State* L) { return ForwardJson(L, "memory.ingest", OptionsOf(L)->services.memory_ingest); }
int LlmGenerate(lua_State* L) { return ForwardJson(L, "llm.generate", OptionsOf(L)->services.llm_generate); }
int LlmChat(lua_State* L) { return ForwardJson(L, "llm.chat", OptionsOf(L)->services.llm_chat); }

int ToolsCall(lua_State* L) {
  const SandboxOptions* options = OptionsOf(L);
  if (!options->services.tool_call) return luaL_error(L, "tools.call is not available here");
  const std::string name = luaL_checkstring(L, 1);
  nlohmann::json args = nlohmann::json::object();
  if (!lua_isnoneornil(L, 2)) {
    absl::StatusOr<nlohmann::json> converted = LuaToJson(L, 2);
    if (!converted.ok()) return luaL_error(L, "tools.call: %s", std::string(converted.status().message()).c_str());
    args = *converted;
    if (args.is_array() && args.empty()) args = nlohmann::json::object();  // {} in Lua
  }
  absl::StatusOr<nlohmann::json> result = options->services.tool_call(name, args);
  if (!result.ok()) return luaL_error(L, "tools.call(\"%s\"): %s", name.c_str(), std::string(result.status().message()).c_str());
  PushJson(L, *result);
  return 1;
}

void RegisterModule(lua_State* L, const char* name, const luaL_Reg* functions, const SandboxOptions& options) {
  lua_newtable(L);
  lua_pushlightuserdata(L, const_cast<SandboxOptions*>(&options));
  luaL_setfuncs(L, functions, 1);
  lua_setglobal(L, name);
}

}  // namespace

void OpenStandardModules(lua_State* L, const SandboxOptions& options) {
  OpenJsonModule(L);

  // The options outlive the state (they live in the Sandbox's guard).
  lua_newtable(L);
  const luaL_Reg log_functions[] = {{"debug", LogDebug}, {"info", LogInfo}, {"warn", LogWarn}, {"error", LogError}, {nullptr, nullptr}};
  lua_pushlightuserdata(L, const_cast<SandboxOptions*>(&options));
  luaL_setfuncs(L, log_functions, 1);
  lua_setglobal(L, "log");

  lua_newtable(L);
  const luaL_Reg http_functions[] = {{"get", HttpGet}, {"post", HttpPost}, {nullptr, nullptr}};
  lua_pushlightuserdata(L, const_cast<SandboxOptions*>(&options));
  luaL_setfuncs(L, http_functions, 1);
  lua_setglobal(L, "http");

  const luaL_Reg memory_functions[] = {{"search", MemorySearch}, {"ingest", MemoryIngest}, {nullptr, nullptr}};
  RegisterModule(L, "memory", memory_functions, options);
  const luaL_Reg llm_functions[] = {{"generate", LlmGenerate}, {"chat", LlmChat}, {nullptr, nullptr}};
  RegisterModule(L, "llm", llm_functions, options);
  const luaL_Reg tools_functions[] = {{"call", ToolsCall}, {nullptr, nullptr}};
  RegisterModule(L, "tools", tools_functions, options);

  lua_newtable(L);
  lua_pushcfunction(L, TimeNow);
  lua_setfield(L, -2, "now");
  lua_pushcfunction(L, TimeIso);
  lua_setfield(L, -2, "iso");
  lua_setglobal(L, "time");
}

}  // namespace scripting::internal
