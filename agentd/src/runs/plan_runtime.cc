#include "runs/plan_runtime.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "scripting/lua_boundary.h"
#include "scripting/lua_json.h"
#include "tools/json_schema.h"

namespace agentd::runs {
namespace {

using Json = nlohmann::json;

// The ctx object plans see, written in Lua over the host functions. It captures the json
// functions before the plan runs, so a plan cannot swap them under the checkpointing.
constexpr char kPrelude[] = R"lua(
local host, run_id = ...
local json_encode, json_decode, json_null = json.encode, json.decode, json.null
local pcall, error, type, tostring, ipairs = pcall, error, type, tostring, ipairs

local definition = nil
function plan(def)
  if definition ~= nil then error("plan{...} may be called only once per file", 2) end
  if type(def) ~= "table" then error("plan{...} expects a table", 2) end
  -- Each field read once, here (under the protected call), into a table of our own: the C side
  -- reads only that, so a metatable on the plan's table can run no code outside a pcall.
  local name, run, description, inputs = def.name, def.run, def.description, def.inputs
  if type(name) ~= "string" or name == "" then error("plan: name must be a non-empty string", 2) end
  if type(run) ~= "function" then error("plan: run must be a function(ctx, inputs)", 2) end
  if description ~= nil and type(description) ~= "string" then error("plan: description must be a string", 2) end
  if inputs ~= nil and type(inputs) ~= "table" then error("plan: inputs must be a JSON Schema (a table)", 2) end
  local ok, inputs_json = true, nil
  if inputs ~= nil then ok, inputs_json = pcall(json_encode, inputs) end
  if not ok then error("plan: inputs: " .. tostring(inputs_json), 2) end
  definition = {name = name, run = run, description = description, inputs_json = inputs_json}
end

-- The step each coroutine is in (the main thread and every ctx.map task have their own).
local current_of = setmetatable({}, {__mode = "k"})
local tasks = setmetatable({}, {__mode = "k"})   -- coroutines ctx.map schedules
local started = {}    -- steps started in this attempt
local ctx = {run_id = run_id}
local running = coroutine.running

local function current() return current_of[running()] end

local function decoded(text)
  local v = json_decode(text)
  if v == json_null then return nil end
  return v
end

function ctx.step(name, fn)
  if type(name) ~= "string" or name == "" then error("ctx.step: the name must be a non-empty string", 2) end
  if type(fn) ~= "function" then error("ctx.step: the second argument must be a function", 2) end
  local output = host.finished(name)
  if output ~= nil then return decoded(output) end
  if started[name] then error("ctx.step: step '" .. name .. "' already ran in this run; step names must be unique", 2) end
  started[name] = true
  host.start(name)
  local co = running()
  local outer = current_of[co]
  current_of[co] = name
  local ok, result = pcall(fn)
  current_of[co] = outer
  if not ok then
    host.fail(name, tostring(result))
    error(result, 0)
  end
  if result == nil then result = json_null end
  -- Encoded under a protected call of our own: raised here, past the step's pcall, the error
  -- would leave the step RUNNING in the stored record of a run that goes on.
  local encoded, text = pcall(json_encode, result)
  if not encoded then
    local message = "ctx.step: step '" .. name .. "' returned a value that is not JSON (" .. tostring(text) .. ")"
    host.fail(name, message)
    error(message, 2)
  end
  host.finish(name, text)
  -- What a resumed run would read back, so both paths see the same value.
  return decoded(text)
end

-- A model, memory or tool call: inside a ctx.map task it is submitted to the host and the
-- task yields until it completes, so the other tasks go on meanwhile; elsewhere it blocks.
local function call(kind, step, a, b)
  if tasks[running()] then
    local ticket = host.submit(kind, step, a, b)
    local ok, result = coroutine.yield(ticket)
    if not ok then error(result, 0) end
    return result
  end
  return host.call(kind, step, a, b)
end

-- One step per item, named prefix/1, prefix/2, ...; returns their outputs in order. The steps
-- run concurrently (up to options.concurrency, default 4; options.parallel = false runs them
-- one after another): while one waits for the model, another retrieves. If a step fails, the
-- others still running finish (and are checkpointed), then the error is raised.
function ctx.map(prefix, items, fn, options)
  if type(prefix) ~= "string" or prefix == "" then error("ctx.map: the prefix must be a non-empty string", 2) end
  if type(items) ~= "table" then error("ctx.map: items must be a list", 2) end
  if type(fn) ~= "function" then error("ctx.map: the third argument must be a function", 2) end
  options = options or {}
  local limit = math.tointeger(options.concurrency or 4)
  if limit == nil or limit < 1 or limit > 16 then error("ctx.map: options.concurrency must be an integer from 1 to 16", 2) end
  local results = {}
  if options.parallel == false or #items <= 1 or tasks[running()] then
    for i, item in ipairs(items) do
      results[i] = ctx.step(prefix .. "/" .. i, function() return fn(item, i) end)
    end
    return results
  end
  local ready, waiting = {}, {}
  local next_index, active, first_error = 1, 0, nil
  local function spawn()
    local i = next_index
    next_index = next_index + 1
    local co = coroutine.create(function()
      return ctx.step(prefix .. "/" .. i, function() return fn(items[i], i) end)
    end)
    tasks[co] = true
    active = active + 1
    ready[#ready + 1] = {co = co, index = i, args = {n = 0}}
  end
  while next_index <= #items and active < limit do spawn() end
  while active > 0 do
    while #ready > 0 do
      local task = table.remove(ready, 1)
      local ok, value = coroutine.resume(task.co, table.unpack(task.args, 1, task.args.n))
      if not ok or coroutine.status(task.co) == "dead" then
        active = active - 1
        tasks[task.co] = nil
        if ok then results[task.index] = value elseif first_error == nil then first_error = value end
        if first_error == nil and next_index <= #items then spawn() end
      else
        waiting[value] = task
      end
    end
    if active > 0 then
      local ticket, ok, result = host.wait()
      local task = waiting[ticket]
      waiting[ticket] = nil
      task.args = {ok, result, n = 2}
      ready[#ready + 1] = task
    end
  end
  if first_error ~= nil then error(first_error, 0) end
  return results
end

local function in_step(what)
  local step = current()
  if step == nil then
    error(what .. " must be called inside ctx.step (only steps are checkpointed)", 3)
  end
  return step
end

local function table_argument(what, value)
  if type(value) ~= "table" then error(what .. ": expects a table", 3) end
  return value
end

ctx.llm = {
  chat = function(request)
    return call("model", in_step("ctx.llm.chat"), "chat", table_argument("ctx.llm.chat", request))
  end,
  generate = function(request)
    return call("model", in_step("ctx.llm.generate"), "generate", table_argument("ctx.llm.generate", request))
  end,
  count_tokens = function(text) return host.count_tokens(tostring(text)) end,
  context_length = function() return host.context_length() end,
  info = function() return host.model_info() end,
}
-- A model-driven tool loop inside the current step: the model sees the named tools, each call
-- it makes (in its own tool-call format, arguments constrained to the tool's schema) is run and
-- its result fed back, for at most max_rounds rounds (default 4); then it must answer.
-- request: {messages, tools = {names}, tool_choice = "auto"|"required" (first round),
-- max_rounds, max_tokens, temperature, seed}. Returns {text, calls = {{name, arguments, result
-- or error}}, rounds}.
function ctx.agent(request)
  in_step("ctx.agent")
  table_argument("ctx.agent", request)
  if type(request.messages) ~= "table" then error("ctx.agent: messages must be a list", 2) end
  if type(request.tools) ~= "table" or #request.tools == 0 then error("ctx.agent: tools must list tool names", 2) end
  local max_rounds = math.tointeger(request.max_rounds or 4)
  if max_rounds == nil or max_rounds < 1 or max_rounds > 16 then error("ctx.agent: max_rounds must be 1..16", 2) end
  local messages = {}
  for i, m in ipairs(request.messages) do messages[i] = m end
  local offered = {}
  for _, name in ipairs(request.tools) do offered[name] = true end
  local calls = {}
  for round = 1, max_rounds + 1 do
    local chat = {messages = messages, max_tokens = request.max_tokens, temperature = request.temperature,
                  seed = request.seed}
    if round <= max_rounds then
      chat.tools = request.tools
      if round == 1 then chat.tool_choice = request.tool_choice end
    end
    local reply = ctx.llm.chat(chat)
    -- Only tools this agent was given, and none in the last round (offered none): a call is
    -- never run because a reply names it.
    local wanted = {}
    if round <= max_rounds then
      for _, tool_call in ipairs(reply.tool_calls or {}) do
        if offered[tool_call.name] then wanted[#wanted + 1] = tool_call end
      end
    end
    if #wanted == 0 then
      return {text = reply.text, calls = calls, rounds = round}
    end
    messages[#messages + 1] = {role = "assistant", content = reply.text, tool_calls = wanted}
    for _, tool_call in ipairs(wanted) do
      local ok, result = pcall(ctx.tools.call, tool_call.name, tool_call.arguments)
      local record = {name = tool_call.name, arguments = tool_call.arguments}
      if ok then record.result = result else record.error = tostring(result) end
      calls[#calls + 1] = record
      messages[#messages + 1] = {role = "tool", tool_call_id = tool_call.id,
                                 content = json_encode(ok and result or {error = tostring(result)})}
    end
  end
end

ctx.memory = {
  search = function(request)
    return call("retrieve", in_step("ctx.memory.search"), table_argument("ctx.memory.search", request))
  end,
  sentences = function(request)
    return call("sentences", in_step("ctx.memory.sentences"), table_argument("ctx.memory.sentences", request))
  end,
}
ctx.tools = {
  call = function(name, args)
    if type(name) ~= "string" then error("ctx.tools.call: the tool name must be a string", 2) end
    return call("tool", in_step("ctx.tools.call"), name, args or {})
  end,
  list = function() return host.tools() end,
}
function ctx.warn(message) host.warn(current() or "", tostring(message)) end
function ctx.current_step() return current() end

return ctx, function() return definition end
)lua";

// The most calls a run's ctx.map tasks may have submitted and not yet collected: ctx.map's own
// largest concurrency.
constexpr size_t kMaxCallsInFlight = 16;

// A host call started by a ctx.map task, running on its own thread.
struct AsyncCall {
  std::thread thread;
  absl::StatusOr<Json> result;
  // What its arguments took of RuntimeState::in_flight, given back when it is collected.
  scripting::JsonBudget charged{0, 0};
};

struct RuntimeState {
  PlanHost* host = nullptr;
  // The first status that must end the plan whatever it does with the Lua error (cancellation,
  // deadline, budgets).
  absl::Status stop;

  std::mutex mutex;
  std::condition_variable done_cv;
  std::map<lua_Integer, std::unique_ptr<AsyncCall>> calls;  // guarded by mutex
  std::deque<lua_Integer> done;                               // finished tickets, guarded by mutex
  lua_Integer next_ticket = 0;
  // The C++ values the submitted calls' arguments may hold between them: one conversion's
  // bound for all of them (each had a bound of its own, and sixteen 1 MiB strings each
  // referenced a hundred times held 1.6 GB outside the sandbox's memory limit). Used only on
  // the plan's own thread (host.submit, host.wait).
  scripting::JsonBudget in_flight;

  // Calls still running when the plan ends (it failed meanwhile) are waited for: they reference
  // the host. They stop early once the run is cancelled or past its deadline.
  ~RuntimeState() {
    std::map<lua_Integer, std::unique_ptr<AsyncCall>> remaining;
    {
      std::lock_guard<std::mutex> lock(mutex);
      remaining.swap(calls);
    }
    for (auto& [ticket, call] : remaining) {
      if (call->thread.joinable()) call->thread.join();
    }
  }
};

RuntimeState* StateOf(lua_State* L) { return static_cast<RuntimeState*>(lua_touserdata(L, lua_upvalueindex(1))); }

bool Stops(const absl::Status& status) {
  return status.code() == absl::StatusCode::kCancelled || status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kResourceExhausted;
}

// Lua errors longjmp past C++ frames, so each host function does its C++ work in a scope that
// has ended before lua_error runs, leaving either its results or the message on the stack.
// Returns the number of results, or -1 after pushing an error message.
template <typename Body>
int Guarded(lua_State* L, Body&& body) {
  int results = 0;
  {
    RuntimeState* state = StateOf(L);
    absl::StatusOr<int> pushed = absl::InternalError("plan runtime: no result");
    try {
      pushed = state->stop.ok() ? body(state) : absl::StatusOr<int>(state->stop);
    } catch (const std::exception& e) {
      // A value from the plan that the host could not take (e.g. invalid UTF-8 where JSON text
      // is needed) fails this call, not the daemon.
      pushed = absl::InvalidArgumentError(absl::StrCat("plan runtime: ", e.what()));
    }
    if (pushed.ok()) {
      results = *pushed;
    } else {
      if (Stops(pushed.status()) && state->stop.ok()) state->stop = pushed.status();
      // Out of the plan's memory, the memory error stands in for the message; either is raised
      // below, after this scope (lua_boundary.h).
      const absl::string_view message = pushed.status().message();
      (void)scripting::PushMessage(L, std::string_view(message.data(), message.size()));
      results = -1;
    }
  }
  if (results < 0) return lua_error(L);
  return results;
}

// Pushes a host result in a protected call: a Lua memory error raised inside Guarded's scope
// would skip its C++ destructors (lua_boundary.h).
absl::Status PushResult(lua_State* L, const Json& value) {
  if (scripting::PushJsonOrError(L, value)) return absl::OkStatus();
  lua_pop(L, 1);
  return absl::ResourceExhaustedError("plan runtime: a result does not fit in the plan's memory");
}

std::string CheckString(lua_State* L, int index) {
  size_t size = 0;
  const char* s = lua_tolstring(L, index, &size);
  return s == nullptr ? std::string() : std::string(s, size);
}

int HostFinished(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    std::optional<std::string> output = s->host->FinishedStepOutput(CheckString(L, 1));
    if (!output) {
      lua_pushnil(L);
    } else if (!scripting::PushStringOrError(L, *output)) {
      // Pushed unprotected, a memory error here skipped this scope's destructors: a plan that
      // filled its memory and called ctx.step under pcall leaked the checkpoint's copy each time.
      lua_pop(L, 1);
      return absl::ResourceExhaustedError("plan runtime: a finished step's output does not fit in the plan's memory");
    }
    return 1;
  });
}

int HostStart(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    absl::Status status = s->host->StepStarted(CheckString(L, 1));
    if (!status.ok()) return status;
    return 0;
  });
}

int HostFinish(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    absl::Status status = s->host->StepFinished(CheckString(L, 1), CheckString(L, 2));
    if (!status.ok()) return status;
    return 0;
  });
}

int HostFail(lua_State* L) {
  // Recording a failure must not itself fail while the plan unwinds, so this one is unguarded
  // by the stop status.
  {
    RuntimeState* state = StateOf(L);
    state->host->StepFailed(CheckString(L, 1), CheckString(L, 2));
  }
  return 0;
}

// A Lua argument as JSON: strings stay strings, tables convert, nil is null; what it builds is
// charged to `budget`.
absl::StatusOr<Json> ArgumentJson(lua_State* L, int index, scripting::JsonBudget& budget) {
  switch (lua_type(L, index)) {
    case LUA_TNONE:
    case LUA_TNIL:
      return Json();
    case LUA_TSTRING: {
      std::string text = CheckString(L, index);
      budget.string_bytes -= static_cast<int64_t>(text.size());
      if (budget.string_bytes < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("value: more than ", scripting::JsonBudget().string_bytes >> 20, " MiB of text in all"));
      }
      return Json(std::move(text));
    }
    default:
      return scripting::LuaToJson(L, index, budget);
  }
}

