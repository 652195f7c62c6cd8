// `agentctl engine ...`: offline commands that load a model or tokenizer in-process (no daemon),
// for checking the engine against references.
#ifndef AGENTD_SDK_AGENTCTL_ENGINE_COMMANDS_H_
#define AGENTD_SDK_AGENTCTL_ENGINE_COMMANDS_H_

#include <functional>

#include "CLI/CLI.hpp"

namespace agentctl {

// Adds the `engine` subcommand tree to `app`; the returned function runs whichever engine
// command was parsed and returns the process exit code (-1 when none was).
std::function<int()> AddEngineCommands(CLI::App* app);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_ENGINE_COMMANDS_H_
