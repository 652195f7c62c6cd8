// agentctl: the command-line client of agentd. Every subcommand talks to the daemon over gRPC
// through the C++ SDK, except `version`, which is local.
//
// Exit codes: 0 success, 1 the daemon answered with an error or is not serving, 2 bad usage.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"
#include "engine_commands.h"
#include "memory_commands.h"
#include "model_commands.h"
#include "run_commands.h"
#include "script_commands.h"
#include "tool_commands.h"
#include "sdk/client.h"

namespace {

constexpr int kExitError = 1;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "agentctl: %s\n", std::string(status.message()).c_str());
  return kExitError;
}

std::string DefaultAddress() {
  const char* env = std::getenv("AGENTD_ADDR");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:7700";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"agentctl: command-line client for agentd"};
  app.require_subcommand(1);
  sdk::ClientOptions client_options;
  client_options.address = DefaultAddress();
  app.add_option("--addr", client_options.address,
                 "daemon address HOST:PORT (default $AGENTD_ADDR or 127.0.0.1:7700)");
  app.add_option("--timeout", client_options.timeout_seconds, "seconds per call (default 10)")
      ->check(CLI::PositiveNumber);
  if (const char* token = std::getenv("AGENTD_TOKEN")) client_options.token = token;
  app.add_option("--token", client_options.token, "API token (default $AGENTD_TOKEN)");
  app.add_option("--tls-ca", client_options.tls_ca_file,
                 "connect with TLS trusting this PEM root certificate file (\"system\": the system's roots)");

  CLI::App* version = app.add_subcommand("version", "print agentctl's version");
  CLI::App* health = app.add_subcommand("health", "ask the daemon whether it is serving");
  std::string health_service;
  health->add_option("--service", health_service,
                     "a service to check, e.g. agentd.v1.ModelService (default: the daemon)");

  std::function<int()> run_engine_command = agentctl::AddEngineCommands(&app);
  std::function<int()> run_script_command = agentctl::AddScriptCommands(&app);
  std::function<int(sdk::Client&)> run_model_command = agentctl::AddModelCommands(&app);
  std::function<int(sdk::Client&)> run_memory_command = agentctl::AddMemoryCommands(&app);
  std::function<int(sdk::Client&)> run_tool_command = agentctl::AddToolCommands(&app);
  std::function<int(sdk::Client&)> run_run_command = agentctl::AddRunCommands(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (version->parsed()) {
    std::printf("agentctl %s (API agentd.v1)\n", AGENTD_VERSION);
    return 0;
  }

  if (int code = run_engine_command(); code >= 0) return code;
  if (int code = run_script_command(); code >= 0) return code;

  absl::StatusOr<std::unique_ptr<sdk::Client>> client = sdk::Client::Create(client_options);
  if (!client.ok()) return Fail(client.status());

  if (int code = run_model_command(**client); code >= 0) return code;
  if (int code = run_memory_command(**client); code >= 0) return code;
  if (int code = run_tool_command(**client); code >= 0) return code;
  if (int code = run_run_command(**client); code >= 0) return code;

  if (health->parsed()) {
    absl::StatusOr<std::string> state = (*client)->Health(health_service);
    if (!state.ok()) return Fail(state.status());
    std::printf("%s\n", state->c_str());
    return *state == "SERVING" ? 0 : kExitError;
  }
  return 0;
}
