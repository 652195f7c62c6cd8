// What every service handler shares: request validation, absl → gRPC status conversion, and
// logging of refused calls. Handlers stay thin: validate, call into a component, convert.
#ifndef AGENTD_SERVICES_RPC_SUPPORT_H_
#define AGENTD_SERVICES_RPC_SUPPORT_H_

#include <grpcpp/grpcpp.h>

#include <exception>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "agentd/daemon_options.h"
#include "agentd/request_validator.h"
#include "call_pool.h"

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
  // API token → tenant. Empty: no authentication, every caller is tenant "default".
  std::map<std::string, std::string> api_tokens;
  // The tokens that may call administrative RPCs.
  std::set<std::string> admin_tokens;
  // Where HandleSlowUnary runs its handlers. Null: on gRPC's own thread (tests of one service).
  CallPool* calls = nullptr;
};

// For administrative RPCs: OK without authentication configured (one trusted user) or for an
// admin token; PERMISSION_DENIED naming the method for any other token.
grpc::Status RequireAdmin(const grpc::CallbackServerContext* context, const RpcEnvironment& env, absl::string_view method);

// The caller's tenant, from its "authorization: Bearer TOKEN" metadata: UNAUTHENTICATED
// without a token, PERMISSION_DENIED for a token the daemon does not know.
grpc::Status Authenticate(const grpc::CallbackServerContext* context, const RpcEnvironment& env, std::string* tenant);

// Authenticates the caller, validates `request` against its annotations and the limits, then
// answers with `handler(tenant)` or `handler()` (a callable returning grpc::Status) on the
// calling thread.
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* HandleUnary(grpc::CallbackServerContext* context,
                                      const RpcEnvironment& env, absl::string_view method,
                                      const Request& request, Handler&& handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string tenant;
  grpc::Status status = Authenticate(context, env, &tenant);
  if (status.ok()) status = ToGrpcStatus(ValidateRequest(request, env.limits));
  if (status.ok()) {
    if constexpr (std::is_invocable_v<Handler, const std::string&>) {
      status = std::forward<Handler>(handler)(tenant);
    } else {
      status = std::forward<Handler>(handler)();
    }
  }
  if (!status.ok()) LogRefusedCall(method, status);
  reactor->Finish(status);
  return reactor;
}

// HandleUnary for a handler that may take long (see call_pool.h): authenticates and validates
// on gRPC's thread, then runs `handler(tenant)` on env.calls and answers from there. A call its
// client gave up on while it waited is answered CANCELLED without running. The handler must not
// capture the method's parameters by reference: it runs after the method has returned (the
// request and response themselves live until the call is answered).
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* HandleSlowUnary(grpc::CallbackServerContext* context, const RpcEnvironment& env,
                                          absl::string_view method, const Request& request, Handler handler) {
  if (env.calls == nullptr) return HandleUnary(context, env, method, request, std::move(handler));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string tenant;
  grpc::Status status = Authenticate(context, env, &tenant);
  if (status.ok()) status = ToGrpcStatus(ValidateRequest(request, env.limits));
  if (status.ok()) {
    absl::Status queued = env.calls->Submit(tenant, [context, reactor, tenant, method = std::string(method),
                                                     handler = std::move(handler)]() mutable {
      grpc::Status status;
      if (context->IsCancelled()) {
        status = grpc::Status(grpc::StatusCode::CANCELLED, "the client gave up before the call ran");
      } else {
        try {
          status = handler(tenant);
        } catch (const std::exception& e) {
          status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
        }
      }
      if (!status.ok()) LogRefusedCall(method, status);
      reactor->Finish(status);
    });
    if (queued.ok()) return reactor;
    status = ToGrpcStatus(queued);
  }
  LogRefusedCall(method, status);
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

// Authenticates and validates a server-streaming request; on failure returns a reactor that
// ends the stream with the error, on success returns nullptr (with *tenant set) and the caller
// starts its own reactor.
template <typename Response, typename Request>
grpc::ServerWriteReactor<Response>* RejectInvalidStream(grpc::CallbackServerContext* context,
                                                        const RpcEnvironment& env,
                                                        absl::string_view method,
                                                        const Request& request, std::string* tenant) {
  grpc::Status status = Authenticate(context, env, tenant);
  if (status.ok()) status = ToGrpcStatus(ValidateRequest(request, env.limits));
  if (status.ok()) return nullptr;
  LogRefusedCall(method, status);
  return new FinishedWriteReactor<Response>(status);
}

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_RPC_SUPPORT_H_
