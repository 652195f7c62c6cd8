// `agentctl tools list|call|reload`: the daemon's ToolService.
#ifndef AGENTD_SDK_AGENTCTL_TOOL_COMMANDS_H_
#define AGENTD_SDK_AGENTCTL_TOOL_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "sdk/client.h"

namespace agentctl {

std::function<int(sdk::Client&)> AddToolCommands(CLI::App* app);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_TOOL_COMMANDS_H_
