// What every service handler shares: request validation, absl → gRPC status conversion, and
// logging of refused calls. Handlers stay thin: validate, call into a component, convert.
#ifndef AGENTD_SERVICES_RPC_SUPPORT_H_
#define AGENTD_SERVICES_RPC_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "agentd/daemon_options.h"
#include "agentd/request_validator.h"

namespace agentd::services {

grpc::Status ToGrpcStatus(const absl::Status& status);

// Logs a call that ended in an error (at info level: it is the caller's mistake or a known
// condition, not the daemon's).
void LogRefusedCall(absl::string_view method, const grpc::Status& status);

// The answer of an RPC whose component has not been built into this daemon yet.
grpc::Status NotAvailable(absl::string_view method);

// State every service handler may read. Owned by the Server; outlives the services.
struct RpcEnvironment {
  RequestLimits limits;
  // The tenant calls act for. One tenant ("default") until API tokens map callers to tenants.
  std::string tenant = "default";
};

// Validates `request` against its annotations and the limits, then answers with `handler()`
// (a callable returning grpc::Status) on the calling thread.
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* context,
                                      const RpcEnvironment& env, absl::string_view method,
                                      const Request& request, Handler&& handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status status = ToGrpcStatus(ValidateRequest(request, env.limits));
  if (status.ok()) status = std::forward<Handler>(handler)();
  if (!status.ok()) LogRefusedCall(method, status);
  reactor->Finish(status);
  return reactor;
}

// A server-stream reactor that ends the stream at once with a status (no messages).
template <typename Response>
class FinishedWriteReactor : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FinishedWriteReactor(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// Validates a server-streaming request; on failure returns a reactor that ends the stream with
// INVALID_ARGUMENT, on success returns nullptr and the caller starts its own reactor.
template <typename Response, typename Request>
grpc::ServerWriteReactor<Response>* RejectInvalidStream(const RpcEnvironment& env,
                                                        absl::string_view method,
                                                        const Request& request) {
  grpc::Status status = ToGrpcStatus(ValidateRequest(request, env.limits));
  if (status.ok()) return nullptr;
  LogRefusedCall(method, status);
  return new FinishedWriteReactor<Response>(status);
}

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_RPC_SUPPORT_H_
