// `agentctl memory ...`: collections, ingest of text/Markdown files, search and stats against
// the daemon's MemoryService.
#ifndef AGENTD_SDK_AGENTCTL_MEMORY_COMMANDS_H_
#define AGENTD_SDK_AGENTCTL_MEMORY_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"
#include "sdk/client.h"

namespace agentctl {

// Adds the `memory` subcommand tree; the returned function runs the parsed command and returns
// the exit code (-1 when none was parsed).
std::function<int(sdk::Client&)> AddMemoryCommands(CLI::App* app);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_MEMORY_COMMANDS_H_
