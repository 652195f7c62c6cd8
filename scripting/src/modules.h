// The modules every sandbox gets: json (encode/decode), log, time, http.
#ifndef AGENTD_SCRIPTING_MODULES_H_
#define AGENTD_SCRIPTING_MODULES_H_

#include "scripting/sandbox.h"

namespace scripting::internal {

void OpenStandardModules(lua_State* L, const SandboxOptions& options);

}  // namespace scripting::internal

#endif  // AGENTD_SCRIPTING_MODULES_H_