// Carries out one model ("model": a = "chat"|"generate", b = request), retrieval ("retrieve":
// a = request) or tool call ("tool": a = name, b = arguments).
absl::StatusOr<Json> DispatchUnguarded(PlanHost* host, const std::string& kind, const std::string& step, const Json& a,
                                       const Json& b);

// Whatever a host call throws on values the plan passed ends that call with an error, never
// the daemon (an exception must not unwind through Lua's C frames either).
absl::StatusOr<Json> Dispatch(PlanHost* host, const std::string& kind, const std::string& step, const Json& a,
                              const Json& b) {
  try {
    return DispatchUnguarded(host, kind, step, a, b);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(step.empty() ? kind : step, ": the call's values could not be used (",
                                                   e.what(), ")"));
  }
}

absl::StatusOr<Json> DispatchUnguarded(PlanHost* host, const std::string& kind, const std::string& step, const Json& a,
                                       const Json& b) {
  if (kind == "model") return host->Model(step, a.is_string() ? a.get<std::string>() : "", b);
  if (kind == "retrieve") return host->Retrieve(step, a);
  if (kind == "sentences") return host->Sentences(step, a);
  if (kind == "tool") {
    const Json arguments = b.is_null() || (b.is_array() && b.empty()) ? Json::object() : b;
    return host->Tool(step, a.is_string() ? a.get<std::string>() : "", arguments);
  }
  return absl::InvalidArgumentError(absl::StrCat("plan runtime: unknown call kind ", kind));
}

