// ToolService handlers (proto/agentd/v1/tool.proto) over tools::ToolRegistry. Lua tools run on
// the calling gRPC thread, bounded by their sandbox limits and the request's timeout.
#ifndef AGENTD_SERVICES_TOOL_SERVICE_H_
#define AGENTD_SERVICES_TOOL_SERVICE_H_

#include <functional>

#include "agentd/v1/tool.grpc.pb.h"
#include "rpc_support.h"
#include "tools/tool_registry.h"

namespace agentd::services {

class ToolServiceImpl final : public agentd::v1::ToolService::CallbackService {
 public:
  // What a tool invoked for a tenant may reach (memory, model) with that tenant's rights.
  using ServicesForTenant = std::function<scripting::ScriptServices(const std::string& tenant)>;
  // `registry` must outlive the service.
  ToolServiceImpl(const RpcEnvironment* env, tools::ToolRegistry* registry, ServicesForTenant services_for)
      : env_(*env), registry_(registry), services_for_(std::move(services_for)) {}

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
  ServicesForTenant services_for_;
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_TOOL_SERVICE_H_
