// libFuzzer target: JSON text through the sandbox's json module, as plans and tools use it:
// json.decode must answer every input with a value or an error (never crash or hang), and a
// decoded value must come back from json.encode → json.decode → json.encode unchanged (the
// first encoding may differ from the input: Lua has one empty table for [] and {}).
#include <cstdint>
#include <cstdio>
#include <string>

#include "scripting/sandbox.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The input as a Lua string literal, byte for byte.
  std::string literal = "\"";
  for (size_t i = 0; i < size; ++i) {
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\%03u", static_cast<unsigned>(data[i]));
    literal += escaped;
  }
  literal += "\"";
  const std::string code = "local ok, value = pcall(json.decode, " + literal + ")\n"
                           "if ok then\n"
                           "  local once = json.encode(value)\n"
                           "  local twice = json.encode(json.decode(once))\n"
                           "  if once ~= twice then error('UNSTABLE: ' .. once .. ' then ' .. twice) end\n"
                           "end\n";
  scripting::SandboxOptions options;
  options.limits.timeout_seconds = 5;
  auto sandbox = scripting::Sandbox::Create(options);
  if (!sandbox.ok()) return 0;
  const absl::Status status = (*sandbox)->RunString(code, "fuzz.lua");
  if (!status.ok() && status.message().find("UNSTABLE") != absl::string_view::npos) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
    __builtin_trap();
  }
  return 0;
}
