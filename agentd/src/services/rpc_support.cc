#include "rpc_support.h"

#include "absl/strings/strip.h"

#include "absl/strings/str_cat.h"
#include "log.h"

namespace agentd::services {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numbering (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

void LogRefusedCall(absl::string_view method, const grpc::Status& status) {
  log::Info("rpc refused", {{"method", std::string(method)},
                            {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(
                                         status.error_code()))},
                            {"error", status.error_message()}});
}

grpc::Status NotAvailable(absl::string_view method) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      absl::StrCat(method, " is not available in this build of agentd yet"));
}

grpc::Status Authenticate(const grpc::CallbackServerContext* context, const RpcEnvironment& env, std::string* tenant) {
  if (env.api_tokens.empty()) {
    *tenant = "default";
    return grpc::Status::OK;
  }
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "authorization: this daemon requires an API token (metadata \"authorization: Bearer TOKEN\")");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ")) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "authorization: expected \"Bearer TOKEN\"");
  }
  auto found = env.api_tokens.find(std::string(value));
  if (found == env.api_tokens.end()) {
    // Credentials that name no one are unauthenticated; PERMISSION_DENIED is for a known caller
    // asking for what it may not do (gRPC's status code guide).
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "authorization: the API token is not valid");
  }
  *tenant = found->second;
  return grpc::Status::OK;
}

grpc::Status RequireAdmin(const grpc::CallbackServerContext* context, const RpcEnvironment& env, absl::string_view method) {
  if (env.api_tokens.empty()) return grpc::Status::OK;
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view value = it == metadata.end() ? absl::string_view() : absl::string_view(it->second.data(), it->second.size());
  if (absl::ConsumePrefix(&value, "Bearer ") && env.admin_tokens.count(std::string(value))) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat(method, ": needs an admin token (\"admin\": true in the daemon's auth.tokens)"));
}

}  // namespace agentd::services
