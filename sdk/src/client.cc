#include "sdk/client.h"

#include <chrono>

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
  return std::unique_ptr<Client>(new Client(options));
}

Client::Client(const ClientOptions& options) : options_(options) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);
  channel_ = grpc::CreateCustomChannel(options_.address, grpc::InsecureChannelCredentials(),
                                       arguments);
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

}  // namespace sdk
