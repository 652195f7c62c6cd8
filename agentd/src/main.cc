// agentd: the daemon's entry point. Parses flags (over an optional JSON config file), starts the
// server, and waits for SIGTERM/SIGINT to shut down cleanly.
#include <signal.h>

#include <cstdio>
#include <iostream>

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

#include "CLI/CLI.hpp"
#include "agentd/daemon_options.h"
#include "agentd/server.h"
#include "agentd/version.h"
#include "log.h"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "agentd: %s\n", message.c_str());
  return code;
}

}  // namespace

namespace {

// Protobuf's and gRPC's own messages go into the daemon's log as JSON lines like every other,
// instead of free text interleaved with it.
void RouteLibraryLogs() {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel level, const char* file, int line,
                                     const std::string& message) {
    agentd::log::Write(level >= google::protobuf::LOGLEVEL_ERROR ? agentd::log::Level::kError
                       : level == google::protobuf::LOGLEVEL_WARNING ? agentd::log::Level::kWarn
                                                                     : agentd::log::Level::kInfo,
                       "libprotobuf", {{"message", message}, {"file", file ? file : ""}, {"line", line}});
  });
  gpr_set_log_function([](gpr_log_func_args* args) {
    agentd::log::Write(args->severity == GPR_LOG_SEVERITY_ERROR  ? agentd::log::Level::kError
                       : args->severity == GPR_LOG_SEVERITY_INFO ? agentd::log::Level::kInfo
                                                                 : agentd::log::Level::kDebug,
                       "grpc", {{"message", args->message ? args->message : ""}, {"file", args->file ? args->file : ""},
                                {"line", args->line}});
  });
}

}  // namespace

int main(int argc, char** argv) {
  RouteLibraryLogs();
  CLI::App app{"agentd: agent orchestration daemon with a built-in MoE language-model engine"};
  app.set_version_flag("--version", std::string("agentd ") + agentd::kVersion + " (" +
                                        agentd::kApiVersion + ")");
  std::string config_path, listen, data_dir, model_dir, draft_model_dir, embedding_model_dir, tools_dir, plans_dir, port_file, log_level;
  uint64_t kv_cache_mb = 0;
  double grace = -1;
  app.add_option("--config", config_path, "JSON config file; flags override its keys");
  app.add_option("--listen", listen, "HOST:PORT to serve gRPC on (default 127.0.0.1:7700)");
  app.add_option("--data-dir", data_dir, "directory for persistent state (required)");
  app.add_option("--model", model_dir,
                 "model directory to load (config.json, *.safetensors); default: the shipped agentd-default; \"none\": no model");
  app.add_option("--draft-model", draft_model_dir, "smaller model with the same vocabulary for draft-model speculation");
  app.add_option("--embedding-model", embedding_model_dir,
                 "embedding model for memory and Embed (sentence-transformers layout); default: the shipped agentd-embed "
                 "with the shipped model, the model's hidden states with another; \"none\": the model's hidden states");
  app.add_option("--kv-cache-mb", kv_cache_mb, "KV-cache memory for all requests together, MiB (default 2048)");
  std::string quantize;
  app.add_option("--quantize", quantize, "quantise the model's weights at load: q8, q4 (output head at 8 bits) or q4-pure (every matrix at 4 bits) (default: as stored)");
  std::string device;
  app.add_option("--device", device, "where the model runs: cpu (default), cuda or auto (the GPU when one is found)");
  app.add_option("--tools-dir", tools_dir, "directory of Lua tool files (*.lua)");
  app.add_option("--plans-dir", plans_dir, "directory of installed plans (NAME.lua, TENANT/NAME.lua)");
  app.add_option("--port-file", port_file, "write the bound port here once serving");
  std::string http_listen, http_port_file;
  app.add_option("--http-listen", http_listen,
                 "HOST:PORT to serve the OpenAI-compatible API and /metrics on (default: no HTTP)");
  app.add_option("--http-port-file", http_port_file, "write the HTTP listener's bound port here once serving");
  app.add_option("--log-level", log_level, "debug, info, warn or error (default info)");
  app.add_option("--shutdown-grace", grace, "seconds in-flight calls get on SIGTERM (default 10)");
  bool insecure_listen = false;
  app.add_flag("--insecure-listen", insecure_listen,
               "serve a non-loopback address without TLS and API tokens (refused otherwise)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }

  agentd::DaemonOptions options;
  if (!config_path.empty()) {
    absl::Status status = agentd::LoadConfigFile(config_path, &options);
    if (!status.ok()) return Fail(kExitUsage, std::string(status.message()));
  }
  if (!listen.empty()) options.listen = listen;
  if (!data_dir.empty()) options.data_dir = data_dir;
  if (!model_dir.empty()) options.model_dir = model_dir;
  if (!draft_model_dir.empty()) options.draft_model_dir = draft_model_dir;
  if (!embedding_model_dir.empty()) options.embedding_model_dir = embedding_model_dir;
  if (absl::Status status = agentd::ResolveShippedModels(&options); !status.ok()) {
    return Fail(kExitUsage, std::string(status.message()));
  }
  if (kv_cache_mb > 0) options.engine.kv_cache_mb = kv_cache_mb;
  if (!quantize.empty()) options.engine.quantize = quantize;
  if (!device.empty()) options.engine.device = device;
  if (!port_file.empty()) options.port_file = port_file;
  if (!http_listen.empty()) options.http_listen = http_listen;
  if (!http_port_file.empty()) options.http_port_file = http_port_file;
  if (!tools_dir.empty()) options.tools_dir = tools_dir;
  if (!plans_dir.empty()) options.plans_dir = plans_dir;
  if (!log_level.empty()) options.log_level = log_level;
  if (grace >= 0) options.shutdown_grace_seconds = grace;
  if (insecure_listen) options.allow_insecure_listen = true;
  if (absl::Status status = options.Validate(); !status.ok()) {
    return Fail(kExitUsage, std::string(status.message()));
  }
  agentd::log::SetLevel(options.log_level);

  // Block the shutdown signals before any thread exists so every gRPC and RocksDB thread
  // inherits the mask and only sigwait below receives them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<agentd::Server>> server = agentd::Server::Start(options);
  if (!server.ok()) {
    agentd::log::Error("start failed", {{"error", std::string(server.status().message())}});
    return Fail(kExitFailure, std::string(server.status().message()));
  }

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  agentd::log::Info("signal received", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  absl::Status status = (*server)->Shutdown();
  server->reset();
  if (!status.ok()) return Fail(kExitFailure, std::string(status.message()));
  return 0;
}
