#include "agent_service.h"

#include "nlohmann/json.hpp"

namespace agentd::services {
namespace {

using namespace agentd::v1;

// Checks that go beyond the field annotations.
grpc::Status CheckStartRun(const StartRunRequest& request) {
  if (!request.inputs_json().empty()) {
    auto inputs = nlohmann::json::parse(request.inputs_json(), nullptr, false);
    if (inputs.is_discarded() || !inputs.is_object()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "inputs_json: must be a JSON object");
    }
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::ServerUnaryReactor* AgentServiceImpl::StartRun(grpc::CallbackServerContext* context,
                                                     const StartRunRequest* request,
                                                     StartRunResponse* response) {
  return HandleUnary(context, env_, "AgentService.StartRun", *request, [&] {
    grpc::Status status = CheckStartRun(*request);
    return status.ok() ? NotAvailable("AgentService.StartRun") : status;
  });
}

grpc::ServerWriteReactor<RunEvent>* AgentServiceImpl::StreamRun(
    grpc::CallbackServerContext* context, const StreamRunRequest* request) {
  if (auto* rejected = RejectInvalidStream<RunEvent>(env_, "AgentService.StreamRun", *request)) {
    return rejected;
  }
  return new FinishedWriteReactor<RunEvent>(NotAvailable("AgentService.StreamRun"));
}

grpc::ServerUnaryReactor* AgentServiceImpl::GetRun(grpc::CallbackServerContext* context,
                                                   const GetRunRequest* request, Run* response) {
  return HandleUnary(context, env_, "AgentService.GetRun", *request,
                     [&] { return NotAvailable("AgentService.GetRun"); });
}

grpc::ServerUnaryReactor* AgentServiceImpl::ListRuns(grpc::CallbackServerContext* context,
                                                     const ListRunsRequest* request,
                                                     ListRunsResponse* response) {
  return HandleUnary(context, env_, "AgentService.ListRuns", *request, [&] {
    if (request->page_size() > 1000) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size: at most 1000");
    }
    return NotAvailable("AgentService.ListRuns");
  });
}

grpc::ServerUnaryReactor* AgentServiceImpl::CancelRun(grpc::CallbackServerContext* context,
                                                      const CancelRunRequest* request,
                                                      Run* response) {
  return HandleUnary(context, env_, "AgentService.CancelRun", *request,
                     [&] { return NotAvailable("AgentService.CancelRun"); });
}

grpc::ServerUnaryReactor* AgentServiceImpl::ResumeRun(grpc::CallbackServerContext* context,
                                                      const ResumeRunRequest* request,
                                                      Run* response) {
  return HandleUnary(context, env_, "AgentService.ResumeRun", *request,
                     [&] { return NotAvailable("AgentService.ResumeRun"); });
}

}  // namespace agentd::services
