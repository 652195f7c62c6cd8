#include "model_service.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace agentd::services {
namespace {

using namespace agentd::v1;

grpc::Status InvalidField(absl::string_view prefix, absl::string_view field,
                          absl::string_view problem) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat(prefix, ".", field, ": ", problem));
}

bool InRange(float value, float lo, float hi) { return std::isfinite(value) && value >= lo && value <= hi; }

grpc::Status NoModel() {
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      "no model is loaded (start agentd with --model DIR)");
}

grpc::Status CheckGenerationCommon(const SamplingParams& sampling, uint32_t logprobs,
                                   const SpeculationOptions& speculation) {
  grpc::Status status = CheckSamplingParams(sampling, "sampling");
  if (!status.ok()) return status;
  if (logprobs > 20) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "logprobs: at most 20");
  }
  if (speculation.num_draft_tokens() > 16) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "speculation.num_draft_tokens: at most 16");
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status CheckSamplingParams(const SamplingParams& sampling, absl::string_view prefix) {
  if (!InRange(sampling.temperature(), 0.f, 10.f)) {
    return InvalidField(prefix, "temperature", "must be between 0 and 10");
  }
  if (!InRange(sampling.top_p(), 0.f, 1.f)) {
    return InvalidField(prefix, "top_p", "must be between 0 and 1");
  }
  if (!InRange(sampling.min_p(), 0.f, 1.f)) {
    return InvalidField(prefix, "min_p", "must be between 0 and 1");
  }
  if (!InRange(sampling.repetition_penalty(), 0.f, 10.f)) {
    return InvalidField(prefix, "repetition_penalty", "must be between 0 and 10");
  }
  if (!InRange(sampling.frequency_penalty(), -2.f, 2.f)) {
    return InvalidField(prefix, "frequency_penalty", "must be between -2 and 2");
  }
  if (!InRange(sampling.presence_penalty(), -2.f, 2.f)) {
    return InvalidField(prefix, "presence_penalty", "must be between -2 and 2");
  }
  return grpc::Status::OK;
}

grpc::ServerWriteReactor<GenerateResponse>* ModelServiceImpl::Generate(
    grpc::CallbackServerContext* context, const GenerateRequest* request) {
  if (auto* rejected = RejectInvalidStream<GenerateResponse>(env_, "ModelService.Generate", *request)) {
    return rejected;
  }
  grpc::Status status = CheckGenerationCommon(request->sampling(), request->logprobs(),
                                              request->speculation());
  if (status.ok() && request->input_case() == GenerateRequest::INPUT_NOT_SET) {
    status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "prompt: one of prompt or prompt_ids is required");
  }
  if (status.ok()) status = NoModel();
  LogRefusedCall("ModelService.Generate", status);
  return new FinishedWriteReactor<GenerateResponse>(status);
}

grpc::ServerWriteReactor<GenerateResponse>* ModelServiceImpl::Chat(
    grpc::CallbackServerContext* context, const ChatRequest* request) {
  if (auto* rejected = RejectInvalidStream<GenerateResponse>(env_, "ModelService.Chat", *request)) {
    return rejected;
  }
  grpc::Status status = CheckGenerationCommon(request->sampling(), request->logprobs(),
                                              request->speculation());
  if (status.ok()) status = NoModel();
  LogRefusedCall("ModelService.Chat", status);
  return new FinishedWriteReactor<GenerateResponse>(status);
}

grpc::ServerUnaryReactor* ModelServiceImpl::Tokenize(grpc::CallbackServerContext* context,
                                                     const TokenizeRequest* request,
                                                     TokenizeResponse* response) {
  return HandleUnary(context, env_, "ModelService.Tokenize", *request, [] { return NoModel(); });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Detokenize(grpc::CallbackServerContext* context,
                                                       const DetokenizeRequest* request,
                                                       DetokenizeResponse* response) {
  return HandleUnary(context, env_, "ModelService.Detokenize", *request, [] { return NoModel(); });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Embed(grpc::CallbackServerContext* context,
                                                  const EmbedRequest* request,
                                                  EmbedResponse* response) {
  return HandleUnary(context, env_, "ModelService.Embed", *request, [] { return NoModel(); });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ModelInfo(grpc::CallbackServerContext* context,
                                                      const ModelInfoRequest* request,
                                                      ModelInfoResponse* response) {
  return HandleUnary(context, env_, "ModelService.ModelInfo", *request, [] { return NoModel(); });
}

}  // namespace agentd::services
