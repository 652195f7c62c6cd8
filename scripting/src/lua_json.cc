#include "scripting/lua_json.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scripting/lua_boundary.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace scripting {
namespace {

constexpr int kMaxDepth = 64;
// The registry key of the json.null sentinel.
constexpr char kNullKey[] = "agentd.json.null";

bool IsNull(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TLIGHTUSERDATA) return false;
  lua_getfield(L, LUA_REGISTRYINDEX, kNullKey);
  const bool same = lua_rawequal(L, index, -1);
  lua_pop(L, 1);
  return same;
}

// Where a value is, for errors: a chain of parents on the C++ stack, written out only when an
// error names it. Writing every value's path eagerly copied each key once per value below it
// (a 1 MiB key over a million values was a terabyte).
struct Path {
  const Path* parent = nullptr;
  std::string_view key;  // an object's key, or empty for an array's item
  lua_Integer item = 0;

  std::string Text() const {
    if (parent == nullptr) return "value";
    std::vector<const Path*> chain;
    for (const Path* p = this; p->parent != nullptr; p = p->parent) chain.push_back(p);
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const Path* p = *it;
      if (p->key.empty()) {
        absl::StrAppend(&out, "[", p->item, "]");
      } else {
        // Keys are clipped: the message names the place, it does not repeat the data.
        const std::string_view key = p->key.size() > 64 ? p->key.substr(0, 64) : p->key;
        if (!out.empty()) out += '.';
        out.append(key.data(), key.size());
        if (p->key.size() > 64) out += "...";
      }
    }
    return out;
  }
};

absl::StatusOr<nlohmann::json> Convert(lua_State* L, int index, const Path& at, int depth, JsonBudget* budget) {
  index = lua_absindex(L, index);
  if (depth > kMaxDepth) return absl::InvalidArgumentError(absl::StrCat(at.Text(), ": nested too deeply (or a cycle)"));
  if (--budget->values < 0) {
    return absl::InvalidArgumentError(absl::StrCat(at.Text(), ": more than ", JsonBudget().values,
                                                   " values in all (a table shared many times?)"));
  }
  // Each level holds a key and a value on the Lua stack.
  if (!lua_checkstack(L, 4)) return absl::ResourceExhaustedError(absl::StrCat(at.Text(), ": no Lua stack left"));
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      return nlohmann::json(nullptr);
    case LUA_TBOOLEAN:
      return nlohmann::json(lua_toboolean(L, index) != 0);
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) return nlohmann::json(static_cast<int64_t>(lua_tointeger(L, index)));
      if (!std::isfinite(lua_tonumber(L, index))) return absl::InvalidArgumentError(absl::StrCat(at.Text(), ": not a finite number"));
      return nlohmann::json(lua_tonumber(L, index));
    case LUA_TSTRING: {
      size_t length;
      const char* s = lua_tolstring(L, index, &length);
      budget->string_bytes -= static_cast<int64_t>(length);
      if (budget->string_bytes < 0) {
        return absl::InvalidArgumentError(absl::StrCat(at.Text(), ": more than ", JsonBudget().string_bytes >> 20,
                                                       " MiB of text in all"));
      }
      return nlohmann::json(std::string(s, length));
    }
    case LUA_TLIGHTUSERDATA:
      if (IsNull(L, index)) return nlohmann::json(nullptr);
      break;
    case LUA_TTABLE: {
      const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, index));
      // An array when keys are exactly 1..n with n > 0.
      bool is_array = n > 0;
      lua_Integer count = 0;
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        ++count;
        if (!lua_isinteger(L, -2)) is_array = false;
        lua_pop(L, 1);
      }
      if (count != n) is_array = false;
      if (is_array) {
        nlohmann::json array = nlohmann::json::array();
        for (lua_Integer i = 1; i <= n; ++i) {
          lua_rawgeti(L, index, i);
          auto item = Convert(L, -1, Path{&at, {}, i}, depth + 1, budget);
          lua_pop(L, 1);
          if (!item.ok()) return item.status();
          array.push_back(std::move(*item));
        }
        return array;
      }
      nlohmann::json object = nlohmann::json::object();
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
          lua_pop(L, 2);
          return absl::InvalidArgumentError(absl::StrCat(at.Text(), ": object keys must be strings"));
        }
        size_t key_length = 0;
        const char* key_bytes = lua_tolstring(L, -2, &key_length);  // a key may hold NUL bytes
        // Keys are text the conversion makes too: charged to the same budget as string values.
        budget->string_bytes -= static_cast<int64_t>(key_length);
        if (budget->string_bytes < 0) {
          lua_pop(L, 2);
          return absl::InvalidArgumentError(absl::StrCat(at.Text(), ": more than ", JsonBudget().string_bytes >> 20, " MiB of text in all"));
        }
        const std::string key(key_bytes, key_length);
        auto item = Convert(L, -1, Path{&at, std::string_view(key_bytes, key_length), 0}, depth + 1, budget);
        lua_pop(L, 1);
        if (!item.ok()) {
          lua_pop(L, 1);
          return item.status();
        }
        object[key] = std::move(*item);
      }
      return object;
    }
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(at.Text(), ": a ", luaL_typename(L, index), " cannot be JSON"));
}

