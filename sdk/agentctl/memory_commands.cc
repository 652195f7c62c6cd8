#include "memory_commands.h"

#include <unistd.h>

#include "document_text.h"
#include "ingest_files.h"
#include "ingest_progress.h"
#include "terminal_text.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace agentctl {
namespace {

using namespace agentd::v1;
using Json = nlohmann::ordered_json;

int Fail(const std::string& message) {
  std::fprintf(stderr, "agentctl: %s\n", message.c_str());
  return 1;
}

int FailRpc(const grpc::Status& status, const sdk::Client& client) {
  return Fail(std::string(sdk::FromGrpcStatus(status, client.address()).message()));
}

void PrintJson(const Json& j) { std::printf("%s\n", j.dump(2, ' ', false, Json::error_handler_t::replace).c_str()); }


}  // namespace

std::function<int(sdk::Client&)> AddMemoryCommands(CLI::App* app) {
  CLI::App* memory = app->add_subcommand("memory", "vector memory: collections, ingest, search");
  memory->footer("Examples:\n  agentctl memory create reports\n  agentctl memory ingest reports docs/*.md papers/*.pdf\n"
                 "  agentctl memory search reports \"2023年中国AI Agent市场规模是多少？\" --k 3\n"
                 "  agentctl memory stats reports --json");
  memory->require_subcommand(1);

  auto name = std::make_shared<std::string>();
  auto index_kind = std::make_shared<std::string>("flat");
  auto embedding_model = std::make_shared<std::string>();
  auto max_chars = std::make_shared<uint32_t>(0);
  auto overlap_chars = std::make_shared<uint32_t>(0);
  CLI::App* create = memory->add_subcommand("create", "create a collection");
  create->add_option("name", *name, "collection name")->required();
  create->add_option("--index", *index_kind, "flat, hnsw or ivfpq (default flat)")
      ->check(CLI::IsMember({"flat", "hnsw", "ivfpq"}));
  create->add_option("--embedding-model", *embedding_model, "the daemon's model (default) or \"none\" for lexical only");
  create->add_option("--max-chars", *max_chars, "chunk size in characters (default 512)");
  create->add_option("--overlap", *overlap_chars, "chunk overlap in characters (default 64)");

  CLI::App* list = memory->add_subcommand("list", "list collections");
  auto list_json = std::make_shared<bool>(false);
  list->add_flag("--json", *list_json, "print JSON");

  auto ingest_name = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto batch_size = std::make_shared<int>(16);
  CLI::App* ingest = memory->add_subcommand("ingest", "ingest text, Markdown, HTML or PDF files (one document each, as their text)");
  ingest->add_option("name", *ingest_name, "collection name")->required();
  ingest->add_option("files", *files, "files, or directories whose text, Markdown, HTML and PDF files are all taken")->required();
  ingest->add_option("--batch", *batch_size, "documents per request (default 16)")->check(CLI::Range(1, 256));
  auto pdf_seconds = std::make_shared<int>(DocumentTextOptions{}.pdf_seconds);
  ingest->add_option("--pdf-timeout", *pdf_seconds, "seconds a PDF may take to read before it is skipped (default 120)")
      ->check(CLI::Range(1, 86400));
  auto ingest_json = std::make_shared<bool>(false);
  ingest->add_flag("--json", *ingest_json, "print the counts as JSON (and no progress line)");

  auto search_name = std::make_shared<std::string>();
  auto query = std::make_shared<std::string>();
  auto k = std::make_shared<uint32_t>(5);
  auto mode = std::make_shared<std::string>("hybrid");
  auto search_json = std::make_shared<bool>(false);
  auto whole_sentences = std::make_shared<bool>(false);
  CLI::App* search = memory->add_subcommand("search", "search a collection");
  search->add_option("name", *search_name, "collection name")->required();
  search->add_option("query", *query, "query text")->required();
  search->add_option("--k", *k, "hits to return (default 5)")->check(CLI::Range(1, 1000));
  search->add_option("--mode", *mode, "hybrid, vector or lexical (default hybrid)")
      ->check(CLI::IsMember({"hybrid", "vector", "lexical"}));
  search->add_flag("--json", *search_json, "print {\"hits\": [...]} as JSON");
  search->add_flag("--whole-sentences", *whole_sentences,
                   "widen each hit to the sentences its chunk was cut inside (for quoting)");

  auto delete_name = std::make_shared<std::string>();
  auto delete_documents = std::make_shared<std::vector<std::string>>();
  CLI::App* remove = memory->add_subcommand("delete", "delete a collection, or only the given documents of it");
  remove->add_option("name", *delete_name, "collection name")->required();
  remove->add_option("--documents", *delete_documents, "document ids to delete (default: the whole collection)");

  auto stats_name = std::make_shared<std::string>();
  auto stats_json = std::make_shared<bool>(false);
  CLI::App* stats = memory->add_subcommand("stats", "counts and index state of a collection");
  stats->add_option("name", *stats_name, "collection name")->required();
  stats->add_flag("--json", *stats_json, "print JSON");

  return [=](sdk::Client& client) -> int {
    if (create->parsed()) {
      CreateCollectionRequest request;
      request.set_name(*name);
      request.set_embedding_model(*embedding_model);
      request.mutable_index()->set_kind(*index_kind == "hnsw" ? INDEX_KIND_HNSW
                                        : *index_kind == "ivfpq" ? INDEX_KIND_IVF_PQ
                                                                 : INDEX_KIND_FLAT);
      request.mutable_chunking()->set_max_chars(*max_chars);
      request.mutable_chunking()->set_overlap_chars(*overlap_chars);
      Collection collection;
      grpc::Status status = client.memory().CreateCollection(client.NewContext().get(), request, &collection);
      if (!status.ok()) return FailRpc(status, client);
      std::printf("created %s (%s, dimension %u, %s index)\n", collection.name().c_str(),
                  collection.embedding_model().c_str(), collection.dimension(), index_kind->c_str());
      return 0;
    }
    if (list->parsed()) {
      ListCollectionsResponse response;
      grpc::Status status = client.memory().ListCollections(client.NewContext().get(), ListCollectionsRequest(), &response);
      if (!status.ok()) return FailRpc(status, client);
      Json out = Json::array();
      auto mib = [](uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); };
      for (const Collection& c : response.collections()) {
        out.push_back({{"name", c.name()}, {"embedding_model", c.embedding_model()}, {"dimension", c.dimension()},
                       {"documents", c.document_count()}, {"chunks", c.chunk_count()}, {"stored_bytes", c.stored_bytes()}});
        if (!*list_json) {
          std::printf("%-24s %6llu documents %7llu chunks %9.1f MiB  %s\n", c.name().c_str(),
                      static_cast<unsigned long long>(c.document_count()), static_cast<unsigned long long>(c.chunk_count()),
                      mib(c.stored_bytes()), c.embedding_model().c_str());
        }
      }
      const Json tenant = {{"stored_bytes", response.tenant_stored_bytes()},
                           {"max_stored_bytes", response.tenant_max_stored_bytes()},
                           {"max_collections", response.tenant_max_collections()}};
      if (*list_json) {
        PrintJson({{"collections", out}, {"tenant", tenant}});
      } else if (response.tenant_max_stored_bytes() > 0 || response.tenant_max_collections() > 0) {
        // A limit of 0 is none; only the ones set are worth a line.
        std::string line = absl::StrFormat("this tenant: %.1f MiB stored", mib(response.tenant_stored_bytes()));
        if (response.tenant_max_stored_bytes() > 0) {
          absl::StrAppendFormat(&line, " of %.1f MiB", mib(response.tenant_max_stored_bytes()));
        }
        absl::StrAppendFormat(&line, ", %d collections", response.collections_size());
        if (response.tenant_max_collections() > 0) {
          absl::StrAppendFormat(&line, " of %llu", static_cast<unsigned long long>(response.tenant_max_collections()));
        }
        std::printf("%s\n", line.c_str());
      }
      return 0;
    }
    if (ingest->parsed()) {
      absl::StatusOr<std::vector<IngestFile>> listed = ListIngestFiles(*files);
      if (!listed.ok()) return Fail(std::string(listed.status().message()));
      size_t created = 0, updated = 0, unchanged = 0, chunks = 0;
      uint64_t total_bytes = 0;
      for (const IngestFile& file : *listed) total_bytes += file.bytes;
      IngestProgress progress(listed->size(), total_bytes, !*ingest_json && isatty(STDERR_FILENO) != 0);
      // A file that cannot be read (a scan without text, a damaged PDF, another encoding) does
      // not hold back the others: each is named, with what to do, once the rest are in, and the
      // exit status says that not everything was.
      std::vector<std::string> skipped;
      for (size_t i = 0; i < listed->size(); i += static_cast<size_t>(*batch_size)) {
        IngestRequest request;
        request.set_collection(*ingest_name);
        uint64_t batch_bytes = 0;
        size_t batch_files = 0;
        for (size_t j = i; j < std::min(listed->size(), i + static_cast<size_t>(*batch_size)); ++j) {
          const IngestFile& file = (*listed)[j];
          batch_bytes += file.bytes;
          ++batch_files;
          if (file.id.size() > 256) {
            skipped.push_back(file.path + ": its document id \"" + file.id + "\" is longer than an id may be (256 bytes)");
            continue;
          }
          // Text, HTML and PDF files, as their text (document_text.h); what the daemon would
          // refuse is said here about the file rather than a request field.
          DocumentTextOptions reading;
          reading.pdf_seconds = *pdf_seconds;
          absl::StatusOr<DocumentText> read = ReadDocumentText(file.path, reading);
          if (!read.ok()) {
            skipped.push_back(std::string(read.status().message()));
            continue;
          }
          Document* doc = request.add_documents();
          doc->set_text(std::move(read->text));
          if (!read->title.empty()) doc->set_title(read->title);
          doc->set_id(file.id);
          doc->set_source(file.path);
          doc->set_content_type(read->content_type);
        }
        size_t batch_chunks = 0;
        if (request.documents_size() > 0) {
          IngestResponse response;
          progress.Sending(request.documents(0).id(), static_cast<size_t>(request.documents_size()));
          grpc::Status status = client.memory().Ingest(client.NewContext(false).get(), request, &response);
          if (!status.ok()) {
            progress.Finish();
            for (const std::string& message : skipped) std::fprintf(stderr, "agentctl: skipped %s\n", message.c_str());
            return FailRpc(status, client);
          }
          for (const IngestResult& r : response.results()) {
            batch_chunks += r.chunk_count();
            if (r.outcome() == IngestResult::OUTCOME_CREATED) ++created;
            else if (r.outcome() == IngestResult::OUTCOME_UPDATED) ++updated;
            else ++unchanged;
          }
          chunks += batch_chunks;
        }
        progress.Done(batch_files, batch_bytes, batch_chunks);
      }
      progress.Finish();
      for (const std::string& message : skipped) std::fprintf(stderr, "agentctl: skipped %s\n", message.c_str());
      const size_t ingested = listed->size() - skipped.size();
      if (*ingest_json) {
        PrintJson({{"collection", *ingest_name}, {"files", ingested}, {"created", created}, {"updated", updated},
                   {"unchanged", unchanged}, {"chunks", chunks}, {"skipped", skipped.size()}});
      } else {
        std::printf("ingested %zu files into %s: %zu created, %zu updated, %zu unchanged (%zu chunks)%s\n", ingested,
                    ingest_name->c_str(), created, updated, unchanged, chunks,
                    skipped.empty() ? "" : absl::StrFormat("; %zu skipped (above)", skipped.size()).c_str());
      }
      return skipped.empty() ? 0 : 1;
    }
    if (search->parsed()) {
      SearchRequest request;
      request.set_collection(*search_name);
      request.set_query(*query);
      request.set_k(*k);
      request.set_mode(*mode == "vector" ? SEARCH_MODE_VECTOR : *mode == "lexical" ? SEARCH_MODE_LEXICAL : SEARCH_MODE_HYBRID);
      request.set_whole_sentences(*whole_sentences);
      SearchResponse response;
      grpc::Status status = client.memory().Search(client.NewContext().get(), request, &response);
      if (!status.ok()) return FailRpc(status, client);
      if (*search_json) {
        Json hits = Json::array();
        for (const SearchHit& h : response.hits()) {
          hits.push_back({{"text", h.text()},
                          {"score", h.score()},
                          {"document", h.document_id()},
                          {"offsets", {h.span().start(), h.span().end()}},
                          {"title", h.title()},
                          {"source", h.source()},
                          {"chunk_id", h.chunk_id()},
                          {"vector_rank", h.vector_rank()},
                          {"lexical_rank", h.lexical_rank()},
                          {"starts_sentence", h.starts_sentence()}});
        }
        PrintJson({{"hits", hits}});
        return 0;
      }
      int n = 0;
      for (const SearchHit& h : response.hits()) {
        std::printf("[%d] %.4f  %s  [%llu, %llu)  %s\n    %s\n", ++n, h.score(), Printable(h.document_id()).c_str(),
                    static_cast<unsigned long long>(h.span().start()), static_cast<unsigned long long>(h.span().end()),
                    Printable(h.title()).c_str(), Clip(h.text(), 300).c_str());
      }
      return 0;
    }
    if (remove->parsed()) {
      if (delete_documents->empty()) {
        DeleteCollectionRequest request;
        request.set_name(*delete_name);
        DeleteCollectionResponse response;
        grpc::Status status = client.memory().DeleteCollection(client.NewContext().get(), request, &response);
        if (!status.ok()) return FailRpc(status, client);
        std::printf("deleted collection %s (%llu documents)\n", delete_name->c_str(),
                    static_cast<unsigned long long>(response.deleted_documents()));
        return 0;
      }
      DeleteDocumentsRequest request;
      request.set_collection(*delete_name);
      for (const std::string& id : *delete_documents) request.add_document_ids(id);
      DeleteDocumentsResponse response;
      grpc::Status status = client.memory().DeleteDocuments(client.NewContext().get(), request, &response);
      if (!status.ok()) return FailRpc(status, client);
      std::printf("deleted %d of %zu documents\n", response.deleted_size(), delete_documents->size());
      return 0;
    }
    if (stats->parsed()) {
      StatsRequest request;
      request.set_collection(*stats_name);
      CollectionStats response;
      grpc::Status status = client.memory().Stats(client.NewContext().get(), request, &response);
      if (!status.ok()) return FailRpc(status, client);
      Json out = {{"collection", response.collection().name()},
                  {"embedding_model", response.collection().embedding_model()},
                  {"dimension", response.collection().dimension()},
                  {"documents", response.collection().document_count()},
                  {"chunks", response.collection().chunk_count()},
                  {"vectors", response.vector_count()},
                  {"terms", response.term_count()},
                  {"index_sequence", response.index_sequence()},
                  {"store_sequence", response.store_sequence()},
                  {"index_bytes", response.index_bytes()},
                  {"store_bytes", response.store_bytes()}};
      if (*stats_json) {
        PrintJson(out);
      } else {
        for (const auto& [key, value] : out.items()) std::printf("%-16s %s\n", key.c_str(), value.dump().c_str());
      }
      return 0;
    }
    return -1;
  };
}

}  // namespace agentctl
