#include "memory_service.h"

#include "absl/strings/str_cat.h"

namespace agentd::services {
namespace {

using namespace agentd::v1;

grpc::Status InvalidField(absl::string_view field, absl::string_view problem) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat(field, ": ", problem));
}

grpc::Status CheckCollectionName(absl::string_view field, absl::string_view name) {
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return InvalidField(field, "may contain only letters, digits, '_', '.' and '-'");
  }
  return grpc::Status::OK;
}

grpc::Status CheckCreate(const CreateCollectionRequest& request) {
  grpc::Status status = CheckCollectionName("name", request.name());
  if (!status.ok()) return status;
  const ChunkingSpec& chunking = request.chunking();
  uint32_t max_chars = chunking.max_chars() == 0 ? 512 : chunking.max_chars();
  uint32_t overlap = chunking.overlap_chars() == 0 ? 64 : chunking.overlap_chars();
  if (max_chars < 16 || max_chars > 65536) {
    return InvalidField("chunking.max_chars", "must be between 16 and 65536");
  }
  if (overlap >= max_chars) {
    return InvalidField("chunking.overlap_chars", "must be smaller than chunking.max_chars");
  }
  return grpc::Status::OK;
}

grpc::Status CheckSearch(const SearchRequest& request) {
  grpc::Status status = CheckCollectionName("collection", request.collection());
  if (!status.ok()) return status;
  if (request.k() > 1000) return InvalidField("k", "must be at most 1000");
  return grpc::Status::OK;
}

}  // namespace

grpc::ServerUnaryReactor* MemoryServiceImpl::CreateCollection(
    grpc::CallbackServerContext* context, const CreateCollectionRequest* request,
    Collection* response) {
  return HandleUnary(context, env_, "MemoryService.CreateCollection", *request, [&] {
    grpc::Status status = CheckCreate(*request);
    return status.ok() ? NotAvailable("MemoryService.CreateCollection") : status;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::ListCollections(
    grpc::CallbackServerContext* context, const ListCollectionsRequest* request,
    ListCollectionsResponse* response) {
  return HandleUnary(context, env_, "MemoryService.ListCollections", *request,
                     [&] { return NotAvailable("MemoryService.ListCollections"); });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::DeleteCollection(
    grpc::CallbackServerContext* context, const DeleteCollectionRequest* request,
    DeleteCollectionResponse* response) {
  return HandleUnary(context, env_, "MemoryService.DeleteCollection", *request, [&] {
    grpc::Status status = CheckCollectionName("name", request->name());
    return status.ok() ? NotAvailable("MemoryService.DeleteCollection") : status;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::Ingest(grpc::CallbackServerContext* context,
                                                    const IngestRequest* request,
                                                    IngestResponse* response) {
  return HandleUnary(context, env_, "MemoryService.Ingest", *request, [&] {
    grpc::Status status = CheckCollectionName("collection", request->collection());
    return status.ok() ? NotAvailable("MemoryService.Ingest") : status;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::DeleteDocuments(
    grpc::CallbackServerContext* context, const DeleteDocumentsRequest* request,
    DeleteDocumentsResponse* response) {
  return HandleUnary(context, env_, "MemoryService.DeleteDocuments", *request, [&] {
    grpc::Status status = CheckCollectionName("collection", request->collection());
    return status.ok() ? NotAvailable("MemoryService.DeleteDocuments") : status;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::Search(grpc::CallbackServerContext* context,
                                                    const SearchRequest* request,
                                                    SearchResponse* response) {
  return HandleUnary(context, env_, "MemoryService.Search", *request, [&] {
    grpc::Status status = CheckSearch(*request);
    return status.ok() ? NotAvailable("MemoryService.Search") : status;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::Stats(grpc::CallbackServerContext* context,
                                                   const StatsRequest* request,
                                                   CollectionStats* response) {
  return HandleUnary(context, env_, "MemoryService.Stats", *request, [&] {
    grpc::Status status = CheckCollectionName("collection", request->collection());
    return status.ok() ? NotAvailable("MemoryService.Stats") : status;
  });
}

}  // namespace agentd::services
