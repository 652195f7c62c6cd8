#include "sdk/client.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace sdk {

absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& address) {
  if (status.ok()) return absl::OkStatus();
  auto code = static_cast<absl::StatusCode>(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::Status(code, absl::StrCat("cannot reach agentd at ", address, ": ",
                                           status.error_message()));
  }
  return absl::Status(code, status.error_message());
}

absl::StatusOr<std::unique_ptr<Client>> Client::Create(const ClientOptions& options) {
  if (options.address.empty()) return absl::InvalidArgumentError("address is empty");
  if (!(options.timeout_seconds > 0)) {
    return absl::InvalidArgumentError("timeout_seconds must be positive");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.tls_ca_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (options.tls_ca_file != "system") {
      std::ifstream in(options.tls_ca_file, std::ios::binary);
      if (!in) return absl::NotFoundError(absl::StrCat("tls_ca_file ", options.tls_ca_file, ": cannot read"));
      std::stringstream buffer;
      buffer << in.rdbuf();
      ssl.pem_root_certs = buffer.str();
    }
    credentials = grpc::SslCredentials(ssl);
  }
  return std::unique_ptr<Client>(new Client(options, credentials));
}

Client::Client(const ClientOptions& options, std::shared_ptr<grpc::ChannelCredentials> credentials)
    : options_(options) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  channel_ = grpc::CreateCustomChannel(options_.address, credentials, arguments);
  health_ = grpc::health::v1::Health::NewStub(channel_);
  agents_ = agentd::v1::AgentService::NewStub(channel_);
  memory_ = agentd::v1::MemoryService::NewStub(channel_);
  models_ = agentd::v1::ModelService::NewStub(channel_);
  tools_ = agentd::v1::ToolService::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Client::NewContext(bool with_deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (with_deadline) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(
                              static_cast<int64_t>(options_.timeout_seconds * 1000)));
  }
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
  return context;
}

absl::StatusOr<std::string> Client::Health(const std::string& service) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  auto context = NewContext();
  grpc::Status status = health_->Check(context.get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::string("SERVICE_UNKNOWN");
  if (!status.ok()) return FromGrpcStatus(status, options_.address);
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

absl::StatusOr<std::string> Client::DaemonVersion() {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  auto context = NewContext();
  grpc::Status status = health_->Check(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, options_.address);
  const auto& metadata = context->GetServerInitialMetadata();
  auto found = metadata.find("agentd-version");
  if (found == metadata.end()) return absl::NotFoundError(absl::StrCat(options_.address, " did not say its version"));
  return std::string(found->second.data(), found->second.size());
}

absl::StatusOr<agentd::v1::Run> Client::StartRun(const agentd::v1::StartRunRequest& request) {
  agentd::v1::StartRunResponse response;
  auto context = NewContext();
  grpc::Status status = agents_->StartRun(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, options_.address);
  return response.run();
}

absl::StatusOr<agentd::v1::Run> Client::GetRun(const std::string& run_id, bool include_transcripts) {
  agentd::v1::GetRunRequest request;
  request.set_run_id(run_id);
  request.set_include_transcripts(include_transcripts);
  agentd::v1::Run run;
  auto context = NewContext();
  grpc::Status status = agents_->GetRun(context.get(), request, &run);
  if (!status.ok()) return FromGrpcStatus(status, options_.address);
  return run;
}

absl::StatusOr<agentd::v1::Run> Client::CancelRun(const std::string& run_id, const std::string& reason) {
  agentd::v1::CancelRunRequest request;
  request.set_run_id(run_id);
  request.set_reason(reason);
  agentd::v1::Run run;
  auto context = NewContext();
  grpc::Status status = agents_->CancelRun(context.get(), request, &run);
  if (!status.ok()) return FromGrpcStatus(status, options_.address);
  return run;
}

absl::StatusOr<agentd::v1::Run> Client::ResumeRun(const std::string& run_id) {
  agentd::v1::ResumeRunRequest request;
  request.set_run_id(run_id);
  agentd::v1::Run run;
  auto context = NewContext();
  grpc::Status status = agents_->ResumeRun(context.get(), request, &run);
  if (!status.ok()) return FromGrpcStatus(status, options_.address);
  return run;
}

absl::Status Client::DeleteRun(const std::string& run_id) {
  agentd::v1::DeleteRunRequest request;
  request.set_run_id(run_id);
  agentd::v1::DeleteRunResponse response;
  auto context = NewContext();
  grpc::Status status = agents_->DeleteRun(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, options_.address);
  return absl::OkStatus();
}

absl::Status Client::FollowRun(const std::string& run_id, uint64_t after_sequence, bool include_tokens,
                               const std::function<bool(const agentd::v1::RunEvent&)>& on_event, int max_reconnects) {
  uint64_t cursor = after_sequence;
  int failures = 0;
  while (true) {
    agentd::v1::StreamRunRequest request;
    request.set_run_id(run_id);
    request.set_after_sequence(cursor);
    request.set_include_tokens(include_tokens);
    auto context = NewContext(/*with_deadline=*/false);
    std::unique_ptr<grpc::ClientReader<agentd::v1::RunEvent>> reader = agents_->StreamRun(context.get(), request);
    agentd::v1::RunEvent event;
    bool stopped = false;
    while (reader->Read(&event)) {
      failures = 0;
      cursor = event.sequence();
      if (!on_event(event)) {
        stopped = true;
        context->TryCancel();
        break;
      }
    }
    grpc::Status status = reader->Finish();
    if (stopped || status.ok()) return absl::OkStatus();
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || ++failures > max_reconnects) {
      return FromGrpcStatus(status, options_.address);
    }
    // The daemon restarted or the connection dropped: pick up after the last event seen.
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * failures));
  }
}

}  // namespace sdk
