// string.find, string.match, string.gmatch and string.gsub for the sandbox: the semantics of Lua
// 5.4's patterns, implemented here with a step count, because Lua's own matcher runs in C where
// no hook reaches it — a pattern that backtracks exponentially
// (("a"):rep(40):find(("a?"):rep(40) .. ("a"):rep(40) .. "b")) would run for minutes past every
// instruction budget, deadline and cancel. Here every step counts: past the step limit in one
// call the call fails with a clear error, and every 64k steps `should_stop` may end it
// (deadline, cancellation). Results grow in Lua buffers, so the sandbox's memory cap applies to them.
#ifndef AGENTD_SCRIPTING_BOUNDED_PATTERNS_H_
#define AGENTD_SCRIPTING_BOUNDED_PATTERNS_H_

#include <cstdint>
#include <functional>

struct lua_State;

namespace scripting::internal {

struct PatternLimits {
  // Steps (pattern items tried) one call may take, or 64 per subject byte when that is more.
  // Default 10 million (about half a second).
  uint64_t max_steps = 10'000'000;
  // Asked every 65536 steps; a non-null message ends the call with that error.
  std::function<const char*()> should_stop;
};

// Replaces find, match, gmatch and gsub in the string table at `string_table` (an absolute
// index). `limits` must outlive the state.
void InstallBoundedPatterns(lua_State* L, int string_table, const PatternLimits* limits);

}  // namespace scripting::internal

#endif  // AGENTD_SCRIPTING_BOUNDED_PATTERNS_H_
