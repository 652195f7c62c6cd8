#include "scripting/sandbox.h"

#include "scripting/lua_boundary.h"
#include "scripting/script_file.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "bounded_patterns.h"
#include "modules.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace scripting {

using Clock = std::chrono::steady_clock;

enum class Violation { kNone, kInstructions, kMemory, kDeadline, kDepth, kInterrupted };

struct Sandbox::Guard {
  SandboxOptions options;
  uint64_t memory_used = 0;
  uint64_t instructions = 0;
  int depth = 0;
  Clock::time_point deadline;
  Violation violation = Violation::kNone;
  // For string.find/match/gmatch/gsub, which run where no hook reaches (bounded_patterns.h).
  internal::PatternLimits patterns;
};

namespace {

constexpr int kHookEvery = 1000;

Sandbox::Guard* GuardOf(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<Sandbox::Guard*>(ud);
}

// The allocator enforces the memory cap: past it, allocations fail and Lua raises "not enough
// memory" in the script, which ends it.
void* Allocate(void* ud, void* ptr, size_t old_size, size_t new_size) {
  auto* guard = static_cast<Sandbox::Guard*>(ud);
  if (ptr == nullptr) old_size = 0;
  if (new_size == 0) {
    guard->memory_used -= old_size;
    std::free(ptr);
    return nullptr;
  }
  if (new_size > old_size && guard->memory_used + (new_size - old_size) > guard->options.limits.max_memory_bytes) {
    guard->violation = Violation::kMemory;
    return nullptr;
  }
  void* result = std::realloc(ptr, new_size);
  if (result != nullptr) guard->memory_used = guard->memory_used - old_size + new_size;
  return result;
}

// Raises an error located at the running Lua function's current line (inside a hook,
// luaL_error would name the wrong frame). Nothing on the C++ heap is alive when it raises: the
// error is a longjmp, and the std::strings this built leaked once per limit reached (a run
// ending at its deadline; found by fuzz_plan_runtime's LeakSanitizer).
[[noreturn]] void RaiseAtCurrentLine(lua_State* L, const char* what) {
  char message[256];
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
    std::snprintf(message, sizeof message, "%s:%d: %s", ar.short_src, ar.currentline, what);
  } else {
    std::snprintf(message, sizeof message, "%s", what);
  }
  lua_pushstring(L, message);
  lua_error(L);
  std::abort();  // lua_error does not return
}

// The deadline and cancellation, checked on every call as well as every kHookEvery
// instructions: a loop over C functions (table.sort of a large table, string.rep) spends
// seconds between count hooks, but it calls a function each time round.
// The coarse monotonic clock (a few ns to read, a few ms resolution; same epoch as
// steady_clock on Linux) keeps the per-call check cheap.
Clock::time_point CoarseNow() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return Clock::time_point(std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec));
}

void CheckTimeAndCancel(lua_State* L, Sandbox::Guard* guard) {
  if (CoarseNow() > guard->deadline) {
    guard->violation = Violation::kDeadline;
    char what[64];
    std::snprintf(what, sizeof what, "time limit (%g s) exceeded", guard->options.limits.timeout_seconds);
    RaiseAtCurrentLine(L, what);
  }
  if (guard->options.interrupt != nullptr && guard->options.interrupt->load(std::memory_order_relaxed)) {
    guard->violation = Violation::kInterrupted;
    RaiseAtCurrentLine(L, "interrupted");
  }
}

