// `agentctl script run FILE.lua`: runs a script locally in the same sandbox, with the same
// modules, as tools and plans get in the daemon. Prints what the script prints; any error or
// refusal is a message on stderr and exit code 1.
#ifndef AGENTD_SDK_AGENTCTL_SCRIPT_COMMANDS_H_
#define AGENTD_SDK_AGENTCTL_SCRIPT_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"

namespace agentctl {

std::function<int()> AddScriptCommands(CLI::App* app);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_SCRIPT_COMMANDS_H_
