// Every response carries the daemon's version in its initial metadata ("agentd-version:
// 0.1.0"), so a client learns which daemon it talks to from any call — `agentctl version` asks
// with a health check — without a method of its own.
//
//   interceptors.push_back(MakeVersionInterceptorFactory("0.1.0"));
#ifndef AGENTD_SERVICES_VERSION_INTERCEPTOR_H_
#define AGENTD_SERVICES_VERSION_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

namespace agentd::services {

inline constexpr char kVersionMetadataKey[] = "agentd-version";

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeVersionInterceptorFactory(std::string version);

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_VERSION_INTERCEPTOR_H_
