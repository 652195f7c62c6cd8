// MemoryService handlers (proto/agentd/v1/memory.proto): conversions between the API and
// memory::MemoryStore. Calls run on gRPC's callback threads; ingest embeds with the engine
// and can take a while for large batches.
#ifndef AGENTD_SERVICES_MEMORY_SERVICE_H_
#define AGENTD_SERVICES_MEMORY_SERVICE_H_

#include "agentd/v1/memory.grpc.pb.h"
#include "memory/memory_store.h"
#include "rpc_support.h"

namespace agentd::services {

class MemoryServiceImpl final : public agentd::v1::MemoryService::CallbackService {
 public:
  // `store` must outlive the service.
  MemoryServiceImpl(const RpcEnvironment* env, memory::MemoryStore* store) : env_(*env), store_(store) {}

  grpc::ServerUnaryReactor* CreateCollection(grpc::CallbackServerContext* context,
                                             const agentd::v1::CreateCollectionRequest* request,
                                             agentd::v1::Collection* response) override;
  grpc::ServerUnaryReactor* ListCollections(grpc::CallbackServerContext* context,
                                            const agentd::v1::ListCollectionsRequest* request,
                                            agentd::v1::ListCollectionsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteCollection(grpc::CallbackServerContext* context,
                                             const agentd::v1::DeleteCollectionRequest* request,
                                             agentd::v1::DeleteCollectionResponse* response) override;
  grpc::ServerUnaryReactor* Ingest(grpc::CallbackServerContext* context, const agentd::v1::IngestRequest* request,
                                   agentd::v1::IngestResponse* response) override;
  grpc::ServerUnaryReactor* DeleteDocuments(grpc::CallbackServerContext* context,
                                            const agentd::v1::DeleteDocumentsRequest* request,
                                            agentd::v1::DeleteDocumentsResponse* response) override;
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* context, const agentd::v1::SearchRequest* request,
                                   agentd::v1::SearchResponse* response) override;
  grpc::ServerUnaryReactor* Stats(grpc::CallbackServerContext* context, const agentd::v1::StatsRequest* request,
                                  agentd::v1::CollectionStats* response) override;

 private:
  const RpcEnvironment& env_;
  memory::MemoryStore* store_;
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_MEMORY_SERVICE_H_
