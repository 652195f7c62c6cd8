#include "modules.h"

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
  lua_pushcfunction(L, TimeNow);
  lua_setfield(L, -2, "now");
  lua_pushcfunction(L, TimeIso);
  lua_setfield(L, -2, "iso");
  lua_setglobal(L, "time");
}

}  // namespace scripting::internal
