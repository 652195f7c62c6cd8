// Counts every gRPC call for the daemon's metrics: when a call sends its status, the observer is
// told the method ("/agentd.v1.ModelService/Generate"), the status code and the seconds since
// the call arrived. A method the daemon does not define is reported as "unknown", so a client
// cannot grow the metrics with names of its own; a call that ends without a status (its client
// went away) is reported as CANCELLED.
//
//   interceptors.push_back(MakeMetricsInterceptorFactory([&](auto method, auto code, double s) {...}));
#ifndef AGENTD_SERVICES_METRICS_INTERCEPTOR_H_
#define AGENTD_SERVICES_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <functional>
#include <memory>
#include <string>

namespace agentd::services {

using CallObserver = std::function<void(const std::string& method, grpc::StatusCode code, double seconds)>;

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeMetricsInterceptorFactory(CallObserver observer);

// "OK", "INVALID_ARGUMENT", ...: the names gRPC's documentation gives the codes.
const char* StatusCodeName(grpc::StatusCode code);

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_METRICS_INTERCEPTOR_H_
