#include "memory_service.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace agentd::services {
namespace {

using namespace agentd::v1;

grpc::Status InvalidField(absl::string_view field, absl::string_view problem) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat(field, ": ", problem));
}

grpc::Status CheckName(absl::string_view field, const std::string& name) {
  if (!memory::IsValidCollectionName(name)) {
    return InvalidField(field, "may contain only letters, digits, '_', '.' and '-' (1-64 characters)");
  }
  return grpc::Status::OK;
}

memory::IndexKind ToMemory(IndexKind kind) {
  switch (kind) {
    case INDEX_KIND_HNSW: return memory::IndexKind::kHnsw;
    case INDEX_KIND_IVF_PQ: return memory::IndexKind::kIvfPq;
    default: return memory::IndexKind::kFlat;
  }
}
IndexKind ToProto(memory::IndexKind kind) {
  switch (kind) {
    case memory::IndexKind::kHnsw: return INDEX_KIND_HNSW;
    case memory::IndexKind::kIvfPq: return INDEX_KIND_IVF_PQ;
    default: return INDEX_KIND_FLAT;
  }
}
memory::Metric ToMemory(Metric metric) {
  switch (metric) {
    case METRIC_INNER_PRODUCT: return memory::Metric::kInnerProduct;
    case METRIC_L2: return memory::Metric::kL2;
    default: return memory::Metric::kCosine;
  }
}
Metric ToProto(memory::Metric metric) {
  switch (metric) {
    case memory::Metric::kInnerProduct: return METRIC_INNER_PRODUCT;
    case memory::Metric::kL2: return METRIC_L2;
    default: return METRIC_COSINE;
  }
}

void ToProto(const memory::CollectionInfo& info, Collection* out) {
  const memory::CollectionSpec& s = info.spec;
  out->set_name(s.name);
  out->set_tenant(s.tenant);
  out->set_embedding_model(s.embedding_model);
  out->set_dimension(static_cast<uint32_t>(info.dimension));
  IndexSpec* index = out->mutable_index();
  index->set_kind(ToProto(s.index.kind));
  index->set_metric(ToProto(s.index.metric));
  index->set_hnsw_m(s.index.hnsw_m);
  index->set_hnsw_ef_construction(s.index.hnsw_ef_construction);
  index->set_hnsw_ef_search(s.index.hnsw_ef_search);
  index->set_ivf_nlist(s.index.ivf_nlist);
  index->set_ivf_nprobe(s.index.ivf_nprobe);
  index->set_pq_m(s.index.pq_m);
  index->set_pq_nbits(s.index.pq_nbits);
  out->mutable_chunking()->set_max_chars(static_cast<uint32_t>(s.chunking.max_chars));
  out->mutable_chunking()->set_overlap_chars(static_cast<uint32_t>(s.chunking.overlap_chars));
  out->set_description(s.description);
  *out->mutable_created_at() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(info.created_at_ms);
  out->set_document_count(info.document_count);
  out->set_chunk_count(info.chunk_count);
  out->set_stored_bytes(info.stored_bytes);
}

}  // namespace

