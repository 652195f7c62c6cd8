// Vector memory: named collections of documents per tenant, chunked, embedded and indexed both
// by FAISS and by BM25, searched by vector, lexical or hybrid retrieval (a convex combination of
// the two scores, each scaled over its list) with metadata filters.
//
// RocksDB (DIR/db) is the source of truth: one atomic, WAL-synced write batch per document
// holds the document, its chunks, vectors and lexical postings, so an acknowledged Ingest
// survives kill -9. The in-memory BM25 index is rebuilt from the postings at open; each FAISS
// index is saved to DIR/index/<collection>.faiss with the RocksDB sequence number it reflects,
// and at open the writes after that number are replayed from the WAL (or the index is rebuilt
// from the stored vectors when the file is missing, corrupt or the WAL no longer reaches back).
// Search results are always checked against the store, so a hit never names a chunk the store
// does not have.
//
//   memory::MemoryStoreOptions options;
//   options.path = data_dir + "/memory";
//   options.embedder = &embedder;          // or nullptr: lexical-only collections
//   auto store = memory::MemoryStore::Open(options);
//   (*store)->CreateCollection({.tenant = "t", .name = "reports"});
//   (*store)->Ingest("t", "reports", {{.text = "..."}});
//   auto hits = (*store)->Search({.tenant = "t", .collection = "reports", .query = "...", .k = 5});
#ifndef AGENTD_MEMORY_MEMORY_STORE_H_
#define AGENTD_MEMORY_MEMORY_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "memory/embedder.h"
#include "memory/types.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace memory {

struct MemoryStoreOptions {
  // Directory; created when missing. Required.
  std::string path;
  // Embeds chunks and queries; nullptr allows only lexical-only collections. Not owned; must
  // outlive the store.
  Embedder* embedder = nullptr;
  // Sync the WAL before Ingest/Delete return (default true: acknowledged means durable).
  bool sync_writes = true;
  // Vectors added to a collection between saves of its FAISS index. Default 4096.
  uint64_t index_save_interval = 4096;
  // Told each search's duration in seconds (the daemon's metrics). Optional.
  std::function<void(double seconds)> on_search;
  // The Env the store's files (database and vector indexes) are written through; nullptr for
  // the default. Tests pass one that fails on demand. Not owned; outlives the store.
  rocksdb::Env* env = nullptr;
  // Told when a vector index could not be saved (a full disk) where that costs nothing else:
  // the store has the vectors, and the next open replays or rebuilds them. Optional.
  std::function<void(const absl::Status& status)> on_index_not_saved;
  // One tenant's share of the store, so that one tenant cannot fill the disk every tenant's data
  // lives on. Stored bytes are those of the records a tenant's documents were written as (chunk
  // text, vectors, lexical postings, the document's record) and of their vectors' copies in the
  // FAISS index files, before the database compresses them (an approximation of the disk they
  // take: the database's own overhead is not counted); an ingest that would take the tenant past the limit is RESOURCE_EXHAUSTED naming the
  // document, and nothing of that document is written (an update that makes a document smaller
  // is always let through). 0 (the default): no limit.
  uint64_t max_stored_bytes_per_tenant = 0;
  // Collections one tenant may have (each keeps an index in memory and a file). 0 (the
  // default): no limit.
  uint64_t max_collections_per_tenant = 0;
};

// What a tenant holds in the store, against its limits (0: none).
struct TenantUsage {
  uint64_t stored_bytes = 0;
  uint64_t collections = 0;
  uint64_t max_stored_bytes = 0;
  uint64_t max_collections = 0;
};

class MemoryStore {
 public:
  static absl::StatusOr<std::unique_ptr<MemoryStore>> Open(const MemoryStoreOptions& options);
  virtual ~MemoryStore() = default;

  // ALREADY_EXISTS for a name the tenant uses; RESOURCE_EXHAUSTED when the tenant has
  // max_collections_per_tenant; INVALID_ARGUMENT naming the field otherwise.
  virtual absl::StatusOr<CollectionInfo> CreateCollection(const CollectionSpec& spec) = 0;
  virtual absl::StatusOr<std::vector<CollectionInfo>> ListCollections(const std::string& tenant) = 0;
  // Removes the collection with all its data; returns how many documents it had.
  virtual absl::StatusOr<uint64_t> DeleteCollection(const std::string& tenant, const std::string& name) = 0;
  // Each document is committed on its own, in order; on an error the documents before it are
  // committed and the error names the failing one (documents[i]). RESOURCE_EXHAUSTED for a
  // document that would take the tenant past max_stored_bytes_per_tenant.
  virtual absl::StatusOr<std::vector<IngestResult>> Ingest(const std::string& tenant, const std::string& collection,
                                                           const std::vector<DocumentInput>& documents) = 0;
  // Ids that existed and were deleted.
  virtual absl::StatusOr<std::vector<std::string>> DeleteDocuments(const std::string& tenant,
                                                                   const std::string& collection,
                                                                   const std::vector<std::string>& ids) = 0;
  virtual absl::StatusOr<std::vector<SearchHit>> Search(const SearchQuery& query) = 0;
  // The document around a passage, for showing a citation where it stands. NOT_FOUND naming
  // the collection or document; OUT_OF_RANGE when the span is empty or past the document's end.
  virtual absl::StatusOr<PassageWindow> ReadPassage(const PassageQuery& query) = 0;
  virtual absl::StatusOr<CollectionStats> Stats(const std::string& tenant, const std::string& collection) = 0;
  virtual TenantUsage Usage(const std::string& tenant) const = 0;
  // Saves the vector indexes and closes the database. Idempotent; the destructor calls it.
  virtual absl::Status Close() = 0;
};

// True for [A-Za-z0-9_.-]{1,64}.
bool IsValidCollectionName(const std::string& name);

}  // namespace memory

#endif  // AGENTD_MEMORY_MEMORY_STORE_H_