void Hook(lua_State* L, lua_Debug* ar) {
  Sandbox::Guard* guard = GuardOf(L);
  const SandboxLimits& limits = guard->options.limits;
  switch (ar->event) {
    case LUA_HOOKCALL:
      CheckTimeAndCancel(L, guard);
      if (++guard->depth > limits.max_call_depth) {
        // An error unwinding through frames fires no return hooks, so the count can run ahead
        // of the real stack (a pcall loop of errors): count the frames before refusing.
        lua_Debug frame;
        int real = 0;
        while (real <= limits.max_call_depth && lua_getstack(L, real, &frame)) ++real;
        guard->depth = real;
        if (real <= limits.max_call_depth) return;
        guard->violation = Violation::kDepth;
        char what[64];
        std::snprintf(what, sizeof what, "call depth limit (%d) exceeded", limits.max_call_depth);
        RaiseAtCurrentLine(L, what);
      }
      return;
    case LUA_HOOKRET:
      if (guard->depth > 0) --guard->depth;
      return;
    case LUA_HOOKCOUNT:
      guard->instructions += kHookEvery;
      if (guard->instructions > limits.max_instructions) {
        guard->violation = Violation::kInstructions;
        char what[64];
        std::snprintf(what, sizeof what, "instruction budget (%llu) exhausted",
                      static_cast<unsigned long long>(limits.max_instructions));
        RaiseAtCurrentLine(L, what);
      }
      CheckTimeAndCancel(L, guard);
      return;
    default:
      return;
  }
}

int Refused(lua_State* L) {
  return luaL_error(L, "%s is not allowed in the sandbox", lua_tostring(L, lua_upvalueindex(1)));
}

// Replaces a global (or field of a table) with a function that refuses by name.
void Refuse(lua_State* L, int table, const char* field, const char* display) {
  table = lua_absindex(L, table);
  lua_pushstring(L, display);
  lua_pushcclosure(L, Refused, 1);
  lua_setfield(L, table, field);
}

// __index on the globals table: names of refused libraries get a clear error instead of nil.
int GlobalsIndex(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  if (name != nullptr) {
    for (const char* refused : {"io", "debug", "package", "dofile", "loadfile", "loadstring", "module"}) {
      if (std::strcmp(name, refused) == 0) return luaL_error(L, "%s is not allowed in the sandbox", name);
    }
  }
  return 0;
}

int OsIndex(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "os.%s is not allowed in the sandbox (only os.time, os.clock, os.date)", name ? name : "?");
}

int Print(lua_State* L) {
  Sandbox::Guard* guard = GuardOf(L);
  std::string line;
  const int n = lua_gettop(L);
  for (int i = 1; i <= n; ++i) {
    size_t length;
    const char* s = luaL_tolstring(L, i, &length);
    if (i > 1) line += '\t';
    line.append(s, length);
    lua_pop(L, 1);
  }
  if (guard->options.on_print) guard->options.on_print(line);
  return 0;
}

