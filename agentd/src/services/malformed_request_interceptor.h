// Answers a request whose bytes do not parse as the method's message with INVALID_ARGUMENT.
//
// gRPC's callback API (1.51, Debian's) fails such a call itself, before any handler runs, with
// UNIMPLEMENTED and no message — which tells a client that the method does not exist. This
// server interceptor sees the status on its way out: UNIMPLEMENTED with an empty message on a
// method the agentd.v1 descriptors define (the daemon's own handlers never answer that) becomes
// INVALID_ARGUMENT naming the message type. Unknown methods keep UNIMPLEMENTED.
//
//   builder.experimental().SetInterceptorCreators(MakeMalformedRequestInterceptors());
#ifndef AGENTD_SERVICES_MALFORMED_REQUEST_INTERCEPTOR_H_
#define AGENTD_SERVICES_MALFORMED_REQUEST_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <vector>

namespace agentd::services {

// The request message's full name for a method path ("/agentd.v1.ModelService/Tokenize" →
// "agentd.v1.TokenizeRequest"); "" when the generated descriptors define no such method.
std::string RequestTypeOfMethod(const std::string& method_path);

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> MakeMalformedRequestInterceptors();

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_MALFORMED_REQUEST_INTERCEPTOR_H_
