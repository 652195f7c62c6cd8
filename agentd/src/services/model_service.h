// ModelService handlers (proto/agentd/v1/model.proto).
#ifndef AGENTD_SERVICES_MODEL_SERVICE_H_
#define AGENTD_SERVICES_MODEL_SERVICE_H_

#include "agentd/v1/model.grpc.pb.h"
#include "rpc_support.h"

namespace agentd::services {

class ModelServiceImpl final : public agentd::v1::ModelService::CallbackService {
 public:
  explicit ModelServiceImpl(const RpcEnvironment* env) : env_(*env) {}

  grpc::ServerWriteReactor<agentd::v1::GenerateResponse>* Generate(
      grpc::CallbackServerContext* context, const agentd::v1::GenerateRequest* request) override;
  grpc::ServerWriteReactor<agentd::v1::GenerateResponse>* Chat(
      grpc::CallbackServerContext* context, const agentd::v1::ChatRequest* request) override;
  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* context,
                                     const agentd::v1::TokenizeRequest* request,
                                     agentd::v1::TokenizeResponse* response) override;
  grpc::ServerUnaryReactor* Detokenize(grpc::CallbackServerContext* context,
                                       const agentd::v1::DetokenizeRequest* request,
                                       agentd::v1::DetokenizeResponse* response) override;
  grpc::ServerUnaryReactor* Embed(grpc::CallbackServerContext* context,
                                  const agentd::v1::EmbedRequest* request,
                                  agentd::v1::EmbedResponse* response) override;
  grpc::ServerUnaryReactor* ModelInfo(grpc::CallbackServerContext* context,
                                      const agentd::v1::ModelInfoRequest* request,
                                      agentd::v1::ModelInfoResponse* response) override;

 private:
  const RpcEnvironment& env_;
};

// Range checks on sampling parameters that the annotations cannot express. `prefix` is the
// field path of the SamplingParams message ("sampling").
grpc::Status CheckSamplingParams(const agentd::v1::SamplingParams& sampling,
                                 absl::string_view prefix);

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_MODEL_SERVICE_H_
