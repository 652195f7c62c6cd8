// AgentService handlers (proto/agentd/v1/agent.proto): thin wrappers over runs::RunManager, and
// one RunEventReactor per StreamRun call.
#ifndef AGENTD_SERVICES_AGENT_SERVICE_H_
#define AGENTD_SERVICES_AGENT_SERVICE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agentd/v1/agent.grpc.pb.h"
#include "rpc_support.h"
#include "runs/run_manager.h"

namespace agentd::services {

struct AgentServiceOptions {
  // StreamRun calls one tenant may have open at once; one more is RESOURCE_EXHAUSTED. Each
  // holds a subscription its run wakes at every event, and what it has read ahead for a client
  // that may never read it. Default 64 (four per active run at the default run limit).
  int max_streams_per_tenant = 64;
};

class AgentServiceImpl final : public agentd::v1::AgentService::CallbackService {
 public:
  // `runs` must outlive the service.
  AgentServiceImpl(const RpcEnvironment* env, runs::RunManager* runs, const AgentServiceOptions& options = {})
      : env_(*env), runs_(runs), options_(options) {}

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
  grpc::ServerUnaryReactor* DeleteRun(grpc::CallbackServerContext* context,
                                      const agentd::v1::DeleteRunRequest* request,
                                      agentd::v1::DeleteRunResponse* response) override;

 private:
  // A place for one more of the tenant's streams, given back when the pointer goes; null when
  // the tenant has max_streams_per_tenant open.
  std::shared_ptr<void> TakeStream(const std::string& tenant);

  struct StreamCounts {
    std::mutex mutex;
    std::map<std::string, int> open;  // tenant → its open StreamRun calls
  };

  const RpcEnvironment& env_;
  runs::RunManager* runs_;
  const AgentServiceOptions options_;
  std::shared_ptr<StreamCounts> streams_ = std::make_shared<StreamCounts>();
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_AGENT_SERVICE_H_
