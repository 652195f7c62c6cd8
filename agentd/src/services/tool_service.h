// ToolService handlers (proto/agentd/v1/tool.proto) over tools::ToolRegistry. Lua tools run on
// the calling gRPC thread, bounded by their sandbox limits and the request's timeout.
#ifndef AGENTD_SERVICES_TOOL_SERVICE_H_
#define AGENTD_SERVICES_TOOL_SERVICE_H_

#include "agentd/v1/tool.grpc.pb.h"
#include "rpc_support.h"
#include "tools/tool_registry.h"

namespace agentd::services {

class ToolServiceImpl final : public agentd::v1::ToolService::CallbackService {
 public:
  // `registry` must outlive the service.
  ToolServiceImpl(const RpcEnvironment* env, tools::ToolRegistry* registry) : env_(*env), registry_(registry) {}

  grpc::ServerUnaryReactor* ListTools(grpc::CallbackServerContext* context,
                                      const agentd::v1::ListToolsRequest* request,
                                      agentd::v1::ListToolsResponse* response) override;
  grpc::ServerUnaryReactor* InvokeTool(grpc::CallbackServerContext* context,
                                       const agentd::v1::InvokeToolRequest* request,
                                       agentd::v1::InvokeToolResponse* response) override;
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const agentd::v1::ReloadRequest* request,
                                   agentd::v1::ReloadResponse* response) override;

 private:
  const RpcEnvironment& env_;
  tools::ToolRegistry* registry_;
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_TOOL_SERVICE_H_