struct CallArguments {
  std::string kind, step;
  Json a, b;
};

absl::StatusOr<CallArguments> ReadCallArguments(lua_State* L, scripting::JsonBudget& budget) {
  CallArguments call{CheckString(L, 1), CheckString(L, 2), Json(), Json()};
  absl::StatusOr<Json> a = ArgumentJson(L, 3, budget);
  if (!a.ok()) return a.status();
  absl::StatusOr<Json> b = ArgumentJson(L, 4, budget);
  if (!b.ok()) return b.status();
  call.a = std::move(*a);
  call.b = std::move(*b);
  return call;
}

// host.call(kind, step, a, b): runs the call and returns its result.
int HostCall(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    scripting::JsonBudget budget;  // freed when the call returns
    absl::StatusOr<CallArguments> call = ReadCallArguments(L, budget);
    if (!call.ok()) return call.status();
    absl::StatusOr<Json> result = Dispatch(s->host, call->kind, call->step, call->a, call->b);
    if (!result.ok()) return result.status();
    if (absl::Status pushed = PushResult(L, *result); !pushed.ok()) return pushed;
    return 1;
  });
}

// host.submit(kind, step, a, b): starts the call on a thread of its own and returns a ticket.
int HostSubmit(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    const scripting::JsonBudget before = s->in_flight;
    absl::StatusOr<CallArguments> call = ReadCallArguments(L, s->in_flight);
    const scripting::JsonBudget charged{before.values - s->in_flight.values,
                                        before.string_bytes - s->in_flight.string_bytes};
    if (!call.ok()) {
      const bool over_budget = s->in_flight.values < 0 || s->in_flight.string_bytes < 0;
      s->in_flight = before;
      if (!over_budget) return call.status();
      return absl::InvalidArgumentError(absl::StrCat(CheckString(L, 2), ": ", call.status().message(),
                                                     ", counting the calls still in flight"));
    }
    std::lock_guard<std::mutex> lock(s->mutex);
    // ctx.map keeps at most 16 tasks going, each waiting on one call, so no plan that uses it as
    // written has more in flight. A plan can resume a task's coroutine itself (it can get it from
    // coroutine.running()) and hand it a made-up result: each resume then submits another call
    // that nothing collects, and each took a thread of its own, without limit.
    if (s->calls.size() >= kMaxCallsInFlight) {
      s->in_flight = before;
      return absl::ResourceExhaustedError(absl::StrCat("plan runtime: ", call->step, ": more than ", kMaxCallsInFlight,
                                                       " model, memory or tool calls in flight (ctx.map runs at most 16 tasks)"));
    }
    const lua_Integer ticket = ++s->next_ticket;
    auto async = std::make_unique<AsyncCall>();
    async->charged = charged;
    AsyncCall* slot = async.get();
    s->calls[ticket] = std::move(async);
    try {
      slot->thread = std::thread([s, slot, ticket, arguments = std::move(*call)] {
        absl::StatusOr<Json> result = Dispatch(s->host, arguments.kind, arguments.step, arguments.a, arguments.b);
        std::lock_guard<std::mutex> done_lock(s->mutex);
        slot->result = std::move(result);
        s->done.push_back(ticket);
        s->done_cv.notify_all();
      });
    } catch (const std::system_error& e) {
      // A call without a thread would never finish, and host.wait would wait for it for ever.
      s->calls.erase(ticket);
      s->in_flight = before;
      return absl::ResourceExhaustedError(absl::StrCat("plan runtime: ", call->step, ": no thread for the call (", e.what(), ")"));
    }
    lua_pushinteger(L, ticket);
    return 1;
  });
}

