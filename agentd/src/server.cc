#include "agentd/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agentd/data_dir_lock.h"
#include "agentd/listen_address.h"
#include "http/http_frontend.h"
#include "agentd/state_store.h"
#include "agentd/version.h"
#include "engine/device.h"
#include "engine/engine.h"
#include "agentd/engine_embedder.h"
#include "memory/memory_store.h"
#include "tools/tool_registry.h"
#include "log.h"
#include "runs/builtin_plans.h"
#include "runs/run_manager.h"
#include "runs/run_store.h"
#include "script_services.h"
#include "tenant_shares.h"
#include "services/agent_service.h"
#include "services/call_pool.h"
#include "services/malformed_request_interceptor.h"
#include "services/metrics_interceptor.h"
#include "services/version_interceptor.h"
#include "services/reflection_v1_service.h"
#include "services/memory_service.h"
#include "services/model_service.h"
#include "services/tool_service.h"

namespace agentd {
namespace {

namespace fs = std::filesystem;

// A port file appears whole (written beside it, then renamed), and only once the daemon has said
// in its log that it serves: whoever waits for the file finds the log complete. Staging can fail
// (a directory not writable) before anything is announced; the rename within one directory
// practically cannot.
absl::Status StagePortFile(const std::string& path, int port) {
  const std::string temp = path + ".tmp";
  std::ofstream out(temp, std::ios::trunc);
  out << port << "\n";
  if (!out.flush()) return absl::PermissionDeniedError(absl::StrCat("port file ", temp, ": cannot write"));
  return absl::OkStatus();
}

absl::Status PublishPortFile(const std::string& path) {
  std::error_code ec;
  fs::rename(path + ".tmp", path, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("port file ", path, ": ", ec.message()));
  return absl::OkStatus();
}

// engine.max_streams_per_tenant, 0 resolved: with two tenants or more a quarter of the streams
// each (StreamRun's 64 of an unbounded number, the viewer's quarter per token), so three
// tenants streaming all they may still leave the fourth a quarter; one tenant takes them all.
services::ModelServiceOptions ModelServiceOptionsFor(const DaemonOptions& options) {
  const uint64_t max_streams = options.engine.max_streams;
  return {.max_streams = max_streams,
          .max_streams_per_tenant =
              TenantShare(options, options.engine.max_streams_per_tenant, std::max<uint64_t>(1, max_streams / 4))};
}

// engine.max_running_per_tenant, 0 resolved: with two tenants or more a quarter of the batch
// stays free for the others (4 of 16), which their requests take at the next pass.
int MaxRunningPerTenant(const DaemonOptions& options) {
  const uint64_t max_running = options.engine.max_running;
  return static_cast<int>(TenantShare(options, options.engine.max_running_per_tenant,
                                      std::max<uint64_t>(1, max_running - max_running / 4)));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const char* setting) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(setting, " ", path, ": cannot read"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(const DaemonOptions& options) : options_(options) {
    env_.limits = options.limits;
    for (const ApiToken& token : options.api_tokens) {
      env_.api_tokens[token.token] = token.tenant;
      if (token.admin) env_.admin_tokens.insert(token.token);
    }
  }

  ~ServerImpl() override { Shutdown().IgnoreError(); }

  absl::Status Init() {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(options_.listen);
    if (!address.ok()) return address.status();

    absl::StatusOr<std::unique_ptr<DataDirLock>> lock = DataDirLock::Acquire(options_.data_dir);
    if (!lock.ok()) return lock.status();
    lock_ = std::move(*lock);

    StateStoreOptions store_options;
    store_options.path = (fs::path(options_.data_dir) / "state").string();
    for (const char* name : runs::RunStore::kColumnFamilies) store_options.column_families.push_back(name);
    absl::StatusOr<std::unique_ptr<StateStore>> store = StateStore::Open(store_options);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);

    engine::DeviceReport devices = engine::ProbeDevices();
    log::Info("devices", {{"devices", engine::DescribeDevices(devices)},
                          {"cuda_compiled", devices.cuda_compiled}});
    if (!options_.model_dir.empty()) {
      engine::EngineOptions engine_options{.model_dir = options_.model_dir,
                                           .draft_model_dir = options_.draft_model_dir,
                                           .quantize = options_.engine.quantize,
                                           .quantized_copy_dir = (fs::path(options_.data_dir) / "quantized").string(),
                                           .device = options_.engine.device};
      const EngineServingOptions& serving = options_.engine;
      engine_options.scheduler = {.max_running = static_cast<int>(serving.max_running),
                                  .max_running_per_tenant = MaxRunningPerTenant(options_),
                                  .max_batch_tokens = static_cast<int64_t>(serving.max_batch_tokens),
                                  .max_waiting = static_cast<int>(serving.max_waiting),
                                  .kv_cache_bytes = serving.kv_cache_mb << 20,
                                  .prefix_caching = serving.prefix_caching};
      engine_options.observer = &metrics_;
      absl::StatusOr<std::unique_ptr<engine::Engine>> loaded = engine::Engine::Load(engine_options);
      if (!loaded.ok()) {
        return absl::Status(loaded.status().code(),
                            absl::StrCat("--model ", options_.model_dir, ": ", loaded.status().message()));
      }
      engine_ = std::move(*loaded);
      const engine::EngineInfo& info = engine_->info();
      log::Info("model loaded", {{"name", info.name},
                                 {"architecture", info.architecture},
                                 {"parameters", info.parameters},
                                 {"active_parameters", info.active_parameters},
                                 {"dtype", info.weight_dtype},
                                 {"quantized_copy", info.quantized_copy},
                                 {"draft_model", info.draft_model},
                                 {"kv_cache_mb", options_.engine.kv_cache_mb}});
    }

    if (!options_.embedding_model_dir.empty()) {
      // Embedding requests are short forward passes without generation: this engine's
      // scheduler stays idle, and its KV memory is only what those passes use.
      absl::StatusOr<std::unique_ptr<engine::Engine>> loaded =
          engine::Engine::Load({.model_dir = options_.embedding_model_dir});
      if (!loaded.ok()) {
        return absl::Status(loaded.status().code(), absl::StrCat("--embedding-model ", options_.embedding_model_dir, ": ",
                                                                 loaded.status().message()));
      }
      embedding_engine_ = std::move(*loaded);
      const engine::EngineInfo& info = embedding_engine_->info();
      log::Info("embedding model loaded", {{"name", info.name},
                                           {"parameters", info.parameters},
                                           {"dimension", info.hidden_size},
                                           {"pooling", info.embedding_pooling},
                                           {"query_prompt", embedding_engine_->embedding_settings().query_prompt}});
    }
    engine::Engine* embedding_engine = embedding_engine_ ? embedding_engine_.get() : engine_.get();
    if (embedding_engine) embedder_ = std::make_unique<EngineEmbedder>(embedding_engine);
    memory::MemoryStoreOptions memory_options;
    memory_options.path = (fs::path(options_.data_dir) / "memory").string();
    memory_options.embedder = embedder_.get();
    memory_options.max_stored_bytes_per_tenant = DocumentShare(options_, PhysicalMemoryBytes());
    memory_options.max_collections_per_tenant = TenantShare(options_, options_.memory.max_collections_per_tenant, 1000);
    http::ServingMetrics* metrics = &metrics_;
    memory_options.on_search = [metrics](double seconds) { metrics->ObserveMemorySearch(seconds); };
    memory_options.on_index_not_saved = [](const absl::Status& status) {
      log::Warn("vector index not saved; the next start replays or rebuilds it", {{"error", status.ToString()}});
    };
    absl::StatusOr<std::unique_ptr<memory::MemoryStore>> memory_store = memory::MemoryStore::Open(memory_options);
    if (!memory_store.ok()) return memory_store.status();
    memory_store_ = std::move(*memory_store);

    tools::ToolRegistryOptions tool_options;
    tool_options.tools_dir = options_.tools_dir;
    tool_options.http.allowed_hosts = options_.http_allowed_hosts;
    tool_options.search_url = options_.search_url;
    tool_options.on_invoked = [metrics](const std::string& tool, const absl::Status& status, double seconds) {
      metrics->CountToolCall(tool, status.ok(), seconds);
    };
    tool_options.services = MakeScriptServices(memory_store_.get(), engine_.get(), "default");
    absl::StatusOr<std::unique_ptr<tools::ToolRegistry>> registry = tools::ToolRegistry::Create(tool_options);
    if (!registry.ok()) {
      return absl::Status(registry.status().code(), absl::StrCat("--tools-dir: ", registry.status().message()));
    }
    tool_registry_ = std::move(*registry);
    for (const tools::ToolLoadError& e : tool_registry_->last_load_errors()) {
      log::Warn("tool file not loaded", {{"file", e.file}, {"error", e.message}});
    }

    absl::StatusOr<std::unique_ptr<runs::RunStore>> run_store = runs::RunStore::Create(store_.get());
    if (!run_store.ok()) return run_store.status();
    run_store_ = std::move(*run_store);
    runs::RunManagerOptions run_options;
    run_options.store = run_store_.get();
    run_options.memory = memory_store_.get();
    run_options.tools = tool_registry_.get();
    run_options.engine = engine_.get();
    run_options.embedder = embedder_.get();
    run_options.builtin_plans = runs::BuiltinPlans();
    run_options.plans_dir = options_.plans_dir;
    run_options.workers = static_cast<int>(options_.runs.workers);
    run_options.defaults.deadline_seconds = options_.runs.deadline_seconds;
    run_options.defaults.max_tokens = options_.runs.max_tokens;
    run_options.defaults.max_tool_calls = options_.runs.max_tool_calls;
    run_options.max_active_runs_per_tenant = static_cast<int>(options_.runs.max_active_runs_per_tenant);
    run_options.max_stored_runs_per_tenant = TenantShare(options_, options_.runs.max_stored_runs_per_tenant, 10000);
    run_options.max_stored_bytes_per_tenant =
        TenantShare(options_, options_.runs.max_stored_bytes_per_tenant, uint64_t{8} << 30);
    run_options.on_run_ended = [metrics](const std::string& state) { metrics->CountRunEnded(state); };
    run_options.on_step_ended = [metrics](double seconds, bool succeeded) { metrics->ObserveStep(seconds, succeeded); };
    memory::MemoryStore* memory = memory_store_.get();
    engine::Engine* engine = engine_.get();
    run_options.services_for = [memory, engine](const std::string& tenant) {
      return MakeScriptServices(memory, engine, tenant);
    };
    absl::StatusOr<std::unique_ptr<runs::RunManager>> run_manager = runs::RunManager::Create(run_options);
    if (!run_manager.ok()) return run_manager.status();
    run_manager_ = std::move(*run_manager);

    call_pool_ = std::make_unique<services::CallPool>(services::CallPoolOptions{});
    env_.calls = call_pool_.get();
    agent_service_ = std::make_unique<services::AgentServiceImpl>(&env_, run_manager_.get());
    memory_service_ = std::make_unique<services::MemoryServiceImpl>(&env_, memory_store_.get());
    model_service_ = std::make_unique<services::ModelServiceImpl>(&env_, engine_.get(), embedding_engine_.get(),
                                                                   ModelServiceOptionsFor(options_));
    tool_service_ = std::make_unique<services::ToolServiceImpl>(
        &env_, tool_registry_.get(),
        [memory, engine](const std::string& tenant) { return MakeScriptServices(memory, engine, tenant); });

    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    // gRPC sets SO_REUSEPORT by default, which would let a second daemon bind the same port
    // silently and steal half the connections.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
    if (!options_.tls_cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadWholeFile(options_.tls_cert_file, "tls.cert_file");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadWholeFile(options_.tls_key_file, "tls.key_file");
      if (!key.ok()) return key.status();
      grpc::SslServerCredentialsOptions ssl;
      ssl.pem_key_cert_pairs.push_back({*key, *cert});
      credentials = grpc::SslServerCredentials(ssl);
    }
    builder.AddListeningPort(address->ToGrpcTarget(), credentials, &port_);
    // Let requests somewhat over the limit through the transport so the validator can answer
    // INVALID_ARGUMENT naming the field; far larger ones are cut off by gRPC itself.
    uint64_t transport_limit = std::min<uint64_t>(2 * options_.limits.max_request_bytes, INT_MAX);
    builder.SetMaxReceiveMessageSize(static_cast<int>(transport_limit));
    builder.RegisterService(agent_service_.get());
    builder.RegisterService(memory_service_.get());
    builder.RegisterService(model_service_.get());
    builder.RegisterService(tool_service_.get());
    reflection_v1_service_ = std::make_unique<services::ReflectionV1Service>(std::vector<std::string>{
        agentd::v1::AgentService::service_full_name(), agentd::v1::MemoryService::service_full_name(),
        agentd::v1::ModelService::service_full_name(), agentd::v1::ToolService::service_full_name(),
        "grpc.health.v1.Health", grpc::reflection::v1::ServerReflection::service_full_name(),
        "grpc.reflection.v1alpha.ServerReflection"});
    builder.RegisterService(reflection_v1_service_.get());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors =
        services::MakeMalformedRequestInterceptors();
    interceptors.push_back(services::MakeVersionInterceptorFactory(AGENTD_VERSION));
    interceptors.push_back(services::MakeMetricsInterceptorFactory(
        [metrics = &metrics_](const std::string& method, grpc::StatusCode code, double seconds) {
          metrics->CountGrpcCall(method, services::StatusCodeName(code), seconds);
        }));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    grpc_server_ = builder.BuildAndStart();
    if (!grpc_server_ || port_ == 0) {
      grpc_server_.reset();
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", options_.listen, " (address in use or not available on this host)"));
    }
    SetServing(true);
    if (!options_.http_listen.empty()) {
      http::HttpFrontendOptions http_options;
      http_options.listen = options_.http_listen;
      http_options.tls_cert_file = options_.tls_cert_file;
      http_options.tls_key_file = options_.tls_key_file;
      http_options.api_tokens = env_.api_tokens;
      http_options.admin_tokens = env_.admin_tokens;
      http_options.engine = engine_.get();
      http_options.embedding_engine = embedding_engine_ ? embedding_engine_.get() : engine_.get();
      http_options.max_request_bytes = options_.limits.max_request_bytes;
      http_options.stream_slots = model_service_->stream_slots();
      http_options.metrics = &metrics_;
      http_options.runs = run_manager_.get();
      http_options.memory = memory_store_.get();
      http_options.limits = options_.limits;
      absl::StatusOr<std::unique_ptr<http::HttpFrontend>> frontend = http::HttpFrontend::Start(http_options);
      if (!frontend.ok()) return frontend.status();
      http_frontend_ = std::move(*frontend);
      if (!options_.http_port_file.empty()) {
        absl::Status status = StagePortFile(options_.http_port_file, http_frontend_->port());
        if (!status.ok()) return status;
      }
    }
    if (!options_.port_file.empty()) {
      absl::Status status = StagePortFile(options_.port_file, port_);
      if (!status.ok()) return status;
    }
    // Streams beyond the engine's queue would take the places the runs' own model calls need
    // (scripts/load_test.py: a third of the runs failed with "queue is full").
    const EngineServingOptions& serving = options_.engine;
    if (engine_ != nullptr && serving.max_streams + options_.runs.workers > serving.max_running + serving.max_waiting) {
      log::Warn("engine.max_streams leaves runs no room in the engine's queue",
                {{"max_streams", serving.max_streams}, {"runs_workers", options_.runs.workers},
                 {"max_running", serving.max_running}, {"max_waiting", serving.max_waiting},
                 {"advice", "keep max_streams + runs.workers <= max_running + max_waiting"}});
    }
    log::Info("serving", {{"addr", options_.listen},
                          {"port", port_},
                          {"data_dir", options_.data_dir},
                          {"version", kVersion},
                          {"state_opens", store_->open_count()}});
    for (const std::string& path : {http_frontend_ != nullptr ? options_.http_port_file : std::string(), options_.port_file}) {
      if (path.empty()) continue;
      absl::Status status = PublishPortFile(path);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  absl::Status Shutdown() override {
    std::lock_guard<std::mutex> guard(shutdown_mutex_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
    absl::Status status;
    // Plans stop first (they stay RUNNING and resume at the next start), so streams see no
    // more events and nothing writes to the stores below.
    if (run_manager_) run_manager_->Shutdown();
    if (http_frontend_) http_frontend_->Stop();
    if (grpc_server_) {
      log::Info("shutting down", {{"grace_seconds", options_.shutdown_grace_seconds}});
      SetServing(false);
      auto deadline = std::chrono::system_clock::now() +
                      std::chrono::milliseconds(
                          static_cast<int64_t>(options_.shutdown_grace_seconds * 1000));
      grpc_server_->Shutdown(deadline);
      grpc_server_->Wait();
      grpc_server_.reset();
    }
    // Every call is answered by now (the server waited for them), so nothing waits in the pool.
    env_.calls = nullptr;
    call_pool_.reset();
    run_manager_.reset();
    run_store_.reset();
    if (memory_store_) {
      absl::Status closed = memory_store_->Close();
      if (!closed.ok()) log::Error("closing memory store failed", {{"error", closed.ToString()}});
      memory_store_.reset();
    }
    if (store_) {
      status = store_->Close();
      if (!status.ok()) log::Error("closing state store failed", {{"error", status.ToString()}});
      store_.reset();
    }
    lock_.reset();
    if (status.ok()) log::Info("stopped");
    return status;
  }

 private:
  void SetServing(bool serving) {
    grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
    if (health == nullptr) return;
    health->SetServingStatus(serving);
    for (const char* service : {"agentd.v1.AgentService", "agentd.v1.MemoryService",
                                "agentd.v1.ModelService", "agentd.v1.ToolService"}) {
      health->SetServingStatus(service, serving);
    }
  }

  DaemonOptions options_;
  services::RpcEnvironment env_;
  // Before every component that reports into it, so it outlives them.
  http::ServingMetrics metrics_;
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<engine::Engine> embedding_engine_;  // --embedding-model; null: the model embeds
  std::unique_ptr<EngineEmbedder> embedder_;
  std::unique_ptr<memory::MemoryStore> memory_store_;
  std::unique_ptr<tools::ToolRegistry> tool_registry_;
  std::unique_ptr<runs::RunStore> run_store_;
  std::unique_ptr<runs::RunManager> run_manager_;
  // Runs the slow unary calls (services/call_pool.h); outlives the gRPC server.
  std::unique_ptr<services::CallPool> call_pool_;
  std::unique_ptr<services::AgentServiceImpl> agent_service_;
  std::unique_ptr<services::MemoryServiceImpl> memory_service_;
  std::unique_ptr<services::ModelServiceImpl> model_service_;
  std::unique_ptr<services::ToolServiceImpl> tool_service_;
  std::unique_ptr<services::ReflectionV1Service> reflection_v1_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<http::HttpFrontend> http_frontend_;
  int port_ = 0;
  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const DaemonOptions& options) {
  absl::Status valid = options.Validate();
  if (!valid.ok()) return valid;
  auto server = std::make_unique<ServerImpl>(options);
  absl::Status status = server->Init();
  if (!status.ok()) {
    server->Shutdown().IgnoreError();
    return status;
  }
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace agentd
