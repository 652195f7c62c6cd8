#include "modules.h"

#include "scripting/http_client.h"

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

  lua_newtable(L);
  lua_pushcfunction(L, TimeNow);
  lua_setfield(L, -2, "now");
  lua_pushcfunction(L, TimeIso);
  lua_setfield(L, -2, "iso");
  lua_setglobal(L, "time");
}

}  // namespace scripting::internal
