// Converting between Lua values and JSON, for the `json` module and for tool arguments and
// results. Tables with keys 1..n become arrays (an empty table becomes {}), other tables
// objects with string keys; json.null stands for JSON null inside tables.
#ifndef AGENTD_SCRIPTING_LUA_JSON_H_
#define AGENTD_SCRIPTING_LUA_JSON_H_

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

struct lua_State;

namespace scripting {

// The value at `index`; errors name the offending key path ("args.items[3]").
absl::StatusOr<nlohmann::json> LuaToJson(lua_State* L, int index);
// Pushes the value.
void PushJson(lua_State* L, const nlohmann::json& value);

}  // namespace scripting

#endif  // AGENTD_SCRIPTING_LUA_JSON_H_
