// `agentctl completion bash`: a bash completion script generated from the command tree itself
// (every command, subcommand and option CLI11 knows), so it cannot drift from the commands.
//
//   source <(agentctl completion bash)       # or save it to /etc/bash_completion.d/agentctl
#ifndef AGENTD_SDK_AGENTCTL_COMPLETION_H_
#define AGENTD_SDK_AGENTCTL_COMPLETION_H_

#include <functional>
#include <string>

#include "CLI/CLI.hpp"

namespace agentctl {

// Adds the `completion` command; the returned function prints the script when it was chosen
// (returns 0) and returns -1 otherwise.
std::function<int()> AddCompletionCommand(CLI::App* app);

// The script for `app`'s tree.
std::string BashCompletion(const CLI::App& app);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_COMPLETION_H_
