// The vocabulary of the memory component: collections, documents, queries and hits, as plain
// structs (the daemon converts them to and from the agentd.v1 API).
#ifndef AGENTD_MEMORY_TYPES_H_
#define AGENTD_MEMORY_TYPES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "memory/chunker.h"

namespace memory {

enum class IndexKind { kFlat, kHnsw, kIvfPq };
enum class Metric { kCosine, kInnerProduct, kL2 };

// 0 in a size means the default given.
struct IndexSpec {
  IndexKind kind = IndexKind::kFlat;
  Metric metric = Metric::kCosine;
  int hnsw_m = 0;                // 32
  int hnsw_ef_construction = 0;  // 200
  int hnsw_ef_search = 0;        // 128
  int ivf_nlist = 0;             // 1024
  int ivf_nprobe = 0;            // 16
  int pq_m = 0;                  // dimension / 8
  int pq_nbits = 0;              // 8
};

// Collections without vectors: lexical search only.
inline constexpr char kNoEmbeddings[] = "none";

struct CollectionSpec {
  std::string tenant;
  // [A-Za-z0-9_.-]{1,64}
  std::string name;
  // The embedder's model name; "" takes the store's embedder, kNoEmbeddings makes the
  // collection lexical-only.
  std::string embedding_model;
  IndexSpec index;
  ChunkingOptions chunking;
  std::string description;
};

struct CollectionInfo {
  CollectionSpec spec;
  // The lexical analyzer version its postings were made with (memory/lexical.h); collections
  // created before versions existed read as 1.
  int lexical_version = 1;
  // 0 for lexical-only collections.
  int dimension = 0;
  int64_t created_at_ms = 0;
  uint64_t document_count = 0;
  uint64_t chunk_count = 0;
  // What its documents take in the store (MemoryStoreOptions::max_stored_bytes_per_tenant).
  uint64_t stored_bytes = 0;
};

struct DocumentInput {
  // "" derives the id from the content hash.
  std::string id;
  std::string text;
  std::string title;
  std::string source;
  // YYYY-MM-DD or "".
  std::string date;
  std::map<std::string, std::string> metadata;
};

enum class IngestOutcome { kCreated, kUpdated, kUnchanged };

struct IngestResult {
  std::string document_id;
  IngestOutcome outcome = IngestOutcome::kCreated;
  uint32_t chunk_count = 0;
  std::string content_sha256;
};

enum class SearchMode { kHybrid, kVector, kLexical };

struct SearchFilter {
  std::map<std::string, std::string> metadata_equals;
  std::string date_from, date_to;  // inclusive, YYYY-MM-DD
  std::vector<std::string> document_ids;
};

struct SearchQuery {
  std::string tenant;
  std::string collection;
  std::string query;
  int k = 10;
  SearchMode mode = SearchMode::kHybrid;
  SearchFilter filter;
  // Widen each hit to the sentences its chunk was cut inside (at most 300 code points on each
  // side, from the neighbouring chunks; the first 100 hits), so that a quote can take the first
  // and last sentences whole. Ranking and scores are the chunks'; offsets stay exact, but
  // whitespace the chunker trimmed between two chunks that do not overlap comes back as spaces
  // or line breaks. Default false: hits are the chunks as stored.
  bool whole_sentences = false;
};

struct SearchHit {
  uint64_t chunk_id = 0;
  std::string document_id, title, source, date, text;
  // Who issued the document, read from its text: the research institute most of its source
  // lines credit ("数据来源：…，华龙证券研究所"). Empty when none is credited so.
  std::string issuer;
  std::map<std::string, std::string> metadata;
  // Code points into the document's text.
  uint64_t start = 0, end = 0;
  // Whether `text` begins where a sentence begins (the document's start, or a hit widened by
  // SearchQuery::whole_sentences), so that its first piece is no cut-off fragment.
  bool starts_sentence = false;
  // The fused score for hybrid, else the component's. Higher is better.
  double score = 0;
  double vector_score = 0, lexical_score = 0;
  // 1-based; 0 when absent from that list.
  uint32_t vector_rank = 0, lexical_rank = 0;
};

// Where a cited passage sits in its document: ReadPassage's request and answer.
struct PassageQuery {
  std::string tenant;
  std::string collection;
  std::string document_id;
  // The passage, in code points into the document's text: [start, end), start < end, at most
  // 65536 code points.
  uint64_t start = 0, end = 0;
  // Code points of the document shown on each side of the passage. Default 1500; at most 20000.
  uint64_t context = 1500;
};

struct PassageWindow {
  std::string document_id, title, source, date;
  // The stretch of the document returned, in code points: [window_start, window_end). It
  // holds the passage whole, cut to the document's end.
  uint64_t window_start = 0, window_end = 0;
  // Its text: code point i of the document is code point (i - window_start) here, so
  // text[start - window_start, end - window_start) is the passage exactly. The chunker trimmed
  // the whitespace between its chunks and the store keeps only chunks; that whitespace comes
  // back as a space where one character was trimmed and line breaks where more were.
  std::string text;
  // The document's length as far as the store knows it (the end of its last chunk).
  uint64_t document_end = 0;
};

struct CollectionStats {
  CollectionInfo info;
  uint64_t vector_count = 0;
  uint64_t term_count = 0;
  uint64_t index_sequence = 0;
  uint64_t store_sequence = 0;
  uint64_t index_bytes = 0;
  uint64_t store_bytes = 0;
};

}  // namespace memory

#endif  // AGENTD_MEMORY_TYPES_H_
