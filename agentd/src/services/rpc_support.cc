#include "rpc_support.h"

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

}  // namespace agentd::services
