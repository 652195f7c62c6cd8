// `agentctl generate`, `agentctl chat` and `agentctl model info`: the daemon's ModelService from
// the command line, streaming tokens to stdout as they arrive.
#ifndef AGENTD_SDK_AGENTCTL_MODEL_COMMANDS_H_
#define AGENTD_SDK_AGENTCTL_MODEL_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "sdk/client.h"

namespace agentctl {

// Adds the subcommands; the returned function runs the parsed one against the client and
// returns the exit code (-1 when none of these was parsed).
std::function<int(sdk::Client&)> AddModelCommands(CLI::App* app);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_MODEL_COMMANDS_H_