// host.wait(): blocks until a submitted call finishes; returns its ticket, ok and the result
// (or the error message).
int HostWait(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    std::unique_ptr<AsyncCall> finished;
    lua_Integer ticket = 0;
    {
      std::unique_lock<std::mutex> lock(s->mutex);
      if (s->calls.empty()) return absl::FailedPreconditionError("plan runtime: no call to wait for");
      s->done_cv.wait(lock, [&] { return !s->done.empty(); });
      ticket = s->done.front();
      s->done.pop_front();
      finished = std::move(s->calls[ticket]);
      s->calls.erase(ticket);
    }
    finished->thread.join();
    s->in_flight.values += finished->charged.values;
    s->in_flight.string_bytes += finished->charged.string_bytes;
    lua_pushinteger(L, ticket);
    if (finished->result.ok()) {
      lua_pushboolean(L, 1);
      if (absl::Status pushed = PushResult(L, *finished->result); !pushed.ok()) {
        lua_pop(L, 2);
        return pushed;
      }
    } else {
      const absl::Status& status = finished->result.status();
      if (Stops(status) && s->stop.ok()) s->stop = status;
      lua_pushboolean(L, 0);
      // Out of the plan's memory, the memory error stands in for the message (never raised here).
      const absl::string_view message = status.message();
      (void)scripting::PushStringOrError(L, std::string_view(message.data(), message.size()));
    }
    return 3;
  });
}