int CollectGarbage(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  if (std::strcmp(option, "count") != 0) {
    return luaL_error(L, "collectgarbage(\"%s\") is not allowed in the sandbox (only \"count\")", option);
  }
  lua_pushnumber(L, static_cast<lua_Number>(lua_gc(L, LUA_GCCOUNT, 0)) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
  return 1;
}

// load(chunk [, chunkname [, mode [, env]]]) for text chunks only.
int Load(lua_State* L) {
  size_t length;
  const char* code = lua_tolstring(L, 1, &length);
  if (code == nullptr) return luaL_error(L, "load: only string chunks are allowed in the sandbox");
  const char* mode = luaL_optstring(L, 3, "t");
  if (std::strchr(mode, 'b') != nullptr) return luaL_error(L, "load: binary chunks are not allowed in the sandbox");
  if (length > 0 && code[0] == LUA_SIGNATURE[0]) return luaL_error(L, "load: binary chunks are not allowed in the sandbox");
  const char* name = luaL_optstring(L, 2, code);
  const bool has_env = !lua_isnone(L, 4);
  if (luaL_loadbufferx(L, code, length, name, "t") != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (has_env) {
    lua_pushvalue(L, 4);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  return 1;
}

// For a bounded wrapper whose upvalue 1 is the library function it wraps: calls that function
// with all the wrapper's arguments and returns its one result.
int CallWrapped(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// table.move(a1, f, e, t [, a2]) in slices of at most kMoveSlice elements, each moved by Lua's
// own table.move (the upvalue): its loop runs in C, where no hook reaches, and a range of 1e15
// nils allocates nothing, so neither the memory cap nor the deadline would ever stop it. Each
// slice is a call, and every call checks the deadline and cancellation; the elements moved are
// charged to the instruction budget. Slices go in the order
// that keeps an overlapping move correct (from the end when the destination starts inside the
// source), and each slice picks its own direction the same way.
constexpr lua_Integer kMoveSlice = 1 << 16;

int BoundedTableMove(lua_State* L) {
  const lua_Integer f = luaL_checkinteger(L, 2);
  const lua_Integer e = luaL_checkinteger(L, 3);
  const lua_Integer t = luaL_checkinteger(L, 4);
  const int destination = lua_isnoneornil(L, 5) ? 1 : 5;
  if (e < f || e - f < kMoveSlice) return CallWrapped(L);  // one slice: Lua's own checks and result
  luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
  const lua_Integer n = e - f + 1;
  luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
  const bool same_table = destination == 1 || lua_rawequal(L, 1, destination);
  const bool backwards = same_table && t > f && t <= e;
  const lua_Integer slices = (n + kMoveSlice - 1) / kMoveSlice;
  Sandbox::Guard* guard = GuardOf(L);
  for (lua_Integer k = 0; k < slices; ++k) {
    const lua_Integer slice = backwards ? slices - 1 - k : k;
    const lua_Integer first = f + slice * kMoveSlice;
    const lua_Integer last = std::min(e, first + kMoveSlice - 1);
    // Each element moved is the work of a Lua instruction or two: charge it to the budget.
    guard->instructions += static_cast<uint64_t>(last - first + 1);
    if (guard->instructions > guard->options.limits.max_instructions) {
      guard->violation = Violation::kInstructions;
      return luaL_error(L, "instruction budget (%I) exhausted in table.move",
                        static_cast<lua_Integer>(guard->options.limits.max_instructions));
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushinteger(L, first);
    lua_pushinteger(L, last);
    lua_pushinteger(L, t + (first - f));
    lua_pushvalue(L, destination);
    lua_call(L, 5, 0);
  }
  lua_pushvalue(L, destination);
  return 1;
}

// string.rep(s, n [, sep]) that returns "" at once when the result is empty: Lua's own copies
// an empty string n times in C (string.rep('', 1e15) never returns); any other result is
// bounded by the memory cap, since its size is allocated first.
int BoundedStringRep(lua_State* L) {
  size_t length = 0, separator = 0;
  luaL_checklstring(L, 1, &length);
  const lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &separator);
  if (n <= 0 || (length == 0 && separator == 0)) {
    lua_pushliteral(L, "");
    return 1;
  }
  return CallWrapped(L);
}

// setmetatable without finalizers: Lua runs __gc with hooks off (during collection and in
// lua_close), so no instruction budget, deadline or cancel could stop one that never returns.
// Lua registers an object for finalization only if its metatable has __gc when set, so
// refusing it here is enough.
int SetMetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    const bool has_gc = lua_rawget(L, 2) != LUA_TNIL;
    lua_pop(L, 1);
    if (has_gc) return luaL_error(L, "__gc metamethods are not allowed in the sandbox (nothing could stop one that never returns)");
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// require("a.b") → SCRIPTS_DIR/a/b.lua, once per state.
int Require(lua_State* L) {
  Sandbox::Guard* guard = GuardOf(L);
  luaL_checkstring(L, 1);
  if (guard->options.scripts_dir.empty()) return luaL_error(L, "require is not available (no scripts directory)");
  lua_getfield(L, LUA_REGISTRYINDEX, "agentd.loaded");
  const int loaded = lua_gettop(L);
  lua_pushvalue(L, 1);
  lua_rawget(L, loaded);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  // The module's file is found, read and closed, and its chunk loaded, in a scope that ends
  // before the chunk runs or an error is raised: a Lua error skips C++ destructors, and a
  // module that failed was an open file left behind each time (lua_boundary.h).
  bool ok;
  bool load_failed = false;  // its message names the module's file and line already
  {
    const std::string name = lua_tostring(L, 1);
    bool valid_name = true;
    for (char c : name) valid_name = valid_name && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
    std::string path;
    if (valid_name) {
      std::string relative = name;
      std::replace(relative.begin(), relative.end(), '.', '/');
      namespace fs = std::filesystem;
      // The module's file under `dir`, or "" when it is missing or would lie outside it.
      auto find = [&](const std::string& dir) -> std::string {
        std::error_code ec;
        const fs::path root = fs::weakly_canonical(dir, ec);
        const fs::path file = fs::weakly_canonical(root / (relative + ".lua"), ec);
        const std::string root_text = root.string() + "/";
        if (ec || file.string().compare(0, root_text.size(), root_text) != 0 || !fs::is_regular_file(file, ec)) return "";
        return file.string();
      };
      path = find(guard->options.scripts_dir);
      if (path.empty() && !guard->options.shared_scripts_dir.empty() && name.find('.') == std::string::npos) {
        path = find(guard->options.shared_scripts_dir);
      }
    }
    std::string code;
    bool found = false;
    absl::Status unread;  // a module that is there but cannot be read says why
    if (!path.empty()) {
      absl::StatusOr<std::string> read = ReadScriptFile(path);
      if (read.ok()) {
        code = std::move(*read);
        found = true;
      } else if (read.status().code() != absl::StatusCode::kNotFound) {
        unread = read.status();
      }
    }
    if (!valid_name) {
      ok = PushMessage(L, absl::StrCat("require(\"", name, "\"): module names are letters, digits, '_' and '.'"));
    } else if (!unread.ok()) {
      ok = PushMessage(L, absl::StrCat("require(\"", name, "\"): ", unread.message()));
    } else if (!found) {
      ok = PushMessage(L, absl::StrCat("require(\"", name, "\"): module not found in the scripts directory"));
    } else {
      // Loading is protected: a syntax error or running out of memory comes back as a status.
      ok = luaL_loadbufferx(L, code.data(), code.size(), ("@" + path).c_str(), "t") == LUA_OK;
      load_failed = !ok;
    }
  }
  if (load_failed) return lua_error(L);
  if (!ok) return ReturnOrRaise(L, false);
  lua_call(L, 0, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, loaded);
  return 1;
}

absl::Status ConfigureGlobals(lua_State* L) {
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
  luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);  // not global: copied below
  lua_settop(L, 0);

  lua_pushglobaltable(L);
  const int globals = lua_gettop(L);
  for (const char* removed : {"dofile", "loadfile"}) {
    lua_pushnil(L);
    lua_setfield(L, globals, removed);
  }
  lua_pushcfunction(L, Load);
  lua_setfield(L, globals, "load");
  lua_pushcfunction(L, Print);
  lua_setfield(L, globals, "print");
  lua_pushcfunction(L, CollectGarbage);
  lua_setfield(L, globals, "collectgarbage");
  lua_pushcfunction(L, Require);
  lua_setfield(L, globals, "require");
  lua_getfield(L, globals, "setmetatable");
  lua_pushcclosure(L, SetMetatable, 1);
  lua_setfield(L, globals, "setmetatable");
  lua_getfield(L, globals, LUA_TABLIBNAME);
  lua_getfield(L, -1, "move");
  lua_pushcclosure(L, BoundedTableMove, 1);
  lua_setfield(L, -2, "move");
  lua_pop(L, 1);
  lua_getfield(L, globals, LUA_STRLIBNAME);
  Refuse(L, -1, "dump", "string.dump");
  lua_getfield(L, -1, "rep");
  lua_pushcclosure(L, BoundedStringRep, 1);
  lua_setfield(L, -2, "rep");
  internal::InstallBoundedPatterns(L, lua_absindex(L, -1), &GuardOf(L)->patterns);
  lua_pop(L, 1);

  // os: only time, clock and date; anything else refuses by name.
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, LUA_OSLIBNAME);
  lua_newtable(L);
  for (const char* kept : {"time", "clock", "date", "difftime"}) {
    lua_getfield(L, -2, kept);
    lua_setfield(L, -2, kept);
  }
  lua_newtable(L);
  lua_pushcfunction(L, OsIndex);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, globals, "os");
  lua_pop(L, 2);

  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "agentd.loaded");

  lua_newtable(L);
  lua_pushcfunction(L, GlobalsIndex);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, globals);
  lua_settop(L, 0);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sandbox>> Sandbox::Create(const SandboxOptions& options) {
  std::unique_ptr<Sandbox> sandbox(new Sandbox());
  sandbox->guard_ = std::make_unique<Guard>();
  sandbox->guard_->options = options;
  // Pattern matching stops where Lua code would: the deadline and cancellation.
  Guard* guard = sandbox->guard_.get();
  guard->patterns.should_stop = [guard]() -> const char* {
    if (guard->options.interrupt != nullptr && guard->options.interrupt->load()) {
      guard->violation = Violation::kInterrupted;
      return "interrupted";
    }
    if (Clock::now() > guard->deadline) {
      guard->violation = Violation::kDeadline;
      return "time limit exceeded (in pattern matching)";
    }
    return nullptr;
  };
  // Creating the state itself must fit comfortably; the cap applies from here on.
  sandbox->state_ = lua_newstate(Allocate, sandbox->guard_.get());
  if (sandbox->state_ == nullptr) return absl::ResourceExhaustedError("cannot create a Lua state within the memory cap");
  absl::Status status = ConfigureGlobals(sandbox->state_);
  if (!status.ok()) return status;
  internal::OpenStandardModules(sandbox->state_, sandbox->guard_->options);
  lua_sethook(sandbox->state_, Hook, LUA_MASKCOUNT | LUA_MASKCALL | LUA_MASKRET, kHookEvery);
  return sandbox;
}

