// `agentctl run PLAN ...` (start a run and follow it with live progress, or --detach) and
// `agentctl runs list|show|cancel|resume|events`: the daemon's AgentService.
#ifndef AGENTD_SDK_AGENTCTL_RUN_COMMANDS_H_
#define AGENTD_SDK_AGENTCTL_RUN_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "sdk/client.h"

namespace agentctl {

std::function<int(sdk::Client&)> AddRunCommands(CLI::App* app);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_RUN_COMMANDS_H_