grpc::ServerUnaryReactor* MemoryServiceImpl::CreateCollection(grpc::CallbackServerContext* context,
                                                              const CreateCollectionRequest* request, Collection* response) {
  return HandleUnary(context, env_, "MemoryService.CreateCollection", *request, [&](const std::string& tenant) {
    grpc::Status status = CheckName("name", request->name());
    if (!status.ok()) return status;
    memory::CollectionSpec spec;
    spec.tenant = tenant;
    spec.name = request->name();
    spec.embedding_model = request->embedding_model();
    spec.description = request->description();
    const IndexSpec& index = request->index();
    spec.index.kind = ToMemory(index.kind());
    spec.index.metric = ToMemory(index.metric());
    spec.index.hnsw_m = static_cast<int>(index.hnsw_m());
    spec.index.hnsw_ef_construction = static_cast<int>(index.hnsw_ef_construction());
    spec.index.hnsw_ef_search = static_cast<int>(index.hnsw_ef_search());
    spec.index.ivf_nlist = static_cast<int>(index.ivf_nlist());
    spec.index.ivf_nprobe = static_cast<int>(index.ivf_nprobe());
    spec.index.pq_m = static_cast<int>(index.pq_m());
    spec.index.pq_nbits = static_cast<int>(index.pq_nbits());
    if (index.hnsw_m() > 256) return InvalidField("index.hnsw_m", "at most 256");
    if (index.ivf_nlist() > 1 << 20) return InvalidField("index.ivf_nlist", "at most 1048576");
    if (index.pq_nbits() > 16) return InvalidField("index.pq_nbits", "at most 16");
    spec.chunking.max_chars = request->chunking().max_chars() == 0 ? 512 : static_cast<int>(std::min<uint32_t>(request->chunking().max_chars(), 1 << 20));
    spec.chunking.overlap_chars = request->chunking().overlap_chars() == 0 ? 64 : static_cast<int>(std::min<uint32_t>(request->chunking().overlap_chars(), 1 << 20));
    auto info = store_->CreateCollection(spec);
    if (!info.ok()) return ToGrpcStatus(info.status());
    ToProto(*info, response);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::ListCollections(grpc::CallbackServerContext* context,
                                                             const ListCollectionsRequest* request,
                                                             ListCollectionsResponse* response) {
  return HandleUnary(context, env_, "MemoryService.ListCollections", *request, [&](const std::string& tenant) {
    auto list = store_->ListCollections(tenant);
    if (!list.ok()) return ToGrpcStatus(list.status());
    for (const memory::CollectionInfo& info : *list) ToProto(info, response->add_collections());
    const memory::TenantUsage usage = store_->Usage(tenant);
    response->set_tenant_stored_bytes(usage.stored_bytes);
    response->set_tenant_max_stored_bytes(usage.max_stored_bytes);
    response->set_tenant_max_collections(usage.max_collections);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::DeleteCollection(grpc::CallbackServerContext* context,
                                                              const DeleteCollectionRequest* request,
                                                              DeleteCollectionResponse* response) {
  return HandleUnary(context, env_, "MemoryService.DeleteCollection", *request, [&](const std::string& tenant) {
    auto deleted = store_->DeleteCollection(tenant, request->name());
    if (!deleted.ok()) return ToGrpcStatus(deleted.status());
    response->set_deleted_documents(*deleted);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::Ingest(grpc::CallbackServerContext* context, const IngestRequest* request,
                                                    IngestResponse* response) {
  return HandleSlowUnary(context, env_, "MemoryService.Ingest", *request,
                         [this, request, response](const std::string& tenant) {
    std::vector<memory::DocumentInput> documents;
    for (const Document& d : request->documents()) {
      memory::DocumentInput input;
      input.id = d.id();
      input.text = d.text();
      input.title = d.title();
      input.source = d.source();
      input.date = d.date();
      input.metadata.insert(d.metadata().begin(), d.metadata().end());
      documents.push_back(std::move(input));
    }
    auto results = store_->Ingest(tenant, request->collection(), documents);
    if (!results.ok()) return ToGrpcStatus(results.status());
    for (const memory::IngestResult& r : *results) {
      IngestResult* out = response->add_results();
      out->set_document_id(r.document_id);
      out->set_outcome(r.outcome == memory::IngestOutcome::kCreated   ? IngestResult::OUTCOME_CREATED
                       : r.outcome == memory::IngestOutcome::kUpdated ? IngestResult::OUTCOME_UPDATED
                                                                      : IngestResult::OUTCOME_UNCHANGED);
      out->set_chunk_count(r.chunk_count);
      out->set_content_sha256(r.content_sha256);
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::DeleteDocuments(grpc::CallbackServerContext* context,
                                                             const DeleteDocumentsRequest* request,
                                                             DeleteDocumentsResponse* response) {
  return HandleUnary(context, env_, "MemoryService.DeleteDocuments", *request, [&](const std::string& tenant) {
    std::vector<std::string> ids(request->document_ids().begin(), request->document_ids().end());
    auto deleted = store_->DeleteDocuments(tenant, request->collection(), ids);
    if (!deleted.ok()) return ToGrpcStatus(deleted.status());
    for (const std::string& id : *deleted) response->add_deleted(id);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::Search(grpc::CallbackServerContext* context, const SearchRequest* request,
                                                    SearchResponse* response) {
  return HandleSlowUnary(context, env_, "MemoryService.Search", *request,
                         [this, request, response](const std::string& tenant) {
    if (request->k() > 1000) return InvalidField("k", "must be at most 1000");
    memory::SearchQuery query;
    query.tenant = tenant;
    query.collection = request->collection();
    query.query = request->query();
    query.k = request->k() == 0 ? 10 : static_cast<int>(request->k());
    query.mode = request->mode() == SEARCH_MODE_VECTOR    ? memory::SearchMode::kVector
                 : request->mode() == SEARCH_MODE_LEXICAL ? memory::SearchMode::kLexical
                                                          : memory::SearchMode::kHybrid;
    const SearchFilter& f = request->filter();
    query.filter.metadata_equals.insert(f.metadata_equals().begin(), f.metadata_equals().end());
    query.filter.date_from = f.date_from();
    query.filter.date_to = f.date_to();
    query.filter.document_ids.assign(f.document_ids().begin(), f.document_ids().end());
    query.whole_sentences = request->whole_sentences();
    auto hits = store_->Search(query);
    if (!hits.ok()) return ToGrpcStatus(hits.status());
    for (const memory::SearchHit& h : *hits) {
      SearchHit* out = response->add_hits();
      out->set_chunk_id(std::to_string(h.chunk_id));
      out->set_document_id(h.document_id);
      out->set_title(h.title);
      out->set_source(h.source);
      out->set_text(h.text);
      out->set_score(h.score);
      out->mutable_span()->set_start(h.start);
      out->mutable_span()->set_end(h.end);
      out->set_vector_score(h.vector_score);
      out->set_lexical_score(h.lexical_score);
      out->set_vector_rank(h.vector_rank);
      out->set_lexical_rank(h.lexical_rank);
      out->mutable_metadata()->insert(h.metadata.begin(), h.metadata.end());
      out->set_date(h.date);
      out->set_starts_sentence(h.starts_sentence);
      out->set_issuer(h.issuer);
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MemoryServiceImpl::Stats(grpc::CallbackServerContext* context, const StatsRequest* request,
                                                   CollectionStats* response) {
  return HandleUnary(context, env_, "MemoryService.Stats", *request, [&](const std::string& tenant) {
    auto stats = store_->Stats(tenant, request->collection());
    if (!stats.ok()) return ToGrpcStatus(stats.status());
    ToProto(stats->info, response->mutable_collection());
    response->set_vector_count(stats->vector_count);
    response->set_term_count(stats->term_count);
    response->set_index_sequence(stats->index_sequence);
    response->set_store_sequence(stats->store_sequence);
    response->set_index_bytes(stats->index_bytes);
    response->set_store_bytes(stats->store_bytes);
    return grpc::Status::OK;
  });
}

}  // namespace agentd::services
