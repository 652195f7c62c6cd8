#include "modules.h"

#include "scripting/http_client.h"
#include "scripting/lua_boundary.h"
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
  const bool post = std::string_view(method) == "POST";
  // Arguments are checked (and option fields read, which may run a metamethod that raises)
  // before any C++ object exists.
  luaL_checkstring(L, 1);
  if (post) luaL_optlstring(L, 2, "", nullptr);
  const int opts = post ? 3 : 2;
  lua_Number timeout = 0;
  if (lua_istable(L, opts)) {
    lua_getfield(L, opts, "timeout");
    timeout = luaL_optnumber(L, -1, 0);
    lua_pop(L, 1);
    lua_getfield(L, opts, "headers");  // left on the stack for the scope below
  } else {
    lua_pushnil(L);
  }
  const int headers = lua_gettop(L);
  bool ok;
  {
    HttpRequest request;
    request.method = method;
    request.url = lua_tostring(L, 1);
    if (post) {
      size_t length = 0;
      const char* body = lua_isnoneornil(L, 2) ? "" : lua_tolstring(L, 2, &length);
      request.body.assign(body, length);
    }
    request.timeout_seconds = timeout;
    request.interrupt = options->interrupt;
    if (lua_istable(L, headers)) {
      lua_pushnil(L);
      while (lua_next(L, headers) != 0) {  // raw traversal: no metamethods
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
          request.headers[lua_tostring(L, -2)] = lua_tostring(L, -1);
        }
        lua_pop(L, 1);
      }
    }
    absl::StatusOr<HttpResponse> response = HttpFetch(request, options->http);
    if (!response.ok()) {
      ok = PushMessage(L, absl::StrCat("http.", post ? "post" : "get", ": ", response.status().message()));
    } else {
      // PushJson writes strings byte for byte: the body need not be UTF-8.
      nlohmann::json answer = {{"status", response->status}, {"url", response->final_url}, {"headers", response->headers}};
      answer["body"] = std::move(response->body);
      ok = PushJsonOrError(L, answer);
    }
  }  // the request and the response body are freed before a Lua error unwinds past this frame
  return ReturnOrRaise(L, ok);
}
int HttpGet(lua_State* L) { return HttpCall(L, "GET"); }
int HttpPost(lua_State* L) { return HttpCall(L, "POST"); }

// A module function that forwards its table argument to a JSON callback and returns the result.
// The service's answer, or its error; an exception from the service (a value of the wrong type
// read with nlohmann's value()) becomes an error here instead of unwinding through Lua's C frames.
absl::StatusOr<nlohmann::json> CallService(const JsonCall& call, const nlohmann::json& request) {
  try {
    return call(request);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(e.what());
  }
}

int ForwardJson(lua_State* L, const char* name, const JsonCall& call) {
  if (!call) return luaL_error(L, "%s is not available here", name);
  luaL_checktype(L, 1, LUA_TTABLE);
  bool ok;
  {
    absl::StatusOr<nlohmann::json> request = LuaToJson(L, 1);
    absl::StatusOr<nlohmann::json> result = request.ok() ? CallService(call, *request) : request.status();
    ok = result.ok() ? PushJsonOrError(L, *result) : PushMessage(L, absl::StrCat(name, ": ", result.status().message()));
  }  // C++ objects are gone before a Lua error unwinds past this frame (lua_boundary.h)
  return ReturnOrRaise(L, ok);
}
int MemorySearch(lua_State* L) { return ForwardJson(L, "memory.search", OptionsOf(L)->services.memory_search); }
int MemoryIngest(lua_State* L) { return ForwardJson(L, "memory.ingest", OptionsOf(L)->services.memory_ingest); }
int LlmGenerate(lua_State* L) { return ForwardJson(L, "llm.generate", OptionsOf(L)->services.llm_generate); }
int LlmChat(lua_State* L) { return ForwardJson(L, "llm.chat", OptionsOf(L)->services.llm_chat); }

int ToolsCall(lua_State* L) {
  const SandboxOptions* options = OptionsOf(L);
  if (!options->services.tool_call) return luaL_error(L, "tools.call is not available here");
  luaL_checkstring(L, 1);
  bool ok;
  {
    const std::string name = lua_tostring(L, 1);
    absl::StatusOr<nlohmann::json> args = nlohmann::json::object();
    if (!lua_isnoneornil(L, 2)) {
      args = LuaToJson(L, 2);
      if (args.ok() && args->is_array() && args->empty()) args = nlohmann::json::object();  // {} in Lua
    }
    absl::StatusOr<nlohmann::json> result = args;
    if (args.ok()) {
      try {
        result = options->services.tool_call(name, *args);
      } catch (const std::exception& e) {
        result = absl::InvalidArgumentError(e.what());
      }
    }
    ok = result.ok() ? PushJsonOrError(L, *result)
                     : PushMessage(L, args.ok() ? absl::StrCat("tools.call(\"", name, "\"): ", result.status().message())
                                                : absl::StrCat("tools.call: ", result.status().message()));
  }
  return ReturnOrRaise(L, ok);
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
