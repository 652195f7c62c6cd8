// The C++ client library for agentd: a connection to one daemon with typed calls that return
// absl::Status values, plus the raw gRPC stubs for anything not wrapped yet.
//
//   sdk::ClientOptions options;
//   options.address = "127.0.0.1:7700";
//   auto client = sdk::Client::Create(options);
//   if (!client.ok()) ...;
//   absl::StatusOr<std::string> health = (*client)->Health();   // "SERVING"
//
// agentctl is built on this library; it depends on proto/ only.
#ifndef AGENTD_SDK_CLIENT_H_
#define AGENTD_SDK_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agentd/v1/agent.grpc.pb.h"
#include "agentd/v1/memory.grpc.pb.h"
#include "agentd/v1/model.grpc.pb.h"
#include "agentd/v1/tool.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace sdk {

struct ClientOptions {
  // host:port of the daemon. Default 127.0.0.1:7700.
  std::string address = "127.0.0.1:7700";
  // Deadline for each unary call, in seconds; streaming calls have none. Default 10.
  double timeout_seconds = 10.0;
  // API token sent as "authorization: Bearer TOKEN"; empty sends none.
  std::string token;
  // TLS: PEM file of the root certificates to trust. Empty (the default): plaintext; "system":
  // TLS with the system's roots.
  std::string tls_ca_file;
};

// Maps a gRPC status onto absl::Status (the codes share their numbering). UNAVAILABLE gets the
// address added so "cannot connect" messages say where.
absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& address);

class Client {
 public:
  // Fails only for an empty address; the connection itself is made lazily by the first call.
  static absl::StatusOr<std::unique_ptr<Client>> Create(const ClientOptions& options);

  // grpc.health.v1 Check for `service` ("" = the daemon as a whole): "SERVING", "NOT_SERVING",
  // "SERVICE_UNKNOWN" or "UNKNOWN".
  absl::StatusOr<std::string> Health(const std::string& service = "");
  // The daemon's version ("0.1.0"), which every response carries in its initial metadata
  // (asked with a health check).
  absl::StatusOr<std::string> DaemonVersion();

  // Runs (AgentService). Errors carry the daemon's status and message.
  absl::StatusOr<agentd::v1::Run> StartRun(const agentd::v1::StartRunRequest& request);
  absl::StatusOr<agentd::v1::Run> GetRun(const std::string& run_id, bool include_transcripts = false);
  absl::StatusOr<agentd::v1::Run> CancelRun(const std::string& run_id, const std::string& reason = "");
  absl::StatusOr<agentd::v1::Run> ResumeRun(const std::string& run_id);
  // An ended run, with its events and artifact; FAILED_PRECONDITION for one still active.
  absl::Status DeleteRun(const std::string& run_id);
  // Delivers the run's events after `after_sequence` to `on_event` (return false to stop) until
  // the run ends. A dropped connection is re-opened from the last sequence delivered, up to
  // `max_reconnects` times in a row, so no event is missed or delivered twice.
  absl::Status FollowRun(const std::string& run_id, uint64_t after_sequence, bool include_tokens,
                         const std::function<bool(const agentd::v1::RunEvent&)>& on_event, int max_reconnects = 10);

  // A context with the configured deadline and credentials, for calls made on the stubs.
  std::unique_ptr<grpc::ClientContext> NewContext(bool with_deadline = true) const;

  agentd::v1::AgentService::Stub& agents() { return *agents_; }
  agentd::v1::MemoryService::Stub& memory() { return *memory_; }
  agentd::v1::ModelService::Stub& models() { return *models_; }
  agentd::v1::ToolService::Stub& tools() { return *tools_; }
  const std::string& address() const { return options_.address; }

 private:
  Client(const ClientOptions& options, std::shared_ptr<grpc::ChannelCredentials> credentials);
  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<agentd::v1::AgentService::Stub> agents_;
  std::unique_ptr<agentd::v1::MemoryService::Stub> memory_;
  std::unique_ptr<agentd::v1::ModelService::Stub> models_;
  std::unique_ptr<agentd::v1::ToolService::Stub> tools_;
};

}  // namespace sdk

#endif  // AGENTD_SDK_CLIENT_H_
