#include "tool_service.h"

#include "nlohmann/json.hpp"

namespace agentd::services {

using namespace agentd::v1;

grpc::ServerUnaryReactor* ToolServiceImpl::ListTools(grpc::CallbackServerContext* context,
                                                     const ListToolsRequest* request,
                                                     ListToolsResponse* response) {
  return HandleUnary(context, env_, "ToolService.ListTools", *request,
                     [&] { return NotAvailable("ToolService.ListTools"); });
}

grpc::ServerUnaryReactor* ToolServiceImpl::InvokeTool(grpc::CallbackServerContext* context,
                                                      const InvokeToolRequest* request,
                                                      InvokeToolResponse* response) {
  return HandleUnary(context, env_, "ToolService.InvokeTool", *request, [&] {
    if (!request->arguments_json().empty()) {
      auto arguments = nlohmann::json::parse(request->arguments_json(), nullptr, false);
      if (arguments.is_discarded() || !arguments.is_object()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "arguments_json: must be a JSON object");
      }
    }
    if (request->timeout_ms() > 600000) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "timeout_ms: at most 600000");
    }
    return NotAvailable("ToolService.InvokeTool");
  });
}

grpc::ServerUnaryReactor* ToolServiceImpl::Reload(grpc::CallbackServerContext* context,
                                                  const ReloadRequest* request,
                                                  ReloadResponse* response) {
  return HandleUnary(context, env_, "ToolService.Reload", *request,
                     [&] { return NotAvailable("ToolService.Reload"); });
}

}  // namespace agentd::services
