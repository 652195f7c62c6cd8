// The sandbox's own string.find/match/gmatch/gsub against Lua 5.4's (a plain state with the
// standard library) on the same inputs — the same results, errors included — and the case Lua's
// cannot stop: exponential backtracking ends with an error in bounded time.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scripting/sandbox.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace scripting {
namespace {

using ::testing::HasSubstr;

constexpr char kShow[] =
    "local function show(...) local t = table.pack(...) local out = {} "
    "for i = 1, t.n do out[i] = type(t[i]) .. ':' .. tostring(t[i]) end return table.concat(out, '|') end\n";

// What Lua 5.4's own library answers: "ok <values>" or "error".
std::string Reference(const std::string& expression) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  const std::string code = std::string(kShow) + "local ok, r = pcall(function() return show(" + expression +
                           ") end) return ok and ('ok ' .. r) or 'error'";
  std::string out = luaL_dostring(L, code.c_str()) == LUA_OK ? lua_tostring(L, -1) : "load error";
  lua_close(L);
  return out;
}

std::string Sandboxed(const std::string& expression) {
  std::vector<std::string> printed;
  SandboxOptions options;
  options.on_print = [&](const std::string& line) { printed.push_back(line); };
  auto sandbox = Sandbox::Create(options);
  const std::string code = std::string(kShow) + "local ok, r = pcall(function() return show(" + expression +
                           ") end) print(ok and ('ok ' .. r) or 'error')";
  absl::Status status = (*sandbox)->RunString(code, "p.lua");
  if (!status.ok()) return "run error: " + std::string(status.message());
  return printed.empty() ? "" : printed[0];
}

TEST(BoundedPatternsTest, AnswerAsLuaDoes) {
  const std::vector<std::string> cases = {
      // find: plain, specials, init (negative, past the end), anchors, captures
      "('hello world'):find('o w')", "('hello world'):find('o', 6)", "('hello'):find('l', -2)",
      "('hello'):find('l', 10)", "('hello'):find('', 6)", "('hello'):find('', 7)", "('a.b'):find('.', 1, true)",
      "('a+b'):find('+', 1, true)", "('hello'):find('^h(el)(l)')", "('hello'):find('^e')", "('hello'):find('o$')",
      "('he$lo'):find('$l')", "('key = value'):find('(%w+)%s*=%s*(%w+)')", "('abc'):find('()b()')",
      // match: classes and sets, quantifiers, frontier, balance, back references
      "('2023 年 554 亿元'):match('%d+')", "('x = 72.6%'):match('([%d%.]+)%%')", "('ABCdef'):match('%u+')",
      "('  trim  '):match('^%s*(.-)%s*$')", "('[[x]]'):match('%b[]')", "('THE (quick) fox'):match('%f[%a]%a+')",
      "('abcabc'):match('(a)(b)c%1%2')", "('a-b-c'):match('[%a-]+')", "('x]y'):match('[]]')",
      "('a^b'):match('[%^]')", "('aaa'):match('a-b')", "('aaab'):match('a-b')", "('aaab'):match('a*')",
      "('aaab'):match('a?a?b')", "('hello'):match('(h)(e)(l)(l)(o)')", "('hello'):match('%z')",
      "('café'):match('[^%w]+')", "('a,b,,c'):match('([^,]*),([^,]*)')", "('abc'):match('.-b')",
      // gmatch: words, empty matches, init
      "(function() local t = {} for w in ('one two  three'):gmatch('%a+') do t[#t + 1] = w end return table.concat(t, ',') end)()",
      "(function() local t = {} for k, v in ('a=1, b=2'):gmatch('(%w+)=(%w+)') do t[#t + 1] = k .. v end return table.concat(t, ',') end)()",
      "(function() local n = 0 for _ in ('abc'):gmatch('') do n = n + 1 end return n end)()",
      "(function() local t = {} for w in ('one two three'):gmatch('%a+', 5) do t[#t + 1] = w end return table.concat(t, ',') end)()",
      // gsub: strings with %0..%9 and %%, tables, functions, false, counts, anchors
      "('hello world'):gsub('o', '0')", "('hello world'):gsub('(o)', '[%1]', 1)", "('abc'):gsub('', '-')",
      "('hello'):gsub('l+', '%0%0')", "('100%'):gsub('%%', '%%%%')", "('$name is $age'):gsub('%$(%w+)', {name = 'Ann', age = 7})",
      "('a b c'):gsub('%w', function(c) return c:upper() end)", "('a b c'):gsub('%w', function(c) return c == 'b' and false end)",
      "('abc'):gsub('^a', 'A')", "('aaa'):gsub('^a', 'A')", "('x'):gsub('x', '%2')", "('x'):gsub('x', '%z')",
      "('x'):gsub('x', {x = {}})", "('x'):gsub('(', '')", "('x'):gsub('[a', '')", "('x'):gsub('%', '')",
      "('x'):gsub('%b', '')", "('x'):gsub('%f', '')", "('x'):gsub('x)', '')", "('abc'):gsub('%w', '%1')",
      "('x'):gsub('x', 5)", "string.gsub('abc', 'b', 'B', 0)",
  };
  for (const std::string& expression : cases) {
    EXPECT_EQ(Sandboxed(expression), Reference(expression)) << expression;
  }
}

TEST(BoundedPatternsTest, ExponentialBacktrackingEndsInBoundedTime) {
  // Lua's own matcher runs this for minutes with no hook able to stop it.
  std::vector<std::string> printed;
  SandboxOptions options;
  auto sandbox = Sandbox::Create(options);
  // The bound counts the matcher's steps, not time: the message says it fired (without it the
  // match runs past the test's own timeout).
  absl::Status status = (*sandbox)->RunString(
      "return (('a'):rep(40)):find(('a?'):rep(40) .. ('a'):rep(40) .. 'b')", "evil.lua");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("pattern matching took more than"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("evil.lua:1:"));
  // gsub is bounded the same way, and a cancellation reaches a long match.
  status = (*sandbox)->RunString("return (('a'):rep(30)):gsub(('a?'):rep(30) .. ('a'):rep(30) .. 'b', '')", "evil.lua");
  EXPECT_THAT(std::string(status.message()), HasSubstr("pattern matching took more than"));
}

}  // namespace
}  // namespace scripting