Sandbox::~Sandbox() {
  if (state_ != nullptr) lua_close(state_);
}

uint64_t Sandbox::instructions_used() const { return guard_->instructions; }
uint64_t Sandbox::memory_used() const { return guard_->memory_used; }

absl::Status Sandbox::Run(int load_status, const std::string& chunk_name) {
  lua_State* L = state_;
  if (load_status != LUA_OK) {
    std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "cannot load the script";
    lua_settop(L, 0);
    return absl::InvalidArgumentError(message);
  }
  return Call(0, 0, chunk_name);
}

absl::Status Sandbox::Call(int nargs, int nresults, const std::string& chunk_name) {
  lua_State* L = state_;
  guard_->violation = Violation::kNone;
  guard_->depth = 0;
  guard_->deadline = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(guard_->options.limits.timeout_seconds * 1e6));
  const int status = lua_pcall(L, nargs, nresults, 0);
  if (status == LUA_OK) return absl::OkStatus();
  std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error object is not a string";
  lua_settop(L, 0);
  switch (guard_->violation) {
    case Violation::kInstructions:
      return absl::ResourceExhaustedError(message);
    case Violation::kMemory:
      // Lua reports memory errors without a position (no message handler runs for them).
      return absl::ResourceExhaustedError(absl::StrCat(chunk_name, ": memory limit of ", guard_->options.limits.max_memory_bytes,
                                                       " bytes reached (", message, ")"));
    case Violation::kDeadline:
      return absl::DeadlineExceededError(message);
    case Violation::kInterrupted:
      return absl::CancelledError(message);
    default:
      // A module call the interrupt stopped (http.get) raised its own error.
      if (guard_->options.interrupt != nullptr && guard_->options.interrupt->load()) return absl::CancelledError(message);
      return absl::InvalidArgumentError(message);
  }
}

absl::Status Sandbox::RunString(const std::string& code, const std::string& chunk_name) {
  return Run(luaL_loadbufferx(state_, code.data(), code.size(), ("=" + chunk_name).c_str(), "t"), chunk_name);
}

absl::Status Sandbox::RunFile(const std::string& path) {
  absl::StatusOr<std::string> read = ReadScriptFile(path);
  if (!read.ok()) return absl::Status(read.status().code(), absl::StrCat(path, ": ", read.status().message()));
  return RunSource(*read, path);
}

absl::Status Sandbox::RunSource(const std::string& code, const std::string& path) {
  if (!code.empty() && code[0] == LUA_SIGNATURE[0]) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": binary chunks are not allowed in the sandbox"));
  }
  return Run(luaL_loadbufferx(state_, code.data(), code.size(), ("@" + path).c_str(), "t"), path);
}

}  // namespace scripting