int HostTools(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    if (absl::Status pushed = PushResult(L, s->host->ListTools()); !pushed.ok()) return pushed;
    return 1;
  });
}

// Tokenizing runs outside the plan's memory limit and between its instruction checks: 8 MiB
// takes about a second of one core (a 40 MB text took 6 s and 120 MB), and is far more than any
// context holds, so a plan sizing its prompts never needs more.
constexpr size_t kMaxCountTokensBytes = 8u << 20;

int HostCountTokens(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    const std::string text = CheckString(L, 1);
    if (text.size() > kMaxCountTokensBytes) {
      return absl::InvalidArgumentError(absl::StrCat("ctx.llm.count_tokens: text is ", text.size(),
                                                     " bytes; at most ", kMaxCountTokensBytes >> 20, " MiB"));
    }
    lua_pushinteger(L, s->host->CountTokens(text));
    return 1;
  });
}

int HostContextLength(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    lua_pushinteger(L, s->host->ContextLength());
    return 1;
  });
}

int HostModelInfo(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    if (absl::Status pushed = PushResult(L, s->host->ModelInfo()); !pushed.ok()) return pushed;
    return 1;
  });
}

int HostWarn(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    s->host->Warn(CheckString(L, 1), CheckString(L, 2));
    return 0;
  });
}

