// gRPC server reflection v1 (grpc.reflection.v1.ServerReflection), beside the v1alpha service
// that Debian's grpc++_reflection provides: current grpcurl, grpcui and Postman ask v1 first.
// Answers come from the process's generated descriptor pool, so every message the daemon
// serves is described.
//
//   ReflectionV1Service reflection({"agentd.v1.AgentService", ...});
//   builder.RegisterService(&reflection);
#ifndef AGENTD_SERVICES_REFLECTION_V1_SERVICE_H_
#define AGENTD_SERVICES_REFLECTION_V1_SERVICE_H_

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace agentd::services {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::CallbackService {
 public:
  // `services`: the full names list_services answers with.
  explicit ReflectionV1Service(std::vector<std::string> services) : services_(std::move(services)) {}

  grpc::ServerBidiReactor<grpc::reflection::v1::ServerReflectionRequest, grpc::reflection::v1::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* context) override;

 private:
  const std::vector<std::string> services_;
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_REFLECTION_V1_SERVICE_H_
