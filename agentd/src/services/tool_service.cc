#include "tool_service.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "engine/json_nesting.h"

namespace agentd::services {

using namespace agentd::v1;

grpc::ServerUnaryReactor* ToolServiceImpl::ListTools(grpc::CallbackServerContext* context,
                                                     const ListToolsRequest* request,
                                                     ListToolsResponse* response) {
  return HandleUnary(context, env_, "ToolService.ListTools", *request, [&] {
    for (const tools::ToolInfo& info : registry_->List()) {
      Tool* tool = response->add_tools();
      tool->set_name(info.name);
      tool->set_description(info.description);
      // A Lua tool's schema may hold invalid UTF-8 (description = "\xff"): replaced, not thrown.
      tool->set_parameters_json_schema(info.parameters.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      tool->set_origin(info.origin == tools::ToolInfo::Origin::kLua ? Tool::ORIGIN_LUA : Tool::ORIGIN_BUILTIN);
      tool->set_file(info.file);
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ToolServiceImpl::InvokeTool(grpc::CallbackServerContext* context,
                                                      const InvokeToolRequest* request,
                                                      InvokeToolResponse* response) {
  return HandleSlowUnary(context, env_, "ToolService.InvokeTool", *request,
                         [this, request, response](const std::string& tenant) {
    nlohmann::json arguments = nlohmann::json::object();
    if (!request->arguments_json().empty()) {
      if (engine::JsonNestedTooDeeply(request->arguments_json())) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            absl::StrCat("arguments_json: nested more than ", engine::kMaxJsonNesting, " levels deep"));
      }
      arguments = nlohmann::json::parse(request->arguments_json(), nullptr, false);
      if (arguments.is_discarded() || !arguments.is_object()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "arguments_json: must be a JSON object");
      }
    }
    if (request->timeout_ms() > 600000) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "timeout_ms: at most 600000");
    }
    const scripting::ScriptServices services = services_for_(tenant);
    auto result = registry_->Invoke(request->name(), arguments,
                                    {.timeout_seconds = request->timeout_ms() / 1000.0, .services = &services});
    if (!result.ok()) return ToGrpcStatus(result.status());
    response->set_result_json(result->result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    response->set_duration_ms(result->duration_ms);
    for (const std::string& line : result->logs) response->add_logs(line);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ToolServiceImpl::Reload(grpc::CallbackServerContext* context,
                                                  const ReloadRequest* request,
                                                  ReloadResponse* response) {
  // Refused on gRPC's thread (a caller without the right takes no place on the pool); run on
  // the call pool, since each file runs once to define its tools, up to a tool's time limit.
  if (grpc::Status admin = RequireAdmin(context, env_, "ToolService.Reload"); !admin.ok()) {
    return HandleUnary(context, env_, "ToolService.Reload", *request, [admin] { return admin; });
  }
  return HandleSlowUnary(context, env_, "ToolService.Reload", *request, [this, response](const std::string&) {
    std::vector<tools::ToolLoadError> errors;
    absl::StatusOr<std::vector<std::string>> loaded = registry_->Reload(&errors);
    if (!loaded.ok()) return ToGrpcStatus(loaded.status());
    for (const std::string& name : *loaded) response->add_loaded(name);
    for (const tools::ToolLoadError& e : errors) {
      ToolLoadError* out = response->add_errors();
      out->set_file(e.file);
      out->set_message(e.message);
    }
    return grpc::Status::OK;
  });
}

}  // namespace agentd::services