// Loads the prelude and the plan file into the sandbox; leaves ctx and the definition getter
// on the stack.
absl::Status LoadPlan(scripting::Sandbox& sandbox, RuntimeState* state, const std::string& source,
                      const std::string& chunk_name, const std::string& run_id) {
  lua_State* L = sandbox.lua();
  if (luaL_loadbufferx(L, kPrelude, sizeof(kPrelude) - 1, "=plan runtime", "t") != LUA_OK) {
    std::string message = lua_tostring(L, -1);
    lua_pop(L, 1);
    return absl::InternalError(absl::StrCat("plan runtime: ", message));
  }
  lua_newtable(L);
  const luaL_Reg functions[] = {{"finished", HostFinished}, {"start", HostStart}, {"finish", HostFinish},
                                {"fail", HostFail},         {"call", HostCall},   {"submit", HostSubmit},
                                {"wait", HostWait},         {"tools", HostTools}, {"warn", HostWarn},
                                {"count_tokens", HostCountTokens}, {"context_length", HostContextLength},
                                {"model_info", HostModelInfo},
                                {nullptr, nullptr}};
  lua_pushlightuserdata(L, state);
  luaL_setfuncs(L, functions, 1);
  lua_pushstring(L, run_id.c_str());
  absl::Status status = sandbox.Call(2, 2, "plan runtime");
  if (!status.ok()) return status;
  status = sandbox.RunString(source, chunk_name);
  if (!status.ok()) return status;
  return absl::OkStatus();
}

