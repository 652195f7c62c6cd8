// agentctl: the command-line client of agentd. Every subcommand talks to the daemon over gRPC
// through the C++ SDK, except `version`, which is local.
//
// Exit codes: 0 success, 1 the daemon answered with an error or is not serving, 2 bad usage.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "completion.h"
#include "document_text.h"
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

// Edit distance between two command names (for "did you mean").
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The command a person typed, checked after parsing: a group of commands ("memory", "runs")
// needs one of its commands, and a word that names none is reported with the nearest name —
// CLI11 alone says only "A subcommand is required". Returns the exit code when the command line
// is not a command; nullopt when it is.
std::optional<int> CheckCommand(CLI::App& app) {
  CLI::App* level = &app;
  std::string path = "agentctl";
  while (true) {
    std::vector<CLI::App*> chosen = level->get_subcommands();
    if (chosen.empty()) break;
    // What a group left over above the command chosen (a mistyped option) is an error too.
    if (std::vector<std::string> left = level->remaining(); !left.empty()) {
      std::fprintf(stderr, "%s: unexpected argument '%s'\nRun '%s --help' for its arguments.\n", path.c_str(),
                   left.front().c_str(), path.c_str());
      return 2;
    }
    level = chosen.front();
    path += " " + level->get_name();
  }
  std::vector<std::string> extra = level->remaining();
  std::vector<CLI::App*> commands = level->get_subcommands([](CLI::App*) { return true; });
  if (commands.empty()) {
    if (extra.empty()) return std::nullopt;
    std::fprintf(stderr, "%s: unexpected argument '%s'\nRun '%s --help' for its arguments.\n", path.c_str(),
                 extra.front().c_str(), path.c_str());
    return 2;
  }
  if (!extra.empty() && extra.front().rfind("-", 0) == 0) {
    std::fprintf(stderr, "%s: unexpected argument '%s'\nRun '%s --help' for its arguments.\n", path.c_str(),
                 extra.front().c_str(), path.c_str());
    return 2;
  }
  std::string names;
  for (CLI::App* c : commands) names += (names.empty() ? "" : ", ") + c->get_name();
  if (extra.empty()) {
    std::fprintf(stderr, "%s: a command is required: %s\nRun '%s --help' for what each does.\n", path.c_str(),
                 names.c_str(), path.c_str());
    return 2;
  }
  const std::string& typed = extra.front();
  std::string nearest;
  size_t best = std::string::npos;
  for (CLI::App* c : commands) {
    const size_t d = EditDistance(typed, c->get_name());
    if (d < best) {
      best = d;
      nearest = c->get_name();
    }
  }
  std::fprintf(stderr, "%s: '%s' is not a command", path.c_str(), typed.c_str());
  if (best <= std::max<size_t>(2, typed.size() / 3)) std::fprintf(stderr, "; did you mean '%s'?", nearest.c_str());
  std::fprintf(stderr, "\nCommands: %s\n", names.c_str());
  return 2;
}

// Groups of commands leave what they do not recognise for CheckCommand instead of failing
// with CLI11's generic message.
void AllowExtrasInGroups(CLI::App* app) {
  std::vector<CLI::App*> commands = app->get_subcommands([](CLI::App*) { return true; });
  if (commands.empty()) return;
  app->require_subcommand(0, 1);
  app->allow_extras();
  for (CLI::App* c : commands) AllowExtrasInGroups(c);
}

}  // namespace

int main(int argc, char** argv) {
  // A PDF is read by this program again in a child under time and memory limits
  // (document_text.h); not a command for people, so not in the command tree.
  if (argc == 3 && std::string(argv[1]) == "__pdf-text") return agentctl::PdfTextChild(argv[2]);
  CLI::App app{"agentctl: command-line client for agentd"};
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

  app.footer(
      "Examples:\n"
      "  agentctl health\n"
      "  agentctl memory ingest reports tests/data/corpus/seeds/*.txt\n"
      "  agentctl run report --topic \"DeepSeek对算力需求的影响\" --collection reports\n"
      "  agentctl chat --message \"Summarise the DeepSeek-V3 report.\"\n"
      "  agentctl runs list\n"
      "Each command's --help shows its own examples; shell completion: source <(agentctl completion bash)");
  CLI::App* version = app.add_subcommand("version", "print agentctl's version and the daemon's");
  CLI::App* health = app.add_subcommand("health", "ask the daemon whether it is serving");
  std::string health_service;
  health->add_option("--service", health_service,
                     "a service to check, e.g. agentd.v1.ModelService (default: the daemon)");

  std::function<int()> run_engine_command = agentctl::AddEngineCommands(&app);
  std::function<int()> run_completion_command = agentctl::AddCompletionCommand(&app);
  std::function<int()> run_script_command = agentctl::AddScriptCommands(&app);
  std::function<int(sdk::Client&)> run_model_command = agentctl::AddModelCommands(&app);
  std::function<int(sdk::Client&)> run_memory_command = agentctl::AddMemoryCommands(&app);
  std::function<int(sdk::Client&)> run_tool_command = agentctl::AddToolCommands(&app);
  std::function<int(sdk::Client&)> run_run_command = agentctl::AddRunCommands(&app);

  AllowExtrasInGroups(&app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (std::optional<int> code = CheckCommand(app)) return *code;

  if (version->parsed()) {
    std::printf("agentctl %s (API agentd.v1)\n", AGENTD_VERSION);
    // And the daemon's, when one answers; without one agentctl's own version is still the answer.
    sdk::ClientOptions quick = client_options;
    quick.timeout_seconds = std::min<double>(quick.timeout_seconds, 3);
    absl::StatusOr<std::unique_ptr<sdk::Client>> client = sdk::Client::Create(quick);
    absl::StatusOr<std::string> daemon =
        client.ok() ? (*client)->DaemonVersion() : absl::StatusOr<std::string>(client.status());
    if (daemon.ok()) {
      std::printf("agentd %s at %s\n", daemon->c_str(), client_options.address.c_str());
    } else {
      std::fprintf(stderr, "agentd: %s\n", std::string(daemon.status().message()).c_str());
    }
    return 0;
  }

  if (int code = run_completion_command(); code >= 0) return code;
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
