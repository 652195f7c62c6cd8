// ModelService handlers (proto/agentd/v1/model.proto): thin adapters from the API's messages to
// engine::Engine. Without --model every call answers FAILED_PRECONDITION.
#ifndef AGENTD_SERVICES_MODEL_SERVICE_H_
#define AGENTD_SERVICES_MODEL_SERVICE_H_

#include "agentd/v1/model.grpc.pb.h"
#include "engine/engine.h"
#include "rpc_support.h"
#include "stream_slots.h"

namespace agentd::services {

struct ModelServiceOptions {
  // Generate/Chat calls streaming at once, over all tenants (each holds a thread); more are
  // RESOURCE_EXHAUSTED. Default 256.
  uint64_t max_streams = 256;
  // Of those, the most one tenant may hold, so that one tenant's streams cannot refuse every
  // other tenant's; 0 (the default): all of max_streams.
  uint64_t max_streams_per_tenant = 0;
};

class ModelServiceImpl final : public agentd::v1::ModelService::CallbackService {
 public:
  // `engine` may be null (no model loaded); `embedding_engine` is the --embedding-model or null
  // (the model embeds). Both must outlive the service.
  ModelServiceImpl(const RpcEnvironment* env, engine::Engine* engine, engine::Engine* embedding_engine = nullptr,
                   const ModelServiceOptions& options = {})
      : env_(*env),
        engine_(engine),
        embedding_engine_(embedding_engine),
        streams_(options.max_streams, options.max_streams_per_tenant) {}

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

  // The generations that may hold a thread at once, shared with the HTTP side's.
  StreamSlots* stream_slots() { return &streams_; }

 private:
  // FAILED_PRECONDITION without a model, NOT_FOUND for another model's name.
  grpc::Status CheckModel(const std::string& requested) const;
  // The engine Embed uses for `requested`: the embedding model by default or by name, else the
  // model (as CheckModel allows it). Null with *status set when there is none.
  engine::Engine* EmbeddingEngine(const std::string& requested, grpc::Status* status) const;
  // A stream slot of `tenant`'s for `method`, or RESOURCE_EXHAUSTED when all are taken or the
  // tenant holds its share.
  std::optional<StreamSlots::Slot> TakeStreamSlot(const char* method, const std::string& tenant, grpc::Status* status);

  const RpcEnvironment& env_;
  engine::Engine* engine_;
  engine::Engine* embedding_engine_;
  StreamSlots streams_;
};

// Range checks on sampling parameters that the annotations cannot express. `prefix` is the
// field path of the SamplingParams message ("sampling").
grpc::Status CheckSamplingParams(const agentd::v1::SamplingParams& sampling, absl::string_view prefix);

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_MODEL_SERVICE_H_