int Encode(lua_State* L) {
  luaL_checkany(L, 1);
  bool ok;
  {
    JsonBudget budget;
    auto value = Convert(L, 1, Path{}, 0, &budget);
    if (!value.ok()) {
      ok = PushMessage(L, absl::StrCat("json.encode: ", value.status().message()));
    } else {
      ok = PushStringOrError(L, value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }  // the value and its text are freed before a Lua error unwinds past this frame
  return ReturnOrRaise(L, ok);
}

// Nesting depth of a JSON value, counted without recursion (the text may come from anywhere).
int JsonDepth(const nlohmann::json& root) {
  int deepest = 0;
  std::vector<std::pair<const nlohmann::json*, int>> pending = {{&root, 1}};
  while (!pending.empty()) {
    auto [value, depth] = pending.back();
    pending.pop_back();
    deepest = std::max(deepest, depth);
    if (depth > kMaxDepth) break;
    if (value->is_structured()) {
      for (const auto& item : *value) pending.emplace_back(&item, depth + 1);
    }
  }
  return deepest;
}

int Decode(lua_State* L) {
  size_t length;
  const char* text = luaL_checklstring(L, 1, &length);
  bool ok;
  {
    nlohmann::json value = nlohmann::json::parse(text, text + length, nullptr, false);
    if (value.is_discarded()) {
      ok = PushMessage(L, "json.decode: not valid JSON");
    } else if (JsonDepth(value) > kMaxDepth) {
      ok = PushMessage(L, "json.decode: nested more than 64 levels deep");
    } else {
      ok = PushJsonOrError(L, value);
    }
  }  // the parsed value is freed before a Lua error unwinds past this frame
  return ReturnOrRaise(L, ok);
}

}  // namespace

absl::StatusOr<nlohmann::json> LuaToJson(lua_State* L, int index) {
  JsonBudget budget;
  return Convert(L, index, Path{}, 0, &budget);
}

absl::StatusOr<nlohmann::json> LuaToJson(lua_State* L, int index, JsonBudget& budget) {
  return Convert(L, index, Path{}, 0, &budget);
}

void PushJson(lua_State* L, const nlohmann::json& value) {
  luaL_checkstack(L, 3, "json too deep");
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      lua_getfield(L, LUA_REGISTRYINDEX, kNullKey);
      return;
    case nlohmann::json::value_t::boolean:
      lua_pushboolean(L, value.get<bool>());
      return;
    case nlohmann::json::value_t::number_integer:
      lua_pushinteger(L, value.get<int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned: {
      // Above Lua's largest integer a number is a float, as Lua's own reader makes it.
      const uint64_t n = value.get<uint64_t>();
      if (n <= static_cast<uint64_t>(LUA_MAXINTEGER)) {
        lua_pushinteger(L, static_cast<lua_Integer>(n));
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(n));
      }
      return;
    }
    case nlohmann::json::value_t::number_float:
      lua_pushnumber(L, value.get<double>());
      return;
    case nlohmann::json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case nlohmann::json::value_t::array: {
      lua_createtable(L, static_cast<int>(value.size()), 0);
      lua_Integer i = 1;
      for (const auto& item : value) {
        PushJson(L, item);
        lua_rawseti(L, -2, i++);
      }
      return;
    }
    case nlohmann::json::value_t::object: {
      lua_createtable(L, 0, static_cast<int>(value.size()));
      for (const auto& [key, item] : value.items()) {
        // With its length: a key may hold a NUL byte ("a\u0000b"), which c_str() would cut.
        lua_pushlstring(L, key.data(), key.size());
        PushJson(L, item);
        lua_rawset(L, -3);
      }
      return;
    }
    default:
      lua_pushnil(L);
  }
}

namespace internal {

// Defined here so the null sentinel and the module share one file.
void OpenJsonModule(lua_State* L) {
  static char null_sentinel;
  lua_pushlightuserdata(L, &null_sentinel);
  lua_setfield(L, LUA_REGISTRYINDEX, kNullKey);
  lua_newtable(L);
  lua_pushcfunction(L, Encode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, Decode);
  lua_setfield(L, -2, "decode");
  lua_getfield(L, LUA_REGISTRYINDEX, kNullKey);
  lua_setfield(L, -2, "null");
  lua_setglobal(L, "json");
}

}  // namespace internal
}  // namespace scripting
