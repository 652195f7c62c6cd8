// Converting between Lua values and JSON, for the `json` module and for tool arguments and
// results. Tables with keys 1..n become arrays (an empty table becomes {}), other tables
// objects with string keys; json.null stands for JSON null inside tables.
#ifndef AGENTD_SCRIPTING_LUA_JSON_H_
#define AGENTD_SCRIPTING_LUA_JSON_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

struct lua_State;

namespace scripting {

// What converting Lua values may build on the C++ heap, where the sandbox's memory limit does not
// reach: the depth limit alone does not bound it (a table holding the same table twice, 60 levels
// down, is 2^60 values; a 30 MB string referenced a million times is 30 TB).
struct JsonBudget {
  int64_t values = 2'000'000;
  int64_t string_bytes = 128ll << 20;  // string values and object keys
};

// The value at `index`; errors name the offending key path ("args.items[3]"). Bounded by a
// JsonBudget of its own.
absl::StatusOr<nlohmann::json> LuaToJson(lua_State* L, int index);
// As above, drawing on `budget`, which it leaves reduced by what it used (also when it fails):
// conversions whose results are held at the same time share one bound.
absl::StatusOr<nlohmann::json> LuaToJson(lua_State* L, int index, JsonBudget& budget);
// Pushes the value.
void PushJson(lua_State* L, const nlohmann::json& value);

}  // namespace scripting

#endif  // AGENTD_SCRIPTING_LUA_JSON_H_
