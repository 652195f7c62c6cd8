#include "scripting/lua_boundary.h"

#include "scripting/lua_json.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace scripting {
namespace {

int PushJsonUnprotected(lua_State* L) {
  const auto* value = static_cast<const nlohmann::json*>(lua_touserdata(L, 1));
  PushJson(L, *value);
  return 1;
}

int PushStringUnprotected(lua_State* L) {
  const auto* text = static_cast<const std::string_view*>(lua_touserdata(L, 1));
  lua_pushlstring(L, text->data(), text->size());
  return 1;
}

}  // namespace

bool PushJsonOrError(lua_State* L, const nlohmann::json& value) {
  // A light C function and a light userdata allocate nothing; the call itself is protected.
  lua_pushcfunction(L, PushJsonUnprotected);
  lua_pushlightuserdata(L, const_cast<nlohmann::json*>(&value));
  return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

bool PushStringOrError(lua_State* L, std::string_view text) {
  lua_pushcfunction(L, PushStringUnprotected);
  lua_pushlightuserdata(L, &text);
  return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

bool PushMessage(lua_State* L, std::string_view message) {
  PushStringOrError(L, message);
  return false;
}

int ReturnOrRaise(lua_State* L, bool ok) {
  if (ok) return 1;
  if (lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

}  // namespace scripting
