// AgentService handlers (proto/agentd/v1/agent.proto).
#ifndef AGENTD_SERVICES_AGENT_SERVICE_H_
#define AGENTD_SERVICES_AGENT_SERVICE_H_

#include "agentd/v1/agent.grpc.pb.h"
#include "rpc_support.h"

namespace agentd::services {

class AgentServiceImpl final : public agentd::v1::AgentService::CallbackService {
 public:
  explicit AgentServiceImpl(const RpcEnvironment* env) : env_(*env) {}

  grpc::ServerUnaryReactor* StartRun(grpc::CallbackServerContext* context,
                                     const agentd::v1::StartRunRequest* request,
                                     agentd::v1::StartRunResponse* response) override;
  grpc::ServerWriteReactor<agentd::v1::RunEvent>* StreamRun(
      grpc::CallbackServerContext* context, const agentd::v1::StreamRunRequest* request) override;
  grpc::ServerUnaryReactor* GetRun(grpc::CallbackServerContext* context,
                                   const agentd::v1::GetRunRequest* request,
                                   agentd::v1::Run* response) override;
  grpc::ServerUnaryReactor* ListRuns(grpc::CallbackServerContext* context,
                                     const agentd::v1::ListRunsRequest* request,
                                     agentd::v1::ListRunsResponse* response) override;
  grpc::ServerUnaryReactor* CancelRun(grpc::CallbackServerContext* context,
                                      const agentd::v1::CancelRunRequest* request,
                                      agentd::v1::Run* response) override;
  grpc::ServerUnaryReactor* ResumeRun(grpc::CallbackServerContext* context,
                                      const agentd::v1::ResumeRunRequest* request,
                                      agentd::v1::Run* response) override;

 private:
  const RpcEnvironment& env_;
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_AGENT_SERVICE_H_
