#include "bounded_patterns.h"

#include <algorithm>
#include <cctype>
#include <cstring>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

// Lua errors unwind these functions with longjmp, so nothing here holds an object with a
// destructor while it may raise one: plain pointers and counters only.
namespace scripting::internal {
namespace {

constexpr int kMaxCaptures = 32;
constexpr int kMaxDepth = 200;  // recursion of the matcher, as Lua's MAXCCALLS
constexpr ptrdiff_t kUnfinished = -1;
constexpr ptrdiff_t kPosition = -2;
constexpr char kEscape = '%';
constexpr const char* kSpecials = "^$*+?.([%-";

struct MatchState {
  const char* src_init;
  const char* src_end;
  const char* p_end;
  lua_State* L;
  const PatternLimits* limits;
  uint64_t steps;
  uint64_t max_steps;  // this call's: the limit, or more for a long subject
  int depth;
  int level;
  struct {
    const char* init;
    ptrdiff_t len;
  } capture[kMaxCaptures];
};

void Step(MatchState* ms) {
  ++ms->steps;
  if ((ms->steps & 0xffff) == 0 && ms->limits->should_stop) {
    if (const char* why = ms->limits->should_stop()) luaL_error(ms->L, "%s", why);
  }
  if (ms->steps > ms->max_steps) {
    luaL_error(ms->L, "pattern matching took more than %d million steps (a pattern that backtracks too much)",
               static_cast<int>(ms->max_steps / 1000000));
  }
}

int CheckCapture(MatchState* ms, int l) {
  l -= '1';
  if (l < 0 || l >= ms->level || ms->capture[l].len == kUnfinished) {
    return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
  }
  return l;
}

int CaptureToClose(MatchState* ms) {
  int level = ms->level;
  for (level--; level >= 0; level--) {
    if (ms->capture[level].len == kUnfinished) return level;
  }
  return luaL_error(ms->L, "invalid pattern capture");
}

// The end of the single-character class starting at p.
const char* ClassEnd(MatchState* ms, const char* p) {
  switch (*p++) {
    case kEscape:
      if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
      return p + 1;
    case '[':
      if (*p == '^') p++;
      do {  // the first ']' of a set is a member
        if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
        if (*(p++) == kEscape && p < ms->p_end) p++;
      } while (*p != ']');
      return p + 1;
    default:
      return p;
  }
}

bool MatchClass(int c, int cl) {
  bool res;
  switch (std::tolower(cl)) {
    case 'a': res = std::isalpha(c); break;
    case 'c': res = std::iscntrl(c); break;
    case 'd': res = std::isdigit(c); break;
    case 'g': res = std::isgraph(c); break;
    case 'l': res = std::islower(c); break;
    case 'p': res = std::ispunct(c); break;
    case 's': res = std::isspace(c); break;
    case 'u': res = std::isupper(c); break;
    case 'w': res = std::isalnum(c); break;
    case 'x': res = std::isxdigit(c); break;
    default: return cl == c;
  }
  return std::isupper(cl) ? !res : res;
}

// p points at '[', ec at its closing ']'.
bool MatchBracketClass(int c, const char* p, const char* ec) {
  bool sig = true;
  if (*(p + 1) == '^') {
    sig = false;
    p++;
  }
  while (++p < ec) {
    if (*p == kEscape) {
      p++;
      if (MatchClass(c, static_cast<unsigned char>(*p))) return sig;
    } else if (*(p + 1) == '-' && (p + 2 < ec)) {
      p += 2;
      if (static_cast<unsigned char>(*(p - 2)) <= c && c <= static_cast<unsigned char>(*p)) return sig;
    } else if (static_cast<unsigned char>(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

bool SingleMatch(MatchState* ms, const char* s, const char* p, const char* ep) {
  if (s >= ms->src_end) return false;
  const int c = static_cast<unsigned char>(*s);
  switch (*p) {
    case '.': return true;
    case kEscape: return MatchClass(c, static_cast<unsigned char>(*(p + 1)));
    case '[': return MatchBracketClass(c, p, ep - 1);
    default: return static_cast<unsigned char>(*p) == c;
  }
}

const char* Match(MatchState* ms, const char* s, const char* p);

const char* MatchBalance(MatchState* ms, const char* s, const char* p) {
  if (p >= ms->p_end - 1) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
  if (*s != *p) return nullptr;
  const int b = *p, e = *(p + 1);
  int cont = 1;
  while (++s < ms->src_end) {
    Step(ms);
    if (*s == e) {
      if (--cont == 0) return s + 1;
    } else if (*s == b) {
      cont++;
    }
  }
  return nullptr;
}

const char* MaxExpand(MatchState* ms, const char* s, const char* p, const char* ep) {
  ptrdiff_t i = 0;
  while (SingleMatch(ms, s + i, p, ep)) {
    Step(ms);
    i++;
  }
  while (i >= 0) {  // try the longest run first, then shorter ones
    Step(ms);
    const char* res = Match(ms, s + i, ep + 1);
    if (res != nullptr) return res;
    i--;
  }
  return nullptr;
}

const char* MinExpand(MatchState* ms, const char* s, const char* p, const char* ep) {
  for (;;) {
    Step(ms);
    const char* res = Match(ms, s, ep + 1);
    if (res != nullptr) return res;
    if (SingleMatch(ms, s, p, ep)) {
      s++;
    } else {
      return nullptr;
    }
  }
}

const char* StartCapture(MatchState* ms, const char* s, const char* p, ptrdiff_t what) {
  if (ms->level >= kMaxCaptures) luaL_error(ms->L, "too many captures");
  ms->capture[ms->level].init = s;
  ms->capture[ms->level].len = what;
  ms->level++;
  const char* res = Match(ms, s, p);
  if (res == nullptr) ms->level--;  // undo
  return res;
}

const char* EndCapture(MatchState* ms, const char* s, const char* p) {
  const int l = CaptureToClose(ms);
  ms->capture[l].len = s - ms->capture[l].init;
  const char* res = Match(ms, s, p);
  if (res == nullptr) ms->capture[l].len = kUnfinished;  // undo
  return res;
}

const char* MatchCapture(MatchState* ms, const char* s, int l) {
  l = CheckCapture(ms, l);
  const size_t len = static_cast<size_t>(ms->capture[l].len);
  if (static_cast<size_t>(ms->src_end - s) >= len && std::memcmp(ms->capture[l].init, s, len) == 0) return s + len;
  return nullptr;
}

const char* Match(MatchState* ms, const char* s, const char* p) {
  if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
  Step(ms);
  while (p != ms->p_end) {
    switch (*p) {
      case '(':
        if (*(p + 1) == ')') {
          s = StartCapture(ms, s, p + 2, kPosition);
        } else {
          s = StartCapture(ms, s, p + 1, kUnfinished);
        }
        goto done;
      case ')':
        s = EndCapture(ms, s, p + 1);
        goto done;
      case '$':
        if (p + 1 != ms->p_end) goto dflt;  // '$' elsewhere is a literal
        s = (s == ms->src_end) ? s : nullptr;
        goto done;
      case kEscape:
        switch (*(p + 1)) {
          case 'b':
            s = MatchBalance(ms, s, p + 2);
            if (s != nullptr) {
              p += 4;
              continue;
            }
            goto done;
          case 'f': {
            p += 2;
            if (*p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
            const char* ep = ClassEnd(ms, p);
            const int previous = (s == ms->src_init) ? '\0' : static_cast<unsigned char>(*(s - 1));
            const int current = (s < ms->src_end) ? static_cast<unsigned char>(*s) : '\0';
            if (!MatchBracketClass(previous, p, ep - 1) && MatchBracketClass(current, p, ep - 1)) {
              p = ep;
              continue;
            }
            s = nullptr;
            goto done;
          }
          case '0': case '1': case '2': case '3': case '4':
          case '5': case '6': case '7': case '8': case '9':
            s = MatchCapture(ms, s, static_cast<unsigned char>(*(p + 1)));
            if (s != nullptr) {
              p += 2;
              continue;
            }
            goto done;
          default:
            goto dflt;
        }
      default:
      dflt: {
        const char* ep = ClassEnd(ms, p);
        if (!SingleMatch(ms, s, p, ep)) {
          if (*ep == '*' || *ep == '?' || *ep == '-') {  // may match zero times
            p = ep + 1;
            continue;
          }
          s = nullptr;
        } else {
          switch (*ep) {
            case '?': {
              const char* res = Match(ms, s + 1, ep + 1);
              if (res != nullptr) {
                s = res;
              } else {
                p = ep + 1;
                continue;
              }
              break;
            }
            case '+': s = MaxExpand(ms, s + 1, p, ep); break;
            case '*': s = MaxExpand(ms, s, p, ep); break;
            case '-': s = MinExpand(ms, s, p, ep); break;
            default:
              s++;
              p = ep;
              continue;
          }
        }
        goto done;
      }
    }
  }
done:
  ms->depth++;
  return s;
}

// Pushes capture i (or the whole match when there are none and i == 0); its length, or -1 for
// a position capture.
void PushCapture(MatchState* ms, int i, const char* s, const char* e) {
  if (i >= ms->level) {
    if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(ms->L, s, static_cast<size_t>(e - s));
    return;
  }
  const ptrdiff_t len = ms->capture[i].len;
  if (len == kUnfinished) luaL_error(ms->L, "unfinished capture");
  if (len == kPosition) {
    lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
  } else {
    lua_pushlstring(ms->L, ms->capture[i].init, static_cast<size_t>(len));
  }
}

int PushCaptures(MatchState* ms, const char* s, const char* e) {
  const int n = (ms->level == 0 && s != nullptr) ? 1 : ms->level;
  luaL_checkstack(ms->L, n, "too many captures");
  for (int i = 0; i < n; i++) PushCapture(ms, i, s, e);
  return n;
}

const PatternLimits* LimitsOf(lua_State* L) {
  return static_cast<const PatternLimits*>(lua_touserdata(L, lua_upvalueindex(1)));
}

void Prepare(MatchState* ms, lua_State* L, const char* s, size_t ls, const char* p, size_t lp) {
  ms->L = L;
  ms->limits = LimitsOf(L);
  ms->steps = 0;
  // Linear work on a long subject (gsub('%s+', ' ') over megabytes) is never cut short; what
  // backtracks exponentially outgrows any such allowance at once.
  ms->max_steps = std::max<uint64_t>(ms->limits->max_steps, 64 * (static_cast<uint64_t>(ls) + 1));
  ms->depth = kMaxDepth;
  ms->src_init = s;
  ms->src_end = s + ls;
  ms->p_end = p + lp;
  ms->level = 0;
}

void Reprepare(MatchState* ms) {
  ms->level = 0;
  ms->depth = kMaxDepth;
}

// Lua's relative string position: negative counts from the end; clipped to [1, len + 1].
size_t StartPosition(lua_Integer pos, size_t len) {
  if (pos > 0) return static_cast<size_t>(pos);
  if (pos == 0) return 1;
  if (pos < -static_cast<lua_Integer>(len)) return 1;
  return len + static_cast<size_t>(pos) + 1;
}

bool NoSpecials(const char* p, size_t l) {
  size_t upto = 0;
  do {
    if (std::strpbrk(p + upto, kSpecials)) return false;
    upto += std::strlen(p + upto) + 1;  // an embedded '\0' may hide specials after it
  } while (upto <= l);
  return true;
}

// glibc's memmem is the two-way algorithm, linear in both lengths; Lua's own plain find compares
// the pattern at every occurrence of its first byte, which is quadratic ("aaa…a" searched for
// "aa…ab" takes hours at the memory cap's sizes).
const char* FindPlain(const char* s1, size_t l1, const char* s2, size_t l2) {
  if (l2 == 0) return s1;
  if (l2 > l1) return nullptr;
  return static_cast<const char*>(memmem(s1, l1, s2, l2));
}

int FindAux(lua_State* L, bool find) {
  size_t ls, lp;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  const size_t init = StartPosition(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || NoSpecials(p, lp))) {
    const char* found = FindPlain(s + init, ls - init, p, lp);
    if (found != nullptr) {
      lua_pushinteger(L, (found - s) + 1);
      lua_pushinteger(L, static_cast<lua_Integer>((found - s) + lp));
      return 2;
    }
  } else {
    MatchState ms;
    const char* s1 = s + init;
    const bool anchor = (*p == '^');
    if (anchor) {
      p++;
      lp--;
    }
    Prepare(&ms, L, s, ls, p, lp);
    do {
      Reprepare(&ms);
      const char* e = Match(&ms, s1, p);
      if (e != nullptr) {
        if (find) {
          lua_pushinteger(L, (s1 - s) + 1);
          lua_pushinteger(L, e - s);
          return PushCaptures(&ms, nullptr, nullptr) + 2;
        }
        return PushCaptures(&ms, s1, e);
      }
    } while (s1++ < ms.src_end && !anchor);
  }
  luaL_pushfail(L);
  return 1;
}

int Find(lua_State* L) { return FindAux(L, true); }
int MatchFn(lua_State* L) { return FindAux(L, false); }

// gmatch's iteration state, in a userdata that keeps the subject and pattern alive as upvalues.
struct GmatchState {
  const char* src;
  const char* p;
  const char* lastmatch;
  MatchState ms;
};

int GmatchStep(lua_State* L) {
  auto* gm = static_cast<GmatchState*>(lua_touserdata(L, lua_upvalueindex(3)));
  gm->ms.L = L;
  gm->ms.steps = 0;
  for (const char* src = gm->src; src <= gm->ms.src_end; src++) {
    Reprepare(&gm->ms);
    const char* e = Match(&gm->ms, src, gm->p);
    if (e != nullptr && e != gm->lastmatch) {
      gm->src = gm->lastmatch = e;
      return PushCaptures(&gm->ms, src, e);
    }
  }
  return 0;
}

int Gmatch(lua_State* L) {
  size_t ls, lp;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  size_t init = StartPosition(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) init = ls + 1;  // starts past the end: no matches
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));  // the limits (Step reads upvalue 1)
  lua_pushvalue(L, 1);                    // the subject, kept alive
  auto* gm = static_cast<GmatchState*>(lua_newuserdatauv(L, sizeof(GmatchState), 0));
  Prepare(&gm->ms, L, s, ls, p, lp);
  gm->src = s + init;
  gm->p = p;
  gm->lastmatch = nullptr;
  lua_pushvalue(L, 2);  // the pattern, kept alive
  // Upvalues: 1 limits, 2 subject, 3 state, 4 pattern.
  lua_pushcclosure(L, GmatchStep, 4);
  return 1;
}

void AddString(MatchState* ms, luaL_Buffer* b, const char* s, const char* e) {
  size_t l;
  lua_State* L = ms->L;
  const char* news = lua_tolstring(L, 3, &l);
  const char* p;
  while ((p = static_cast<const char*>(std::memchr(news, kEscape, l))) != nullptr) {
    luaL_addlstring(b, news, static_cast<size_t>(p - news));
    p++;
    if (*p == kEscape) {
      luaL_addchar(b, *p);
    } else if (*p == '0') {
      luaL_addlstring(b, s, static_cast<size_t>(e - s));
    } else if (std::isdigit(static_cast<unsigned char>(*p))) {
      PushCapture(ms, *p - '1', s, e);
      luaL_tolstring(L, -1, nullptr);
      lua_remove(L, -2);
      luaL_addvalue(b);
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", kEscape);
    }
    l -= static_cast<size_t>(p + 1 - news);
    news = p + 1;
  }
  luaL_addlstring(b, news, l);
}

// Adds the replacement of the match [s, e); false when the original text stays.
bool AddValue(MatchState* ms, luaL_Buffer* b, const char* s, const char* e, int tr) {
  lua_State* L = ms->L;
  switch (tr) {
    case LUA_TFUNCTION: {
      lua_pushvalue(L, 3);
      const int n = PushCaptures(ms, s, e);
      lua_call(L, n, 1);
      break;
    }
    case LUA_TTABLE:
      PushCapture(ms, 0, s, e);
      lua_gettable(L, 3);
      break;
    default:
      AddString(ms, b, s, e);
      return true;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s, static_cast<size_t>(e - s));
    return false;
  }
  if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return true;
}

int Gsub(lua_State* L) {
  size_t srcl, lp;
  const char* src = luaL_checklstring(L, 1, &srcl);
  const char* p = luaL_checklstring(L, 2, &lp);
  const char* lastmatch = nullptr;
  const int tr = lua_type(L, 3);
  const lua_Integer max_s = luaL_optinteger(L, 4, static_cast<lua_Integer>(srcl) + 1);
  const bool anchor = (*p == '^');
  lua_Integer n = 0;
  bool changed = false;
  luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
                   "string/function/table");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (anchor) {
    p++;
    lp--;
  }
  MatchState ms;
  Prepare(&ms, L, src, srcl, p, lp);
  while (n < max_s) {
    Reprepare(&ms);
    const char* e = Match(&ms, src, p);
    if (e != nullptr && e != lastmatch) {
      n++;
      changed = AddValue(&ms, &b, src, e, tr) | changed;
      src = lastmatch = e;
    } else if (src < ms.src_end) {
      Step(&ms);
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, src, static_cast<size_t>(ms.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

}  // namespace

void InstallBoundedPatterns(lua_State* L, int string_table, const PatternLimits* limits) {
  const luaL_Reg functions[] = {{"find", Find}, {"match", MatchFn}, {"gmatch", Gmatch}, {"gsub", Gsub}, {nullptr, nullptr}};
  for (const luaL_Reg* f = functions; f->name != nullptr; ++f) {
    lua_pushlightuserdata(L, const_cast<PatternLimits*>(limits));
    lua_pushcclosure(L, f->func, 1);
    lua_setfield(L, string_table, f->name);
  }
}

}  // namespace scripting::internal
