#include "runs/plan_runtime.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include "absl/strings/str_cat.h"
#include "scripting/lua_json.h"

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
  if type(def.name) ~= "string" or def.name == "" then error("plan: name must be a non-empty string", 2) end
  if type(def.run) ~= "function" then error("plan: run must be a function(ctx, inputs)", 2) end
  if def.description ~= nil and type(def.description) ~= "string" then error("plan: description must be a string", 2) end
  definition = def
end

local current = nil   -- name of the step running now
local started = {}    -- steps started in this attempt
local ctx = {run_id = run_id}

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
  local outer = current
  current = name
  local ok, result = pcall(fn)
  current = outer
  if not ok then
    host.fail(name, tostring(result))
    error(result, 0)
  end
  if result == nil then result = json_null end
  local text = json_encode(result)
  host.finish(name, text)
  -- What a resumed run would read back, so both paths see the same value.
  return decoded(text)
end

-- One step per item, named prefix/1, prefix/2, ...; returns their outputs in order.
function ctx.map(prefix, items, fn)
  if type(prefix) ~= "string" or prefix == "" then error("ctx.map: the prefix must be a non-empty string", 2) end
  if type(items) ~= "table" then error("ctx.map: items must be a list", 2) end
  local results = {}
  for i, item in ipairs(items) do
    results[i] = ctx.step(prefix .. "/" .. i, function() return fn(item, i) end)
  end
  return results
end

local function in_step(what)
  if current == nil then
    error(what .. " must be called inside ctx.step (only steps are checkpointed)", 3)
  end
  return current
end

ctx.llm = {
  chat = function(request) return host.model(in_step("ctx.llm.chat"), "chat", request) end,
  generate = function(request) return host.model(in_step("ctx.llm.generate"), "generate", request) end,
  count_tokens = function(text) return host.count_tokens(tostring(text)) end,
  context_length = function() return host.context_length() end,
}
ctx.memory = {
  search = function(request) return host.retrieve(in_step("ctx.memory.search"), request) end,
}
ctx.tools = {
  call = function(name, args) return host.tool(in_step("ctx.tools.call"), name, args or {}) end,
  list = function() return host.tools() end,
}
function ctx.warn(message) host.warn(current or "", tostring(message)) end
function ctx.current_step() return current end

return ctx, function() return definition end
)lua";

struct RuntimeState {
  PlanHost* host = nullptr;
  // The first status that must end the plan whatever it does with the Lua error (cancellation,
  // deadline, budgets).
  absl::Status stop;
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
    absl::StatusOr<int> pushed = state->stop.ok() ? body(state) : absl::StatusOr<int>(state->stop);
    if (pushed.ok()) {
      results = *pushed;
    } else {
      if (Stops(pushed.status()) && state->stop.ok()) state->stop = pushed.status();
      std::string message(pushed.status().message());
      lua_pushlstring(L, message.data(), message.size());
      results = -1;
    }
  }
  if (results < 0) return lua_error(L);
  return results;
}

std::string CheckString(lua_State* L, int index) {
  size_t size = 0;
  const char* s = lua_tolstring(L, index, &size);
  return s == nullptr ? std::string() : std::string(s, size);
}

absl::StatusOr<Json> TableArgument(lua_State* L, int index, const char* what) {
  if (!lua_istable(L, index)) return absl::InvalidArgumentError(absl::StrCat(what, ": expects a table"));
  return scripting::LuaToJson(L, index);
}

int HostFinished(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    std::optional<std::string> output = s->host->FinishedStepOutput(CheckString(L, 1));
    if (!output) {
      lua_pushnil(L);
    } else {
      lua_pushlstring(L, output->data(), output->size());
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

int HostModel(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    absl::StatusOr<Json> request = TableArgument(L, 3, "ctx.llm");
    if (!request.ok()) return request.status();
    absl::StatusOr<Json> response = s->host->Model(CheckString(L, 1), CheckString(L, 2), *request);
    if (!response.ok()) return response.status();
    scripting::PushJson(L, *response);
    return 1;
  });
}

int HostRetrieve(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    absl::StatusOr<Json> request = TableArgument(L, 2, "ctx.memory.search");
    if (!request.ok()) return request.status();
    absl::StatusOr<Json> response = s->host->Retrieve(CheckString(L, 1), *request);
    if (!response.ok()) return response.status();
    scripting::PushJson(L, *response);
    return 1;
  });
}

int HostTool(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    if (lua_type(L, 2) != LUA_TSTRING) return absl::InvalidArgumentError("ctx.tools.call: the tool name must be a string");
    absl::StatusOr<Json> arguments = TableArgument(L, 3, "ctx.tools.call");
    if (!arguments.ok()) return arguments.status();
    if (arguments->is_array() && arguments->empty()) *arguments = Json::object();
    absl::StatusOr<Json> result = s->host->Tool(CheckString(L, 1), CheckString(L, 2), *arguments);
    if (!result.ok()) return result.status();
    scripting::PushJson(L, *result);
    return 1;
  });
}

int HostTools(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    scripting::PushJson(L, s->host->ListTools());
    return 1;
  });
}

int HostCountTokens(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    lua_pushinteger(L, s->host->CountTokens(CheckString(L, 1)));
    return 1;
  });
}

int HostContextLength(lua_State* L) {
  return Guarded(L, [&](RuntimeState* s) -> absl::StatusOr<int> {
    lua_pushinteger(L, s->host->ContextLength());
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
                                {"fail", HostFail},         {"model", HostModel}, {"retrieve", HostRetrieve},
                                {"tool", HostTool},         {"tools", HostTools}, {"warn", HostWarn},
                                {"count_tokens", HostCountTokens}, {"context_length", HostContextLength},
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
  scripting::PushJson(L, options.inputs.is_null() ? Json::object() : options.inputs);
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

absl::StatusOr<PlanInfo> InspectPlan(const std::string& source, const std::string& chunk_name) {
  scripting::SandboxOptions sandbox_options;
  sandbox_options.limits.timeout_seconds = 5;
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
  return info;
}

}  // namespace agentd::runs
