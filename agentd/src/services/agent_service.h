// AgentService handlers (proto/agentd/v1/agent.proto): thin wrappers over runs::RunManager, and
// one RunEventReactor per StreamRun call.
#ifndef AGENTD_SERVICES_AGENT_SERVICE_H_
#define AGENTD_SERVICES_AGENT_SERVICE_H_

#include "agentd/v1/agent.grpc.pb.h"
#include "rpc_support.h"
#include "runs/run_manager.h"

namespace agentd::services {

class AgentServiceImpl final : public agentd::v1::AgentService::CallbackService {
 public:
  // `runs` must outlive the service.
  AgentServiceImpl(const RpcEnvironment* env, runs::RunManager* runs) : env_(*env), runs_(runs) {}

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
  runs::RunManager* runs_;
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_AGENT_SERVICE_H_
