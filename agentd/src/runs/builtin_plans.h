// The plans that ship inside the daemon (agentd/plans/*.lua, embedded at build time): name →
// Lua source. `report` is the outline → search → draft → revise research report.
#ifndef AGENTD_RUNS_BUILTIN_PLANS_H_
#define AGENTD_RUNS_BUILTIN_PLANS_H_

#include <map>
#include <string>

namespace agentd::runs {

const std::map<std::string, std::string>& BuiltinPlans();

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_BUILTIN_PLANS_H_