// Pushes the plan's definition table (from the getter at `getter_index`).
absl::Status PushDefinition(scripting::Sandbox& sandbox, int getter_index, const std::string& chunk_name) {
  lua_State* L = sandbox.lua();
  lua_pushvalue(L, getter_index);
  absl::Status status = sandbox.Call(0, 1, chunk_name);
  if (!status.ok()) return status;
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return absl::InvalidArgumentError(absl::StrCat(chunk_name, ": does not define a plan (call plan{name = ..., run = function(ctx, inputs) ... end})"));
  }
  return absl::OkStatus();
}

scripting::SandboxOptions SandboxOptionsFor(const PlanRunOptions& options) {
  scripting::SandboxOptions sandbox;
  sandbox.limits = options.limits;
  sandbox.scripts_dir = options.scripts_dir;
  sandbox.shared_scripts_dir = options.shared_scripts_dir;
  sandbox.interrupt = options.interrupt;
  PlanHost* host = options.host;
  if (host != nullptr) {
    sandbox.on_print = [host](const std::string& line) { host->Log("info", line); };
    sandbox.on_log = [host](const std::string& level, const std::string& message) { host->Log(level, message); };
  }
  return sandbox;
}

}  // namespace

absl::StatusOr<nlohmann::json> RunPlan(const PlanRunOptions& options) {
  if (options.host == nullptr) return absl::InvalidArgumentError("RunPlan: host is required");
  auto sandbox = scripting::Sandbox::Create(SandboxOptionsFor(options));
  if (!sandbox.ok()) return sandbox.status();
  RuntimeState state;
  state.host = options.host;
  lua_State* L = (*sandbox)->lua();
  absl::Status status = LoadPlan(**sandbox, &state, options.source, options.chunk_name, options.run_id);
  if (!status.ok()) return status;
  const int ctx_index = lua_gettop(L) - 1;
  const int getter_index = lua_gettop(L);
  status = PushDefinition(**sandbox, getter_index, options.chunk_name);
  if (!status.ok()) return status;
  lua_getfield(L, -1, "run");
  lua_pushvalue(L, ctx_index);
  status = PushResult(L, options.inputs.is_null() ? Json::object() : options.inputs);
  if (!status.ok()) return status;
  status = (*sandbox)->Call(2, 1, options.chunk_name);
  if (!state.stop.ok()) return state.stop;
  if (!status.ok()) return status;
  if (lua_isnil(L, -1)) return Json::object();
  absl::StatusOr<Json> artifact = scripting::LuaToJson(L, -1);
  if (!artifact.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(options.chunk_name, ": run returned ", artifact.status().message()));
  }
  return *artifact;
}

absl::StatusOr<PlanInfo> InspectPlan(const std::string& source, const std::string& chunk_name,
                                     const std::string& scripts_dir, const std::string& shared_scripts_dir) {
  // Defining a plan runs only its file's top level: bounded well below a run's limits, since a
  // StartRun call waits for it.
  scripting::SandboxOptions sandbox_options;
  sandbox_options.limits.timeout_seconds = 2;
  sandbox_options.limits.max_instructions = 200'000'000;
  sandbox_options.limits.max_memory_bytes = 64ull << 20;
  sandbox_options.scripts_dir = scripts_dir;
  sandbox_options.shared_scripts_dir = shared_scripts_dir;
  auto sandbox = scripting::Sandbox::Create(sandbox_options);
  if (!sandbox.ok()) return sandbox.status();
  RuntimeState state;  // no host: loading a plan makes no host calls
  lua_State* L = (*sandbox)->lua();
  absl::Status status = LoadPlan(**sandbox, &state, source, chunk_name, "");
  if (!status.ok()) return status;
  status = PushDefinition(**sandbox, lua_gettop(L), chunk_name);
  if (!status.ok()) return status;
  PlanInfo info;
  lua_getfield(L, -1, "name");
  info.name = CheckString(L, -1);
  lua_getfield(L, -2, "description");
  info.description = CheckString(L, -1);
  lua_getfield(L, -3, "inputs_json");
  if (lua_type(L, -1) == LUA_TSTRING) {
    Json schema = Json::parse(CheckString(L, -1), nullptr, false);
    absl::Status checked = schema.is_discarded() ? absl::InvalidArgumentError("not JSON") : tools::CheckSchema(schema);
    if (!checked.ok()) return absl::InvalidArgumentError(absl::StrCat(chunk_name, ": plan: inputs: ", checked.message()));
    info.inputs_schema = std::move(schema);
  }
  return info;
}

}  // namespace agentd::runs
