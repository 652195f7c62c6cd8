// Crossing from C++ into Lua safely. Debian's Lua is built as C: a Lua error is a longjmp, which
// skips the destructors of every C++ object in the frames it unwinds — a parsed JSON value, a
// response body, an open file — and raised with no protected call around it, it aborts the
// process. So a C function that holds C++ objects does its work in a scope that leaves exactly
// one value on the Lua stack, the result or an error message, and raises only after the scope:
//
//   bool ok;
//   {
//     nlohmann::json value = Work();
//     ok = scripting::PushJsonOrError(L, value);   // a Lua memory error is caught, not raised
//   }
//   return scripting::ReturnOrRaise(L, ok);
#ifndef AGENTD_SCRIPTING_LUA_BOUNDARY_H_
#define AGENTD_SCRIPTING_LUA_BOUNDARY_H_

#include <string_view>

#include "nlohmann/json.hpp"

struct lua_State;

namespace scripting {

// Push `value` (or the text), in a protected call. True: the value is pushed. False: the Lua
// error that stopped it (out of the sandbox's memory) is pushed instead. Never raises.
bool PushJsonOrError(lua_State* L, const nlohmann::json& value);
bool PushStringOrError(lua_State* L, std::string_view text);
// Pushes an error message (or, out of memory, the memory error). Always false, for
// `ok = PushMessage(...)` in the scope above. Never raises.
bool PushMessage(lua_State* L, std::string_view message);

// With the scope's one value on the stack: returns it (ok), or raises it as the error, prefixed
// with the calling script's position ("script.lua:3: ") when it is a message.
int ReturnOrRaise(lua_State* L, bool ok);

}  // namespace scripting

#endif  // AGENTD_SCRIPTING_LUA_BOUNDARY_H_
