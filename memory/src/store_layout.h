// The memory store's on-disk layout in RocksDB: its column families, how keys are encoded
// (a 4-byte big-endian collection id, then the chunk id or document id or term, so one
// collection's records are one key range), and the JSON records it stores for collections and
// documents. Reading a record never throws: a damaged one is DATA_LOSS naming what it was.
#ifndef AGENTD_MEMORY_STORE_LAYOUT_H_
#define AGENTD_MEMORY_STORE_LAYOUT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "memory/document_title.h"
#include "memory/types.h"

namespace memory::internal {

enum Family { kDefault = 0, kMeta, kCollections, kDocuments, kChunks, kVectors, kPostings, kFamilyCount };
const char* const kFamilyNames[] = {"default", "meta", "collections", "documents", "chunks", "vectors", "postings"};

std::string BigEndian32(uint32_t v);
std::string BigEndian64(uint64_t v);
uint64_t ReadBigEndian(const char* p, int bytes);
// The key prefix of everything of one collection.
std::string Prefix(uint32_t collection);
std::string ChunkKey(uint32_t c, uint64_t chunk);
std::string DocKey(uint32_t c, const std::string& id);
std::string PostingKey(uint32_t c, const std::string& term, uint64_t chunk);
std::string CounterKey(uint32_t c);
std::string CollectionKey(const std::string& tenant, const std::string& name);
// The smallest key after every key that starts with `prefix`.
std::string PrefixEnd(const std::string& prefix);

// A collection's record: its spec, dimension, creation time and lexical version, with its id.
std::string CollectionRecord(const CollectionInfo& info, uint32_t id);
absl::StatusOr<CollectionInfo> ParseCollectionRecord(const std::string& record, uint32_t* id);

struct DocumentMeta {
  std::string title, source, date, sha256;
  // Who issued it, read from its text (internal::GuessDocumentIssuer); empty when none is
  // credited, and in records written before it was kept.
  std::string issuer;
  std::map<std::string, std::string> metadata;
  std::vector<uint64_t> chunks;
  // The articles after the first on a page that holds several, so a passage is cited by its
  // own article's title (empty for most documents, and when the title was given).
  std::vector<ArticleStart> articles;
  // The bytes of the records its ingest wrote (chunks, vectors, postings, this record), which
  // count against its tenant's share of the store (MemoryStoreOptions::max_stored_bytes_per_tenant).
  // 0 in records written before it was kept: the store works it out at open.
  uint64_t stored_bytes = 0;
};

std::string DocumentRecord(const DocumentMeta& meta);
absl::StatusOr<DocumentMeta> ParseDocumentRecord(const std::string& record);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_STORE_LAYOUT_H_
