#include "memory/memory_store.h"

#include "memory/content_hash.h"
#include "memory/chunker.h"
#include "memory/document_issuer.h"
#include "memory/document_title.h"
#include "memory/rocksdb_disk.h"

#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "bm25_index.h"
#include "word_forms.h"
#include "memory/lexical.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/transaction_log.h"
#include "rocksdb/write_batch.h"
#include "simd_flat_index.h"
#include "passage_window.h"
#include "sentence_span.h"
#include "utf8_text.h"
#include "store_layout.h"
#include "vector_index.h"

namespace memory {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using internal::Bm25Index;
using internal::DocumentMeta;
using namespace internal;  // the store's keys and column families (store_layout.h)
using internal::VectorIndex;

constexpr char kFormat[] = "AGENTD-MEMORY 1";
// Hybrid search: the lexical score's share of the fused score. 0.6 sits in the middle of the
// plateau (0.6-0.8) measured on the Chinese and English question sets.
constexpr double kLexicalWeight = 0.6;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Index parameters FAISS can work with; 0 takes the default. An HNSW graph of one neighbour per
// node gives FAISS no level to put a node on (its level histogram then grows until memory runs
// out, at the first ingest and at every start after it), a search beam is allocated whole for
// every query, and a value past INT_MAX arrives here negative.
struct IndexBound {
  const char* field;
  int IndexSpec::*value;
  int lo, hi;
};
constexpr IndexBound kIndexBounds[] = {
    {"index.hnsw_m", &IndexSpec::hnsw_m, 2, 256},
    {"index.hnsw_ef_construction", &IndexSpec::hnsw_ef_construction, 1, 4096},
    {"index.hnsw_ef_search", &IndexSpec::hnsw_ef_search, 1, 4096},
    {"index.ivf_nlist", &IndexSpec::ivf_nlist, 1, 1 << 20},
    {"index.ivf_nprobe", &IndexSpec::ivf_nprobe, 1, 1 << 20},
    {"index.pq_m", &IndexSpec::pq_m, 1, 65536},
    {"index.pq_nbits", &IndexSpec::pq_nbits, 1, 12}};

// IVF-PQ keeps pq_m × 2^pq_nbits distances per query and trains 2^pq_nbits centroids per
// sub-quantiser: 2^20 floats (4 MiB) a query is far past any recall gain.
constexpr int64_t kMaxPqTable = int64_t{1} << 20;

// What is wrong with an IVF-PQ spec's sub-quantisers at `dimension` (fields within their bounds),
// naming the field; empty when nothing is.
std::string PqTableProblem(const IndexSpec& index, int dimension) {
  const IndexSpec filled = internal::WithDefaults(index, dimension);
  if (dimension % filled.pq_m != 0) {
    return absl::StrCat("index.pq_m: ", filled.pq_m, " does not divide the dimension ", dimension);
  }
  if ((int64_t{filled.pq_m} << filled.pq_nbits) > kMaxPqTable) {
    return absl::StrCat("index.pq_nbits: ", filled.pq_m, " sub-quantisers × 2^", filled.pq_nbits, " codes is over ",
                        kMaxPqTable, " distances a query");
  }
  return "";
}

bool Usable(const IndexSpec& index, const IndexBound& b) {
  const int value = index.*b.value;
  return value == 0 || (value >= b.lo && value <= b.hi);
}

absl::Status CheckIndexSpec(const IndexSpec& index) {
  for (const IndexBound& b : kIndexBounds) {
    if (!Usable(index, b)) {
      return absl::InvalidArgumentError(
          absl::StrCat(b.field, ": must be 0 (the default) or between ", b.lo, " and ", b.hi));
    }
  }
  return absl::OkStatus();
}

// A collection stored before these bounds were checked may hold such a value: it gets the
// default instead, so that the data directory opens and the collection's index is built with
// settings FAISS can use (its documents and vectors are untouched).
IndexSpec WithUsableValues(IndexSpec index, int dimension) {
  for (const IndexBound& b : kIndexBounds) {
    if (!Usable(index, b)) index.*b.value = 0;
  }
  // And the product quantiser's pair, which CreateCollection checks together (PqTableProblem).
  if (index.kind == IndexKind::kIvfPq && dimension > 0 && !PqTableProblem(index, dimension).empty()) {
    index.pq_m = 0;
    index.pq_nbits = 0;
  }
  return index;
}

// A chunk is read under its document's (or article's) title: from lexical version 4 each term of
// the title's subject counts once in every chunk, so "Harbor Robotics business performance"
// reaches the chunk of results that names neither. A title is the tenant's and every chunk of
// the document carries its terms: at most kMaxTitleTerms of them (a subject is a few words: "Harbor
// Robotics", the nine bigrams and words of "DeepSeek 推动 AI 大模型行业创新"), from its first
// kMaxTitleCodePoints, none longer than kMaxTitleTermBytes (a 1 MiB word would be a 1 MiB key in
// every chunk's postings).
constexpr size_t kMaxTitleTerms = 12;
constexpr size_t kMaxTitleCodePoints = 100;
constexpr size_t kMaxTitleTermBytes = 32;
std::vector<std::string> TitleTerms(std::string_view title, int version) {
  if (version < 4) return {};
  // The subject is the title's first clause ("Harbor Robotics: annual review 2024", "DeepSeek：
  // 技术颠覆 or 创新共赢"); what follows a colon or dash is the kind of document, or a
  // slogan whose words every chunk would then share.
  size_t cut = 0;
  for (size_t points = 0; cut < title.size() && points < kMaxTitleCodePoints; ++points) {
    do ++cut;
    while (cut < title.size() && (static_cast<unsigned char>(title[cut]) & 0xC0) == 0x80);
  }
  title = title.substr(0, cut);
  for (std::string_view mark : {": ", "：", "——", " - ", " — "}) {
    const size_t at = title.find(mark);
    if (at != std::string_view::npos && at > 0) title = title.substr(0, at);
  }
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (std::string& term : LexicalTerms(title, version)) {
    if (out.size() >= kMaxTitleTerms) break;
    if (term.size() <= kMaxTitleTermBytes && seen.insert(term).second) out.push_back(std::move(term));
  }
  return out;
}

bool ValidDate(const std::string& d) {
  if (d.empty()) return true;
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  return true;
}

// ---- a collection in memory ---------------------------------------------------------------

struct Collection {
  uint32_t id = 0;
  CollectionInfo info;
  IndexSpec index_spec;  // with defaults
  Bm25Index lexical;
  std::unique_ptr<VectorIndex> vectors;  // null for lexical-only collections
  std::unordered_map<std::string, DocumentMeta> documents;
  std::unordered_map<uint64_t, std::string> chunk_document;
  uint64_t next_chunk = 1;
  uint64_t index_sequence = 0;
  uint64_t added_since_save = 0;
  // Vectors committed by Ingest calls still in progress and not yet in `vectors`. The index is
  // only saved when this is 0, or the sequence number saved with it would claim them.
  uint64_t unflushed = 0;
  // Set by DeleteCollection, under the store's write mutex, which every writer holds to check
  // it: a call that found the collection before it was deleted (an Ingest of many documents)
  // writes nothing more under its id — its keys would outlive it, unreachable by any call.
  bool deleted = false;
  mutable std::shared_mutex mutex;
};

// Replays vector writes of one collection from WAL batches.
class VectorReplay : public rocksdb::WriteBatch::Handler {
 public:
  VectorReplay(uint32_t vectors_family, const std::string& prefix, int dimension)
      : family_(vectors_family), prefix_(prefix), dimension_(dimension) {}
  rocksdb::Status PutCF(uint32_t family, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    if (family == family_ && key.starts_with(prefix_) && key.size() == 12 &&
        value.size() == static_cast<size_t>(dimension_) * sizeof(float)) {
      const uint64_t chunk = ReadBigEndian(key.data() + 4, 8);
      removed_.erase(chunk);
      added_ids_.push_back(chunk);
      const float* v = reinterpret_cast<const float*>(value.data());
      added_.insert(added_.end(), v, v + dimension_);
    }
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t family, const rocksdb::Slice& key) override {
    if (family == family_ && key.starts_with(prefix_) && key.size() == 12) {
      const uint64_t chunk = ReadBigEndian(key.data() + 4, 8);
      auto it = std::find(added_ids_.begin(), added_ids_.end(), chunk);
      if (it != added_ids_.end()) {
        const size_t i = static_cast<size_t>(it - added_ids_.begin());
        added_ids_.erase(it);
        added_.erase(added_.begin() + i * dimension_, added_.begin() + (i + 1) * dimension_);
      } else {
        removed_.insert(chunk);
      }
    }
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t family, const rocksdb::Slice& key) override { return DeleteCF(family, key); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  void LogData(const rocksdb::Slice&) override {}

  std::vector<uint64_t> added_ids_;
  std::vector<float> added_;
  std::unordered_set<uint64_t> removed_;

 private:
  uint32_t family_;
  std::string prefix_;
  int dimension_;
};

// What a chunk's vector takes beside its text and postings: its record in the store, and its
// copy in the collection's FAISS index (id and floats; a flat index's, more for a graph).
uint64_t VectorBytesPerChunk(const Collection& c) {
  return c.info.dimension > 0 ? 12 + static_cast<uint64_t>(c.info.dimension) * sizeof(float) : 0;
}
uint64_t VectorIndexBytesPerChunk(const Collection& c) {
  return c.info.dimension > 0 ? 8 + static_cast<uint64_t>(c.info.dimension) * sizeof(float) : 0;
}

class MemoryStoreImpl final : public MemoryStore {
 public:
  explicit MemoryStoreImpl(const MemoryStoreOptions& options)
      : options_(options), disk_((fs::path(options.path) / "db").string(), options.env) {}
  ~MemoryStoreImpl() override { Close().IgnoreError(); }

  absl::Status Init();

  absl::StatusOr<CollectionInfo> CreateCollection(const CollectionSpec& spec) override;
  absl::StatusOr<std::vector<CollectionInfo>> ListCollections(const std::string& tenant) override;
  absl::StatusOr<uint64_t> DeleteCollection(const std::string& tenant, const std::string& name) override;
  absl::StatusOr<std::vector<IngestResult>> Ingest(const std::string& tenant, const std::string& collection,
                                                   const std::vector<DocumentInput>& documents) override;
  absl::StatusOr<std::vector<std::string>> DeleteDocuments(const std::string& tenant, const std::string& collection,
                                                           const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<SearchHit>> Search(const SearchQuery& query) override;
  absl::StatusOr<std::vector<SearchHit>> SearchTimed(const SearchQuery& query);
  absl::StatusOr<CollectionStats> Stats(const std::string& tenant, const std::string& collection) override;
  TenantUsage Usage(const std::string& tenant) const override;
  absl::StatusOr<PassageWindow> ReadPassage(const PassageQuery& query) override;
  absl::Status Close() override;

 private:
  struct ChunkRecord {
    std::string document_id;
    internal::StoredChunk chunk;
  };
  absl::StatusOr<ChunkRecord> ReadChunkRecord(const Collection& c, uint64_t chunk_id, size_t max_bytes) const;
  absl::StatusOr<internal::StoredChunk> ReadChunk(const Collection& c, uint64_t chunk_id) const;
  // A hit to widen to whole sentences (SearchQuery::whole_sentences): its place among the hits,
  // its neighbouring chunks and what its title is chosen from, copied under the collection's lock.
  struct Widening {
    size_t hit = 0;
    // The chunks before and after the hit's. The one before the previous tells whether the
    // previous starts a sentence: a window opening at a chunk's start cannot (the splitter drops
    // its first piece as a possible fragment), so a hit in the tail of a sentence that began
    // exactly at the previous chunk's start stayed a fragment.
    std::optional<uint64_t> before_previous, previous, next;
    size_t index = 0;  // the hit's chunk among its document's
    // For ArticleTitleAt: the articles near the hit, and the title in force before them.
    std::vector<ArticleStart> articles;
    std::string title;
  };
  // How far a hit's edge moves at most, in code points; how many hits of one search are widened
  // (a plan asks for at most 100).
  static constexpr uint64_t kMaxWidening = 300;
  static constexpr size_t kMaxWidenedHits = 100;
  void WidenToSentences(const Collection& c, const Widening& w, SearchHit* hit) const;
  rocksdb::ColumnFamilyHandle* cf(Family f) const { return handles_[f]; }
  const internal::WordForms word_forms_;
  rocksdb::WriteOptions WriteOptions() const {
    rocksdb::WriteOptions w;
    w.sync = options_.sync_writes;
    return w;
  }
  std::string IndexPath(uint32_t id) const { return (fs::path(options_.path) / "index" / (std::to_string(id) + ".faiss")).string(); }
  absl::StatusOr<std::shared_ptr<Collection>> Find(const std::string& tenant, const std::string& name) const;
  // The tenant's collections, in name order.
  std::vector<std::shared_ptr<Collection>> TenantCollections(const std::string& tenant) const;
  // Works out what documents stored before their records kept it take (DocumentMeta::stored_bytes).
  absl::Status MeasureOlderDocuments(Collection* c, const std::unordered_set<std::string>& older,
                                     const std::unordered_map<uint64_t, uint64_t>& posting_bytes);
  // Vectors of two models are not comparable even at the same dimension: a collection is only
  // embedded into and searched with the model it was created with.
  bool EmbedderMatches(const Collection& c) const {
    return options_.embedder != nullptr && options_.embedder->dimension() == c.info.dimension &&
           options_.embedder->model_name() == c.info.spec.embedding_model;
  }
  std::string LoadedEmbedderNote() const {
    return options_.embedder == nullptr ? " (no embedding model is loaded)"
                                        : absl::StrCat(" (loaded: \"", options_.embedder->model_name(), "\")");
  }
  absl::Status LoadCollection(const std::string& value);
  absl::Status BuildVectorIndex(Collection* c);
  absl::Status SaveIndex(Collection* c);
  // SaveIndex where the index file is only a head start for the next open (ingest, and building
  // an index at open): a failure — a full disk — is reported to on_index_not_saved and costs
  // nothing else. The committed vectors are in the store and the WAL, which the next open
  // replays or rebuilds from, so neither the ingest nor the open fails for it.
  void SaveIndexOrReport(Collection* c);
  // Vectors committed to the store but not yet added to the FAISS index; Ingest adds them in one
  // batch at the end of the call (FAISS builds HNSW graphs in parallel for batches). Until then
  // search may miss them, never return something the store lacks; a crash in between is
  // covered by the WAL replay at open.
  struct PendingVectors {
    std::vector<uint64_t> ids;
    std::vector<float> values;
  };
  absl::StatusOr<IngestResult> IngestOne(Collection* c, const DocumentInput& doc, size_t index, PendingVectors* pending);
  // Under write_mutex_: OK, or RESOURCE_EXHAUSTED naming `field` when a document taking
  // `stored_bytes` in place of one taking `replaced_bytes` would take its tenant past its share.
  absl::Status CheckTenantShare(const Collection& c, const std::string& field, uint64_t stored_bytes,
                                uint64_t replaced_bytes) const;
  absl::Status FlushVectors(Collection* c, PendingVectors* pending);
  void DropChunks(Collection* c, const DocumentMeta& doc, rocksdb::WriteBatch* batch) const;

  absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) const { return disk_.Error(s, what); }
  // The batch written synced (when sync_writes), resuming a database stopped by a full disk.
  absl::Status Write(rocksdb::WriteBatch* batch, absl::string_view what) { return disk_.Write(db_.get(), WriteOptions(), batch, what); }

  MemoryStoreOptions options_;
  // Declared before db_: the database's Env lives in it and must outlive the database.
  DiskAwareDb disk_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::mutex write_mutex_;  // one writer at a time: chunk ids and batches stay ordered
  mutable std::shared_mutex collections_mutex_;
  std::map<std::string, std::shared_ptr<Collection>> collections_;
  uint32_t next_collection_id_ = 1;
  bool closed_ = false;
};

absl::Status MemoryStoreImpl::Init() {
  if (options_.path.empty()) return absl::InvalidArgumentError("memory store: path is required");
  std::error_code ec;
  fs::create_directories(fs::path(options_.path) / "index", ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("memory store ", options_.path, ": ", ec.message()));
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Keep archived WAL files so vector indexes saved a while ago can catch up by replay.
  db_options.WAL_ttl_seconds = 7 * 24 * 3600;
  db_options.WAL_size_limit_MB = 2048;
  disk_.Configure(&db_options);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : kFamilyNames) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  absl::Status status = FromRocks(rocksdb::DB::Open(db_options, (fs::path(options_.path) / "db").string(), families, &handles_, &raw),
                                  absl::StrCat("memory store ", options_.path));
  if (!status.ok()) return status;
  db_.reset(raw);

  std::string format;
  rocksdb::Status get = db_->Get(rocksdb::ReadOptions(), cf(kMeta), "format", &format);
  if (get.IsNotFound()) {
    rocksdb::WriteBatch batch;
    batch.Put(cf(kMeta), "format", kFormat);
    status = Write(&batch, "memory store format");
    if (!status.ok()) return status;
  } else if (!get.ok()) {
    return FromRocks(get, "memory store format");
  } else if (format != kFormat) {
    return absl::FailedPreconditionError(absl::StrCat("memory store ", options_.path, " has format \"", format,
                                                      "\"; this agentd reads \"", kFormat, "\""));
  }
  std::string next;
  if (db_->Get(rocksdb::ReadOptions(), cf(kMeta), "next_collection_id", &next).ok() && next.size() == 4) {
    next_collection_id_ = static_cast<uint32_t>(ReadBigEndian(next.data(), 4));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kCollections)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    status = LoadCollection(it->value().ToString());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status MemoryStoreImpl::LoadCollection(const std::string& value) {
  auto c = std::make_shared<Collection>();
  absl::StatusOr<CollectionInfo> info = internal::ParseCollectionRecord(value, &c->id);
  if (!info.ok()) return info.status();
  c->info = std::move(*info);
  c->info.spec.index = WithUsableValues(c->info.spec.index, c->info.dimension);
  c->index_spec = internal::WithDefaults(c->info.spec.index, c->info.dimension);
  const std::string prefix = Prefix(c->id);
  const std::string end = PrefixEnd(prefix);
  rocksdb::ReadOptions read;
  rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;

  std::unique_ptr<rocksdb::Iterator> docs(db_->NewIterator(read, cf(kDocuments)));
  std::unordered_set<std::string> unmeasured;
  for (docs->Seek(prefix); docs->Valid(); docs->Next()) {
    std::string id = docs->key().ToString().substr(4);
    absl::StatusOr<DocumentMeta> parsed = internal::ParseDocumentRecord(docs->value().ToString());
    if (!parsed.ok()) return absl::DataLossError(absl::StrCat(parsed.status().message(), ": document ", id));
    DocumentMeta meta = std::move(*parsed);
    if (meta.stored_bytes == 0) {
      meta.stored_bytes = docs->key().size() + docs->value().size();
      unmeasured.insert(id);
    }
    for (uint64_t chunk : meta.chunks) c->chunk_document[chunk] = id;
    c->documents.emplace(std::move(id), std::move(meta));
  }
  std::unordered_map<uint64_t, uint64_t> posting_bytes;  // only for documents measured at open
  // BM25 from the postings (term, chunk → tf).
  std::unordered_map<uint64_t, Bm25Index::TermCounts> terms;
  std::unique_ptr<rocksdb::Iterator> postings(db_->NewIterator(read, cf(kPostings)));
  for (postings->Seek(prefix); postings->Valid(); postings->Next()) {
    const rocksdb::Slice key = postings->key();
    if (key.size() < 4 + 1 + 8) continue;
    const std::string term(key.data() + 4, key.size() - 4 - 9);
    const uint64_t chunk = ReadBigEndian(key.data() + key.size() - 8, 8);
    // A posting of no stored chunk (a write the chunk's deletion missed) would count in BM25's
    // statistics for ever.
    if (!c->chunk_document.count(chunk)) continue;
    uint32_t tf = 0;
    std::memcpy(&tf, postings->value().data(), std::min<size_t>(4, postings->value().size()));
    terms[chunk][term] = tf;
    if (!unmeasured.empty() && unmeasured.count(c->chunk_document[chunk])) {
      posting_bytes[chunk] += key.size() + postings->value().size();
    }
  }
  for (const auto& [chunk, counts] : terms) c->lexical.Add(chunk, counts);
  std::string counter;
  if (db_->Get(rocksdb::ReadOptions(), cf(kMeta), CounterKey(c->id), &counter).ok() && counter.size() == 8) {
    c->next_chunk = ReadBigEndian(counter.data(), 8);
  }
  if (!unmeasured.empty()) {
    absl::Status status = MeasureOlderDocuments(c.get(), unmeasured, posting_bytes);
    if (!status.ok()) return status;
    // Written back once, so the next open does not read every chunk again. Best effort: on a
    // full disk the next open measures them again.
    rocksdb::WriteBatch batch;
    for (const std::string& id : unmeasured) batch.Put(cf(kDocuments), DocKey(c->id, id), internal::DocumentRecord(c->documents[id]));
    Write(&batch, "memory store: document sizes").IgnoreError();
  }
  c->info.document_count = c->documents.size();
  c->info.chunk_count = c->chunk_document.size();
  for (const auto& [id, meta] : c->documents) c->info.stored_bytes += meta.stored_bytes;
  if (c->info.dimension > 0) {
    absl::Status status = BuildVectorIndex(c.get());
    if (!status.ok()) return status;
  }
  std::unique_lock lock(collections_mutex_);
  collections_[CollectionKey(c->info.spec.tenant, c->info.spec.name)] = std::move(c);
  return absl::OkStatus();
}

// A document's record before stored_bytes was kept counted only itself at load: its chunks,
// vectors and postings are added here from one pass over the collection's chunks.
absl::Status MemoryStoreImpl::MeasureOlderDocuments(Collection* c, const std::unordered_set<std::string>& older,
                                                    const std::unordered_map<uint64_t, uint64_t>& posting_bytes) {
  const std::string prefix = Prefix(c->id);
  const std::string end = PrefixEnd(prefix);
  rocksdb::ReadOptions read;
  rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;
  const uint64_t vector_bytes = VectorBytesPerChunk(*c) + VectorIndexBytesPerChunk(*c);
  std::unique_ptr<rocksdb::Iterator> chunks(db_->NewIterator(read, cf(kChunks)));
  for (chunks->Seek(prefix); chunks->Valid(); chunks->Next()) {
    if (chunks->key().size() != 12) continue;
    const uint64_t chunk = ReadBigEndian(chunks->key().data() + 4, 8);
    auto owner = c->chunk_document.find(chunk);
    if (owner == c->chunk_document.end() || !older.count(owner->second)) continue;
    auto posted = posting_bytes.find(chunk);
    c->documents[owner->second].stored_bytes += chunks->key().size() + chunks->value().size() + vector_bytes +
                                                (posted == posting_bytes.end() ? 0 : posted->second);
  }
  return FromRocks(chunks->status(), "memory store: measure documents");
}

// Loads the saved index and replays newer WAL writes; rebuilds from the stored vectors when the
// file is missing or corrupt or the WAL does not reach back far enough.
absl::Status MemoryStoreImpl::BuildVectorIndex(Collection* c) {
  const int dimension = c->info.dimension;
  uint64_t saved_sequence = 0;
  absl::StatusOr<std::unique_ptr<VectorIndex>> loaded = VectorIndex::Load(IndexPath(c->id), dimension, c->index_spec, &saved_sequence);
  const uint64_t latest = db_->GetLatestSequenceNumber();
  // A file claiming writes past the store's last one reflects sequence numbers the store lost
  // (writes kept out of the WAL, rocksdb_disk.h, that a crash took before they were flushed)
  // and may reuse for other writes: it is rebuilt rather than trusted.
  if (loaded.ok() && *loaded != nullptr && saved_sequence <= latest) {
    if (saved_sequence == latest) {
      c->vectors = std::move(*loaded);
      c->index_sequence = saved_sequence;
      return absl::OkStatus();
    }
    VectorReplay replay(cf(kVectors)->GetID(), Prefix(c->id), dimension);
    uint64_t expected = saved_sequence + 1;  // the first sequence number the index may lack
    bool complete = true;
    while (complete && expected <= latest) {
      // A marker kept out of the WAL (rocksdb_disk.h) is a gap in it that holds no vectors.
      if (DiskAwareDb::IsWalLessMarker(db_.get(), expected)) {
        ++expected;
        continue;
      }
      const uint64_t from = expected;
      std::unique_ptr<rocksdb::TransactionLogIterator> log;
      if (!db_->GetUpdatesSince(expected, &log).ok()) break;
      for (; log->Valid(); log->Next()) {
        rocksdb::BatchResult batch = log->GetBatch();
        if (batch.sequence + batch.writeBatchPtr->Count() <= expected) continue;
        if (batch.sequence > expected) break;  // a gap: a marker (above) or a purged WAL
        if (!batch.writeBatchPtr->Iterate(&replay).ok()) complete = false;
        if (!complete) break;
        expected = batch.sequence + batch.writeBatchPtr->Count();
      }
      if (expected == from) complete = false;  // neither a batch nor a marker: the WAL is gone
    }
    if (complete && expected > latest) {
      std::vector<uint64_t> removed(replay.removed_.begin(), replay.removed_.end());
      (*loaded)->Remove(removed);
      absl::Status added = (*loaded)->Add(replay.added_ids_, replay.added_);
      if (added.ok()) {
        c->vectors = std::move(*loaded);
        c->index_sequence = saved_sequence;
        c->added_since_save = replay.added_ids_.size();
        SaveIndexOrReport(c);
        return absl::OkStatus();
      }
    }
  }
  // Rebuild from the source of truth.
  auto index = VectorIndex::Create(dimension, c->index_spec);
  if (!index.ok()) return index.status();
  const std::string prefix = Prefix(c->id);
  const std::string end = PrefixEnd(prefix);
  rocksdb::ReadOptions read;
  rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, cf(kVectors)));
  std::vector<uint64_t> ids;
  std::vector<float> values;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (it->key().size() != 12 || it->value().size() != static_cast<size_t>(dimension) * sizeof(float)) continue;
    ids.push_back(ReadBigEndian(it->key().data() + 4, 8));
    const float* v = reinterpret_cast<const float*>(it->value().data());
    values.insert(values.end(), v, v + dimension);
    if (ids.size() >= 65536) {
      absl::Status status = (*index)->Add(ids, values);
      if (!status.ok()) return status;
      ids.clear();
      values.clear();
    }
  }
  absl::Status status = (*index)->Add(ids, values);
  if (!status.ok()) return status;
  c->vectors = std::move(*index);
  SaveIndexOrReport(c);
  return absl::OkStatus();
}

absl::Status MemoryStoreImpl::SaveIndex(Collection* c) {
  if (!c->vectors) return absl::OkStatus();
  // Everything written so far is in the index (writes are serialised and applied before the
  // next one), so the latest sequence is the one it reflects.
  const uint64_t sequence = db_->GetLatestSequenceNumber();
  absl::Status status = c->vectors->Save(IndexPath(c->id), sequence, disk_.file_system());
  if (status.ok()) {
    c->index_sequence = sequence;
    c->added_since_save = 0;
  }
  return status;
}

void MemoryStoreImpl::SaveIndexOrReport(Collection* c) {
  absl::Status status = SaveIndex(c);
  if (status.ok()) return;
  // Tried again after another save interval's vectors, not at every ingest: a save writes the
  // whole index, which on a full disk would be written up to the last free byte each time.
  c->added_since_save = 0;
  if (options_.on_index_not_saved) options_.on_index_not_saved(status);
}

absl::StatusOr<std::shared_ptr<Collection>> MemoryStoreImpl::Find(const std::string& tenant, const std::string& name) const {
  std::shared_lock lock(collections_mutex_);
  auto it = collections_.find(CollectionKey(tenant, name));
  if (it == collections_.end()) return absl::NotFoundError(absl::StrCat("collection \"", name, "\" does not exist"));
  return it->second;
}

std::vector<std::shared_ptr<Collection>> MemoryStoreImpl::TenantCollections(const std::string& tenant) const {
  std::vector<std::shared_ptr<Collection>> out;
  const std::string first = CollectionKey(tenant, "");
  std::shared_lock lock(collections_mutex_);
  for (auto it = collections_.lower_bound(first); it != collections_.end() && it->first.starts_with(first); ++it) {
    out.push_back(it->second);
  }
  return out;
}

TenantUsage MemoryStoreImpl::Usage(const std::string& tenant) const {
  TenantUsage usage;
  usage.max_stored_bytes = options_.max_stored_bytes_per_tenant;
  usage.max_collections = options_.max_collections_per_tenant;
  for (const std::shared_ptr<Collection>& c : TenantCollections(tenant)) {
    std::shared_lock lock(c->mutex);
    usage.stored_bytes += c->info.stored_bytes;
    ++usage.collections;
  }
  return usage;
}

absl::Status MemoryStoreImpl::CheckTenantShare(const Collection& c, const std::string& field, uint64_t stored_bytes,
                                               uint64_t replaced_bytes) const {
  const uint64_t limit = options_.max_stored_bytes_per_tenant;
  if (limit == 0 || stored_bytes <= replaced_bytes) return absl::OkStatus();
  const uint64_t held = Usage(c.info.spec.tenant).stored_bytes;
  const uint64_t after = held - std::min(held, replaced_bytes) + stored_bytes;
  if (after <= limit) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      field, ": not written: it takes ", stored_bytes, " bytes in the store and the tenant's documents hold ", held,
      " of the ", limit, " it may store (memory.max_stored_bytes_per_tenant); delete documents or collections to make room"));
}

absl::StatusOr<CollectionInfo> MemoryStoreImpl::CreateCollection(const CollectionSpec& spec) {
  if (!IsValidCollectionName(spec.name)) {
    return absl::InvalidArgumentError("name: must be 1-64 characters of letters, digits, '_', '.' and '-'");
  }
  if (spec.chunking.max_chars < 16 || spec.chunking.max_chars > 65536) {
    return absl::InvalidArgumentError("chunking.max_chars: must be between 16 and 65536");
  }
  if (spec.chunking.overlap_chars < 0 || spec.chunking.overlap_chars >= spec.chunking.max_chars) {
    return absl::InvalidArgumentError("chunking.overlap_chars: must be smaller than chunking.max_chars");
  }
  if (absl::Status index = CheckIndexSpec(spec.index); !index.ok()) return index;
  CollectionInfo info;
  info.spec = spec;
  info.created_at_ms = NowMs();
  info.lexical_version = kLexicalVersion;
  if (spec.embedding_model == kNoEmbeddings) {
    info.dimension = 0;
  } else {
    if (options_.embedder == nullptr) {
      return absl::FailedPreconditionError(
          "embedding_model: no model is loaded to embed with (start agentd with --model, or use embedding_model \"none\" "
          "for a lexical-only collection)");
    }
    if (!spec.embedding_model.empty() && spec.embedding_model != options_.embedder->model_name()) {
      return absl::FailedPreconditionError(absl::StrCat("embedding_model: \"", spec.embedding_model,
                                                        "\" is not loaded (loaded: \"", options_.embedder->model_name(), "\")"));
    }
    info.spec.embedding_model = options_.embedder->model_name();
    info.dimension = options_.embedder->dimension();
    if (spec.index.kind == IndexKind::kIvfPq) {
      if (std::string problem = PqTableProblem(spec.index, info.dimension); !problem.empty()) {
        return absl::InvalidArgumentError(problem);
      }
    }
  }
  std::lock_guard<std::mutex> write(write_mutex_);
  if (Find(spec.tenant, spec.name).ok()) {
    return absl::AlreadyExistsError(absl::StrCat("collection \"", spec.name, "\" already exists"));
  }
  if (const uint64_t limit = options_.max_collections_per_tenant; limit > 0) {
    if (const size_t held = TenantCollections(spec.tenant).size(); held >= limit) {
      return absl::ResourceExhaustedError(absl::StrCat("name: the tenant has ", held, " collections and may have ", limit,
                                                       " (memory.max_collections_per_tenant); delete one to make room"));
    }
  }
  const uint32_t id = next_collection_id_;
  rocksdb::WriteBatch batch;
  batch.Put(cf(kCollections), CollectionKey(spec.tenant, spec.name), internal::CollectionRecord(info, id));
  batch.Put(cf(kMeta), "next_collection_id", BigEndian32(id + 1));
  absl::Status status = Write(&batch, "create collection");
  if (!status.ok()) return status;
  next_collection_id_ = id + 1;
  auto c = std::make_shared<Collection>();
  c->id = id;
  c->info = info;
  c->index_spec = internal::WithDefaults(info.spec.index, info.dimension);
  if (info.dimension > 0) {
    auto index = VectorIndex::Create(info.dimension, c->index_spec);
    if (!index.ok()) return index.status();
    c->vectors = std::move(*index);
  }
  std::unique_lock lock(collections_mutex_);
  collections_[CollectionKey(spec.tenant, spec.name)] = c;
  return info;
}

absl::StatusOr<std::vector<CollectionInfo>> MemoryStoreImpl::ListCollections(const std::string& tenant) {
  std::vector<CollectionInfo> out;
  std::shared_lock lock(collections_mutex_);
  for (const auto& [key, c] : collections_) {
    if (c->info.spec.tenant != tenant) continue;
    std::shared_lock cl(c->mutex);
    out.push_back(c->info);
  }
  return out;
}

absl::StatusOr<uint64_t> MemoryStoreImpl::DeleteCollection(const std::string& tenant, const std::string& name) {
  std::lock_guard<std::mutex> write(write_mutex_);
  auto c = Find(tenant, name);
  if (!c.ok()) return c.status();
  const std::string prefix = Prefix((*c)->id);
  const std::string end = PrefixEnd(prefix);
  rocksdb::WriteBatch batch;
  for (Family f : {kDocuments, kChunks, kVectors, kPostings}) batch.DeleteRange(cf(f), prefix, end);
  batch.Delete(cf(kCollections), CollectionKey(tenant, name));
  batch.Delete(cf(kMeta), CounterKey((*c)->id));
  absl::Status status = Write(&batch, "delete collection");
  if (!status.ok()) return status;
  (*c)->deleted = true;
  std::error_code ec;
  fs::remove(IndexPath((*c)->id), ec);
  {
    std::unique_lock lock(collections_mutex_);
    collections_.erase(CollectionKey(tenant, name));
  }
  std::shared_lock cl((*c)->mutex);
  return static_cast<uint64_t>((*c)->documents.size());
}

void MemoryStoreImpl::DropChunks(Collection* c, const DocumentMeta& doc, rocksdb::WriteBatch* batch) const {
  for (uint64_t chunk : doc.chunks) {
    std::string value;
    if (db_->Get(rocksdb::ReadOptions(), cf(kChunks), ChunkKey(c->id, chunk), &value).ok()) {
      Json record = Json::parse(value, nullptr, false);
      if (!record.is_discarded()) {
        for (const std::string& term : LexicalTerms(record.value("text", ""), c->info.lexical_version)) {
          batch->Delete(cf(kPostings), PostingKey(c->id, term, chunk));
        }
        // And the terms its title lent it (TitleTerms), which its text may lack.
        const Json start = record.value("start", Json()), end = record.value("end", Json());
        if (start.is_number_unsigned() && end.is_number_unsigned()) {
          const std::string title = ArticleTitleAt(doc.articles, doc.title, start.get<uint64_t>(), end.get<uint64_t>());
          for (const std::string& term : TitleTerms(title, c->info.lexical_version)) {
            batch->Delete(cf(kPostings), PostingKey(c->id, term, chunk));
          }
        }
      }
    }
    batch->Delete(cf(kChunks), ChunkKey(c->id, chunk));
    batch->Delete(cf(kVectors), ChunkKey(c->id, chunk));
  }
}

absl::StatusOr<IngestResult> MemoryStoreImpl::IngestOne(Collection* c, const DocumentInput& doc, size_t index,
                                                         PendingVectors* pending) {
  const std::string field = absl::StrCat("documents[", index, "]");
  if (doc.text.empty()) return absl::InvalidArgumentError(field + ".text: is required");
  if (!ValidDate(doc.date)) return absl::InvalidArgumentError(field + ".date: must be YYYY-MM-DD");
  // The bounds agentd.v1.Document states, for every caller (a Lua tool's memory.ingest reaches
  // here without the gRPC request validator): an id is a key, a title's terms go into every
  // chunk's postings.
  for (const auto& [name, value, most] : {std::tuple<const char*, const std::string*, size_t>{"id", &doc.id, 256},
                                          {"text", &doc.text, size_t{8} << 20},
                                          {"title", &doc.title, 1024},
                                          {"source", &doc.source, 4096}}) {
    if (value->size() > most) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".", name, ": at most ", most, " bytes"));
    }
  }
  if (doc.metadata.size() > 64) return absl::InvalidArgumentError(field + ".metadata: at most 64 entries");
  for (const auto& [key, value] : doc.metadata) {
    if (key.size() > 1024 || value.size() > 1024) {
      return absl::InvalidArgumentError(field + ".metadata: keys and values of at most 1024 bytes");
    }
  }
  IngestResult result;
  result.content_sha256 = Sha256Hex(doc.text);
  result.document_id = doc.id.empty() ? "sha256:" + result.content_sha256.substr(0, 32) : doc.id;
  DocumentMeta meta;
  // What is stored and quoted: no control character a terminal would obey (internal::StorableText).
  const std::string text = internal::StorableText(doc.text);
  // A document sent without a title is named from its opening lines, so citations name it.
  meta.title = internal::OneLineText(doc.title.empty() ? GuessDocumentTitle(text) : doc.title);
  if (doc.title.empty()) meta.articles = FindLaterArticles(text);
  for (ArticleStart& article : meta.articles) article.title = internal::OneLineText(article.title);
  meta.source = internal::OneLineText(doc.source);
  meta.issuer = internal::OneLineText(GuessDocumentIssuer(text));
  meta.date = doc.date;
  meta.metadata = doc.metadata;
  meta.sha256 = result.content_sha256;

  // The document as stored now; whether it is what this call would store.
  auto stored = [&] {
    std::optional<DocumentMeta> found;
    std::shared_lock lock(c->mutex);
    auto it = c->documents.find(result.document_id);
    if (it != c->documents.end()) found = it->second;
    return found;
  };
  auto unchanged = [&](const std::optional<DocumentMeta>& existing) {
    return existing && existing->sha256 == meta.sha256 && existing->title == meta.title &&
           existing->articles == meta.articles && existing->source == meta.source && existing->issuer == meta.issuer &&
           existing->date == meta.date &&
           existing->metadata == meta.metadata;
  };
  std::optional<DocumentMeta> existing = stored();
  if (unchanged(existing)) {
    result.outcome = IngestOutcome::kUnchanged;
    result.chunk_count = static_cast<uint32_t>(existing->chunks.size());
    return result;
  }

  // Chunks are stored as JSON, which would turn an invalid sequence of several bytes into one
  // U+FFFD and shift every offset after it; replaced byte by byte first (StorableText), the
  // offsets hold.
  // (No chunk spans a later article's start: no passage is cited under the previous story's
  // headline.)
  ChunkingOptions chunking = c->info.spec.chunking;
  for (const ArticleStart& article : meta.articles) chunking.breaks.push_back(article.offset);
  std::vector<Chunk> chunks = ChunkText(text, chunking);
  std::vector<std::vector<float>> vectors;
  if (c->info.dimension > 0) {
    // Embedding is the slow part: done before taking the write lock, in batches.
    if (!EmbedderMatches(*c)) {
      return absl::FailedPreconditionError(absl::StrCat("collection \"", c->info.spec.name,
                                                        "\" needs its embedding model \"", c->info.spec.embedding_model,
                                                        "\", which is not loaded", LoadedEmbedderNote()));
    }
    for (size_t i = 0; i < chunks.size(); i += 32) {
      std::vector<std::string> texts;
      for (size_t j = i; j < std::min(chunks.size(), i + 32); ++j) texts.push_back(chunks[j].text);
      auto embedded = options_.embedder->Embed(texts);
      if (!embedded.ok()) return absl::Status(embedded.status().code(), absl::StrCat(field, ": embedding: ", embedded.status().message()));
      for (auto& v : *embedded) vectors.push_back(std::move(v));
    }
  }

  std::lock_guard<std::mutex> write(write_mutex_);
  if (c->deleted) {
    // The id too: a client sending its files in batches numbers them from each request's start.
    return absl::NotFoundError(absl::StrCat("collection \"", c->info.spec.name, "\" was deleted while ", field, " (id \"",
                                            result.document_id, "\") was ingested"));
  }
  // Looked up again under the write mutex: another call may have stored this id since (two
  // clients syncing the same files). Replacing the version read before the chunking left that
  // call's chunks attached to the id — both versions found by search, deleted documents' chunks
  // kept — and told both callers CREATED.
  existing = stored();
  if (unchanged(existing)) {
    result.outcome = IngestOutcome::kUnchanged;
    result.chunk_count = static_cast<uint32_t>(existing->chunks.size());
    return result;
  }
  result.outcome = existing ? IngestOutcome::kUpdated : IngestOutcome::kCreated;
  rocksdb::WriteBatch batch;
  if (existing) DropChunks(c, *existing, &batch);
  std::vector<uint64_t> ids;
  std::vector<Bm25Index::TermCounts> term_counts(chunks.size());
  std::vector<float> flat_vectors;
  uint64_t next = c->next_chunk;
  uint64_t stored_bytes = 0;
  auto put = [&](Family family, const std::string& key, const rocksdb::Slice& value) {
    batch.Put(cf(family), key, value);
    stored_bytes += key.size() + value.size();
  };
  // Most chunks share their document's title: its terms are worked out once per title.
  std::string last_title;
  std::vector<std::string> title_terms = TitleTerms(last_title, c->info.lexical_version);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const uint64_t id = next++;
    ids.push_back(id);
    meta.chunks.push_back(id);
    Json record{{"doc", result.document_id}, {"start", chunks[i].start}, {"end", chunks[i].end}, {"text", chunks[i].text}};
    put(kChunks, ChunkKey(c->id, id), record.dump(-1, ' ', false, Json::error_handler_t::replace));
    for (const std::string& term : LexicalTerms(chunks[i].text, c->info.lexical_version)) ++term_counts[i][term];
    const std::string title = ArticleTitleAt(meta.articles, meta.title, chunks[i].start, chunks[i].end);
    if (title != last_title) {
      title_terms = TitleTerms(title, c->info.lexical_version);
      last_title = title;
    }
    for (const std::string& term : title_terms) ++term_counts[i][term];
    for (const auto& [term, tf] : term_counts[i]) {
      put(kPostings, PostingKey(c->id, term, id), rocksdb::Slice(reinterpret_cast<const char*>(&tf), 4));
    }
    if (!vectors.empty()) {
      put(kVectors, ChunkKey(c->id, id),
          rocksdb::Slice(reinterpret_cast<const char*>(vectors[i].data()), vectors[i].size() * sizeof(float)));
      flat_vectors.insert(flat_vectors.end(), vectors[i].begin(), vectors[i].end());
    }
  }
  stored_bytes += ids.size() * VectorIndexBytesPerChunk(*c);
  // The record holds its own size: what it is without that, and room for the number.
  const std::string doc_key = DocKey(c->id, result.document_id);
  meta.stored_bytes = stored_bytes + doc_key.size() + internal::DocumentRecord(meta).size() + 30;
  const uint64_t replaced_bytes = existing ? existing->stored_bytes : 0;
  if (absl::Status share = CheckTenantShare(*c, field, meta.stored_bytes, replaced_bytes); !share.ok()) return share;
  batch.Put(cf(kDocuments), doc_key, internal::DocumentRecord(meta));
  batch.Put(cf(kMeta), CounterKey(c->id), BigEndian64(next));
  absl::Status status = Write(&batch, field);
  if (!status.ok()) return status;

  // Committed: bring the in-memory indexes up to date.
  std::unique_lock lock(c->mutex);
  c->next_chunk = next;
  if (existing) {
    for (uint64_t old : existing->chunks) {
      c->lexical.Remove(old);
      c->chunk_document.erase(old);
    }
    if (c->vectors) c->vectors->Remove(existing->chunks);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    c->lexical.Add(ids[i], term_counts[i]);
    c->chunk_document[ids[i]] = result.document_id;
  }
  if (c->vectors && !ids.empty()) {
    c->unflushed += ids.size();
    pending->ids.insert(pending->ids.end(), ids.begin(), ids.end());
    pending->values.insert(pending->values.end(), flat_vectors.begin(), flat_vectors.end());
  }
  c->info.stored_bytes = c->info.stored_bytes - std::min(c->info.stored_bytes, replaced_bytes) + meta.stored_bytes;
  c->documents[result.document_id] = std::move(meta);
  c->info.document_count = c->documents.size();
  c->info.chunk_count = c->chunk_document.size();
  result.chunk_count = static_cast<uint32_t>(ids.size());
  return result;
}

absl::Status MemoryStoreImpl::FlushVectors(Collection* c, PendingVectors* pending) {
  std::lock_guard<std::mutex> write(write_mutex_);
  std::unique_lock lock(c->mutex);
  if (!c->vectors) return absl::OkStatus();
  c->unflushed -= pending->ids.size();
  // A deleted collection's index is gone with it (saving it would leave its file behind).
  if (c->deleted) {
    pending->ids.clear();
    pending->values.clear();
    return absl::OkStatus();
  }
  // Only chunks still stored: a DeleteDocuments (or a later version of the same document) that
  // came while this call ran removed its chunks from the index before they were added, and
  // added now they would stay — a flat index's nearest places taken by deleted documents.
  const size_t dimension = static_cast<size_t>(c->info.dimension);
  size_t kept = 0;
  for (size_t i = 0; i < pending->ids.size(); ++i) {
    if (!c->chunk_document.count(pending->ids[i])) continue;
    if (kept != i) {
      pending->ids[kept] = pending->ids[i];
      std::copy_n(pending->values.begin() + static_cast<std::ptrdiff_t>(i * dimension), dimension,
                  pending->values.begin() + static_cast<std::ptrdiff_t>(kept * dimension));
    }
    ++kept;
  }
  pending->ids.resize(kept);
  pending->values.resize(kept * dimension);
  absl::Status status = c->vectors->Add(pending->ids, pending->values);
  if (!status.ok()) return status;
  c->added_since_save += pending->ids.size();
  pending->ids.clear();
  pending->values.clear();
  if (c->unflushed > 0) return absl::OkStatus();
  if (c->vectors->dead() > c->vectors->size() / 5 + 1000) return BuildVectorIndex(c);  // drops dead HNSW entries
  if (c->added_since_save >= options_.index_save_interval) SaveIndexOrReport(c);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IngestResult>> MemoryStoreImpl::Ingest(const std::string& tenant, const std::string& collection,
                                                                  const std::vector<DocumentInput>& documents) {
  auto c = Find(tenant, collection);
  if (!c.ok()) return c.status();
  std::vector<IngestResult> results;
  PendingVectors pending;
  for (size_t i = 0; i < documents.size(); ++i) {
    auto result = IngestOne(c->get(), documents[i], i, &pending);
    if (!result.ok()) {
      // What was committed before the failure still goes into the index.
      FlushVectors(c->get(), &pending).IgnoreError();
      return result.status();
    }
    results.push_back(std::move(*result));
  }
  absl::Status status = FlushVectors(c->get(), &pending);
  if (!status.ok()) return status;
  return results;
}

absl::StatusOr<std::vector<std::string>> MemoryStoreImpl::DeleteDocuments(const std::string& tenant, const std::string& collection,
                                                                          const std::vector<std::string>& ids) {
  auto found = Find(tenant, collection);
  if (!found.ok()) return found.status();
  Collection* c = found->get();
  std::vector<std::string> deleted;
  std::lock_guard<std::mutex> write(write_mutex_);
  if (c->deleted) return absl::NotFoundError(absl::StrCat("collection \"", collection, "\" does not exist"));
  for (const std::string& id : ids) {
    DocumentMeta meta;
    {
      std::shared_lock lock(c->mutex);
      auto it = c->documents.find(id);
      if (it == c->documents.end()) continue;
      meta = it->second;
    }
    rocksdb::WriteBatch batch;
    DropChunks(c, meta, &batch);
    batch.Delete(cf(kDocuments), DocKey(c->id, id));
    absl::Status status = Write(&batch, "delete document " + id);
    if (!status.ok()) return status;
    std::unique_lock lock(c->mutex);
    for (uint64_t chunk : meta.chunks) {
      c->lexical.Remove(chunk);
      c->chunk_document.erase(chunk);
    }
    if (c->vectors) c->vectors->Remove(meta.chunks);
    c->info.stored_bytes -= std::min(c->info.stored_bytes, meta.stored_bytes);
    c->documents.erase(id);
    c->info.document_count = c->documents.size();
    c->info.chunk_count = c->chunk_document.size();
    deleted.push_back(id);
  }
  return deleted;
}

absl::StatusOr<std::vector<SearchHit>> MemoryStoreImpl::Search(const SearchQuery& q) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<SearchHit>> hits = SearchTimed(q);
  if (options_.on_search) options_.on_search(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return hits;
}

absl::StatusOr<std::vector<SearchHit>> MemoryStoreImpl::SearchTimed(const SearchQuery& q) {
  auto found = Find(q.tenant, q.collection);
  if (!found.ok()) return found.status();
  Collection* c = found->get();
  if (q.query.empty()) return absl::InvalidArgumentError("query: is required");
  const size_t k = static_cast<size_t>(q.k <= 0 ? 10 : std::min(q.k, 1000));
  const bool want_vector = q.mode != SearchMode::kLexical;
  const bool want_lexical = q.mode != SearchMode::kVector;
  if (q.mode == SearchMode::kVector && c->info.dimension == 0) {
    return absl::FailedPreconditionError(absl::StrCat("mode: collection \"", q.collection, "\" has no embeddings (lexical only)"));
  }
  std::vector<float> query_vector;
  if (want_vector && c->info.dimension > 0) {
    if (!EmbedderMatches(*c)) {
      return absl::FailedPreconditionError(absl::StrCat("collection \"", q.collection, "\" needs its embedding model \"",
                                                        c->info.spec.embedding_model, "\", which is not loaded",
                                                        LoadedEmbedderNote()));
    }
    auto embedded = options_.embedder->EmbedQuery(q.query);
    if (!embedded.ok()) return embedded.status();
    query_vector = std::move(*embedded);
  }

  std::shared_lock lock(c->mutex);
  const SearchFilter& f = q.filter;
  std::unordered_set<std::string> allowed_docs(f.document_ids.begin(), f.document_ids.end());
  auto accept = [&](uint64_t chunk) {
    auto doc = c->chunk_document.find(chunk);
    if (doc == c->chunk_document.end()) return false;  // deleted or never stored
    if (!allowed_docs.empty() && !allowed_docs.count(doc->second)) return false;
    if (f.metadata_equals.empty() && f.date_from.empty() && f.date_to.empty()) return true;
    const DocumentMeta& meta = c->documents.at(doc->second);
    for (const auto& [key, value] : f.metadata_equals) {
      auto it = meta.metadata.find(key);
      if (it == meta.metadata.end() || it->second != value) return false;
    }
    if (!f.date_from.empty() && (meta.date.empty() || meta.date < f.date_from)) return false;
    if (!f.date_to.empty() && (meta.date.empty() || meta.date > f.date_to)) return false;
    return true;
  };
  // For fusion each list goes deeper than k; filters make FAISS fetch more still.
  const bool filtered = !f.metadata_equals.empty() || !f.date_from.empty() || !f.date_to.empty() || !allowed_docs.empty();
  const size_t depth = q.mode == SearchMode::kVector ? k : std::max<size_t>(k * 4, 50);
  std::vector<std::pair<uint64_t, double>> lexical, vector;
  // The query's words in all their forms where the index's terms are made as the forms' are
  // (internal::WordForms: "rise" meets "rose").
  if (want_lexical) {
    std::vector<std::string> terms = LexicalTerms(q.query, c->info.lexical_version);
    if (c->info.lexical_version == kLexicalVersion) terms = word_forms_.WithForms(terms);
    lexical = c->lexical.Search(terms, depth, accept);
  }
  if (!query_vector.empty()) {
    // PQ codes only approximate the vectors: IVF-PQ fetches 8× deeper and re-ranks the
    // candidates with the exact vectors from the store.
    const bool rerank = c->info.spec.index.kind == IndexKind::kIvfPq;
    const size_t fetch = std::min<uint64_t>(depth * (filtered ? 4 : 1) * (rerank ? 8 : 1) + c->vectors->dead(),
                                            c->vectors->size());
    for (const auto& [chunk, similarity] : c->vectors->Search(query_vector, fetch)) {
      if (!accept(chunk)) continue;
      if (rerank) {
        std::string stored;
        if (!db_->Get(rocksdb::ReadOptions(), cf(kVectors), ChunkKey(c->id, chunk), &stored).ok() ||
            stored.size() != query_vector.size() * sizeof(float)) {
          continue;
        }
        const auto* v = reinterpret_cast<const float*>(stored.data());
        const double exact = c->info.spec.index.metric == Metric::kL2
                                 ? -internal::SquaredL2(query_vector.data(), v, query_vector.size())
                                 : internal::InnerProduct(query_vector.data(), v, query_vector.size());
        vector.emplace_back(chunk, exact);
        continue;
      }
      vector.emplace_back(chunk, similarity);
      if (vector.size() >= depth) break;
    }
    if (rerank) {
      std::sort(vector.begin(), vector.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      if (vector.size() > depth) vector.resize(depth);
    }
  }

  std::unordered_map<uint64_t, SearchHit> hits;
  for (size_t i = 0; i < lexical.size(); ++i) {
    SearchHit& h = hits[lexical[i].first];
    h.lexical_rank = static_cast<uint32_t>(i + 1);
    h.lexical_score = lexical[i].second;
  }
  for (size_t i = 0; i < vector.size(); ++i) {
    SearchHit& h = hits[vector[i].first];
    h.vector_rank = static_cast<uint32_t>(i + 1);
    h.vector_score = vector[i].second;
  }
  const double lexical_best = lexical.empty() || lexical[0].second <= 0 ? 1.0 : lexical[0].second;
  double vector_best = 0, vector_worst = 0;
  if (!vector.empty()) {
    auto [worst, best] = std::minmax_element(vector.begin(), vector.end(),
                                             [](const auto& a, const auto& b) { return a.second < b.second; });
    vector_best = best->second;
    vector_worst = worst->second;
  }
  const double vector_span = vector_best - vector_worst;
  std::vector<SearchHit> ranked;
  for (auto& [chunk, h] : hits) {
    h.chunk_id = chunk;
    if (q.mode == SearchMode::kLexical) {
      h.score = h.lexical_score;
    } else if (q.mode == SearchMode::kVector) {
      h.score = h.vector_score;
    } else {
      // A convex combination of the two scores, each scaled to [0, 1] over its list (BM25 by
      // its best, similarities min-max). Reciprocal-rank fusion, used before, throws the scores
      // away: a strong lexical first hit sank below chunks that were mediocre in both lists.
      // Measured in BENCHMARKS.md (retrieval): recall@1 rose on all three question sets.
      h.score = kLexicalWeight * (h.lexical_rank ? h.lexical_score / lexical_best : 0.0) +
                (1 - kLexicalWeight) * (h.vector_rank && vector_span > 0 ? (h.vector_score - vector_worst) / vector_span : 0.0);
    }
    ranked.push_back(h);
  }
  std::sort(ranked.begin(), ranked.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score > b.score || (a.score == b.score && a.chunk_id < b.chunk_id);
  });

  // Resolve against the store: provenance and text come from RocksDB, and a chunk it does not
  // have (or a damaged record) is never returned. Hits to widen note what that needs, so the
  // widening reads the neighbours after the collection's lock is released (a chunk deleted in
  // between reads as missing and leaves its hit as it is).
  std::vector<SearchHit> out;
  std::vector<Widening> widenings;
  for (SearchHit& h : ranked) {
    if (out.size() >= k) break;
    absl::StatusOr<ChunkRecord> record = ReadChunkRecord(*c, h.chunk_id, std::numeric_limits<size_t>::max());
    if (!record.ok()) continue;
    h.document_id = std::move(record->document_id);
    h.text = std::move(record->chunk.text);
    h.start = record->chunk.start;
    h.end = record->chunk.end;
    auto doc = c->documents.find(h.document_id);
    if (doc != c->documents.end()) {
      const DocumentMeta& meta = doc->second;
      h.title = ArticleTitleAt(meta.articles, meta.title, h.start, h.end);
      h.source = meta.source;
      h.issuer = meta.issuer;
      h.date = meta.date;
      h.metadata = meta.metadata;
      // The document's first chunk starts its first sentence, whatever whitespace was trimmed.
      h.starts_sentence = !meta.chunks.empty() && meta.chunks.front() == h.chunk_id;
      const auto at = q.whole_sentences && widenings.size() < kMaxWidenedHits
                          ? std::find(meta.chunks.begin(), meta.chunks.end(), h.chunk_id)
                          : meta.chunks.end();
      if (at != meta.chunks.end()) {
        const size_t index = static_cast<size_t>(at - meta.chunks.begin());
        Widening w;
        w.hit = out.size();
        if (index > 1) w.before_previous = meta.chunks[index - 2];
        if (index > 0) w.previous = meta.chunks[index - 1];
        if (index + 1 < meta.chunks.size()) w.next = meta.chunks[index + 1];
        w.index = index;
        // The widened span's title is chosen among the articles that can hold its middle: the
        // one open at `low` (as the title below them) and those starting up to `high`.
        const uint64_t low = h.start > 2 * kMaxWidening ? h.start - 2 * kMaxWidening : 0, high = h.end + 2 * kMaxWidening;
        auto after_low = std::upper_bound(meta.articles.begin(), meta.articles.end(), low,
                                          [](uint64_t offset, const ArticleStart& a) { return offset < a.offset; });
        w.title = after_low == meta.articles.begin() ? meta.title : std::prev(after_low)->title;
        for (auto a = after_low; a != meta.articles.end() && a->offset <= high; ++a) w.articles.push_back(*a);
        widenings.push_back(std::move(w));
      }
    }
    out.push_back(std::move(h));
  }
  lock.unlock();
  for (const Widening& w : widenings) WidenToSentences(*c, w, &out[w.hit]);
  return out;
}

// One chunk record, checked: a damaged one is DATA_LOSS, never offsets that cannot be; one of
// more than `max_bytes` is RESOURCE_EXHAUSTED (read only where its text is worth that).
absl::StatusOr<MemoryStoreImpl::ChunkRecord> MemoryStoreImpl::ReadChunkRecord(const Collection& c, uint64_t chunk_id,
                                                                               size_t max_bytes) const {
  std::string value;
  rocksdb::Status read = db_->Get(rocksdb::ReadOptions(), cf(kChunks), ChunkKey(c.id, chunk_id), &value);
  // Deleted or replaced since the metadata was copied: the document is being rewritten.
  if (read.IsNotFound()) return absl::UnavailableError("document_id: the document changed while it was read; retry");
  if (!read.ok()) return FromRocks(read, "memory store");
  if (value.size() > max_bytes) return absl::ResourceExhaustedError(absl::StrCat("memory store: chunk ", chunk_id, " is large"));
  const Json record = Json::parse(value, nullptr, false);
  const auto damaged = absl::DataLossError(absl::StrCat("memory store: damaged chunk record ", chunk_id));
  if (!record.is_object() || !record.contains("doc") || !record["doc"].is_string() || !record.contains("start") ||
      !record["start"].is_number_unsigned() || !record.contains("end") || !record["end"].is_number_unsigned() ||
      !record.contains("text") || !record["text"].is_string()) {
    return damaged;
  }
  ChunkRecord out;
  out.document_id = record["doc"].get<std::string>();
  out.chunk.start = record["start"].get<uint64_t>();
  out.chunk.end = record["end"].get<uint64_t>();
  out.chunk.text = record["text"].get<std::string>();
  if (out.chunk.start > out.chunk.end || out.chunk.end - out.chunk.start != CodePointCount(out.chunk.text)) return damaged;
  return out;
}

absl::StatusOr<internal::StoredChunk> MemoryStoreImpl::ReadChunk(const Collection& c, uint64_t chunk_id) const {
  absl::StatusOr<ChunkRecord> record = ReadChunkRecord(c, chunk_id, std::numeric_limits<size_t>::max());
  if (!record.ok()) return record.status();
  return std::move(record->chunk);
}

// The hit moved out to the sentences its chunk was cut inside (sentence_span.h), each edge
// settled in a window of the document at most 2 · kMaxWidening on either side of it, so the
// work per hit is bounded whatever the chunks' size; the text is stitched from the neighbours
// (StitchWindow: whitespace the chunker trimmed between chunks that do not overlap comes back as
// a stand-in). A neighbour that cannot be read, or is too large to be worth it, leaves that edge.
void MemoryStoreImpl::WidenToSentences(const Collection& c, const Widening& w, SearchHit* hit) const {
  constexpr uint64_t kReach = 2 * kMaxWidening;
  constexpr size_t kMaxNeighbourBytes = 64 * 1024;
  if (hit->end <= hit->start) return;
  std::vector<internal::StoredChunk> chunks;
  size_t first_index = w.index;  // of the window's first chunk
  if (w.previous.has_value()) {
    absl::StatusOr<ChunkRecord> previous = ReadChunkRecord(c, *w.previous, kMaxNeighbourBytes);
    if (previous.ok()) {
      if (w.before_previous.has_value()) {
        absl::StatusOr<ChunkRecord> before = ReadChunkRecord(c, *w.before_previous, kMaxNeighbourBytes);
        if (before.ok()) {
          chunks.push_back(std::move(before->chunk));
          first_index = w.index - 2;
        }
      }
      chunks.push_back(std::move(previous->chunk));
      if (first_index == w.index) first_index = w.index - 1;
    }
  }
  // A chunk that cannot be read leaves the window starting later, in the middle of the document.
  const bool first_is_document_start = first_index == 0;
  chunks.push_back({hit->start, hit->end, hit->text});
  if (w.next.has_value()) {
    absl::StatusOr<ChunkRecord> next = ReadChunkRecord(c, *w.next, kMaxNeighbourBytes);
    if (next.ok()) chunks.push_back(std::move(next->chunk));
  }
  // Within the article holding the hit: widened across a later story's start (its byline), a
  // passage ran on into that story and was cited under the first one's headline.
  uint64_t article_start = 0, article_end = std::numeric_limits<uint64_t>::max();
  for (const ArticleStart& a : w.articles) {
    if (a.offset <= hit->start) article_start = std::max(article_start, a.offset);
    if (a.offset >= hit->end) article_end = std::min(article_end, a.offset);
  }
  const uint64_t first = std::max(std::min(chunks.front().start, hit->start), article_start),
                 last = std::min(std::max(chunks.back().end, hit->end), article_end);
  const bool first_starts_text = first_is_document_start || (article_start > 0 && first == article_start);
  const internal::SentenceSpanOptions options{.max_widening = kMaxWidening};
  // Each edge from the document within `reach` of it on both sides (a sentence it cuts ends or
  // starts on the other side of it, maybe beyond the hit).
  auto window = [&](uint64_t edge) {
    return std::pair{std::max(first, edge > kReach ? edge - kReach : 0), std::min(last, edge + kReach)};
  };
  const auto [start_from, start_to] = window(hit->start);
  const internal::SentenceSpan start_span = internal::WidenToSentences(
      internal::StitchWindow(chunks, start_from, start_to), start_from, first_starts_text && start_from == first,
      hit->start, std::min(hit->end, start_to), options);
  const auto [end_from, end_to] = window(hit->end);
  const internal::SentenceSpan end_span = internal::WidenToSentences(
      internal::StitchWindow(chunks, end_from, end_to), end_from, first_starts_text && end_from == first,
      std::max(hit->start, end_from), hit->end, options);
  hit->starts_sentence = hit->starts_sentence || start_span.starts_sentence;
  if (start_span.start == hit->start && end_span.end == hit->end) return;
  hit->start = start_span.start;
  hit->end = end_span.end;
  hit->text = internal::StitchWindow(chunks, hit->start, hit->end);
  hit->title = ArticleTitleAt(w.articles, w.title, hit->start, hit->end);
}

absl::StatusOr<PassageWindow> MemoryStoreImpl::ReadPassage(const PassageQuery& query) {
  constexpr uint64_t kMaxContext = 20000;
  constexpr uint64_t kMaxPassage = 65536;
  auto found = Find(query.tenant, query.collection);
  if (!found.ok()) return found.status();
  const std::shared_ptr<Collection>& c = *found;
  DocumentMeta meta;
  {
    std::shared_lock lock(c->mutex);
    auto it = c->documents.find(query.document_id);
    if (it == c->documents.end()) {
      return absl::NotFoundError(absl::StrCat("document_id: no document \"", query.document_id, "\" in collection \"",
                                              query.collection, "\""));
    }
    meta = it->second;
  }
  auto read_chunk = [&](size_t index) { return ReadChunk(*c, meta.chunks[index]); };
  if (meta.chunks.empty()) return absl::DataLossError("memory store: a document without chunks");
  PassageWindow window;
  window.document_id = query.document_id;
  window.source = meta.source;
  window.date = meta.date;
  // Chunks are stored in document order, their starts and ends rising: the last one ends the
  // document, and a binary search finds the first one the window needs.
  absl::StatusOr<internal::StoredChunk> last = read_chunk(meta.chunks.size() - 1);
  if (!last.ok()) return last.status();
  window.document_end = last->end;
  if (query.start >= query.end || query.end > window.document_end || query.end - query.start > kMaxPassage) {
    return absl::OutOfRangeError(absl::StrCat("span: [", query.start, ", ", query.end, ") is not a passage of document \"",
                                              query.document_id, "\" (", window.document_end, " characters; a passage is at most ",
                                              kMaxPassage, ")"));
  }
  window.title = ArticleTitleAt(meta.articles, meta.title, query.start, query.end);
  const uint64_t context = std::min(query.context, kMaxContext);
  window.window_start = query.start > context ? query.start - context : 0;
  window.window_end = std::min(window.document_end, query.end + context);  // no overflow: both are bounded above
  size_t low = 0, high = meta.chunks.size() - 1;  // the first chunk ending after window_start is in [low, high]
  while (low < high) {
    const size_t middle = low + (high - low) / 2;
    absl::StatusOr<internal::StoredChunk> chunk = read_chunk(middle);
    if (!chunk.ok()) return chunk.status();
    if (chunk->end <= window.window_start) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  std::vector<internal::StoredChunk> chunks;
  for (size_t i = low; i < meta.chunks.size(); ++i) {
    absl::StatusOr<internal::StoredChunk> chunk = read_chunk(i);
    if (!chunk.ok()) return chunk.status();
    if (chunk->start >= window.window_end) break;
    chunks.push_back(std::move(*chunk));
  }
  window.text = internal::StitchWindow(chunks, window.window_start, window.window_end);
  return window;
}

absl::StatusOr<CollectionStats> MemoryStoreImpl::Stats(const std::string& tenant, const std::string& collection) {
  auto found = Find(tenant, collection);
  if (!found.ok()) return found.status();
  Collection* c = found->get();
  std::shared_lock lock(c->mutex);
  CollectionStats stats;
  stats.info = c->info;
  if (c->vectors) {
    stats.vector_count = c->vectors->size() - std::min(c->vectors->size(), c->vectors->dead());
    stats.index_bytes = c->vectors->bytes();
  }
  stats.term_count = c->lexical.term_count();
  stats.index_sequence = c->index_sequence;
  stats.store_sequence = db_->GetLatestSequenceNumber();
  const std::string prefix = Prefix(c->id), end = PrefixEnd(prefix);
  rocksdb::Range range(prefix, end);
  rocksdb::SizeApproximationOptions approximation;
  approximation.include_memtables = true;
  approximation.include_files = true;
  for (Family f : {kDocuments, kChunks, kVectors, kPostings}) {
    uint64_t size = 0;
    if (db_->GetApproximateSizes(approximation, cf(f), &range, 1, &size).ok()) stats.store_bytes += size;
  }
  return stats;
}

absl::Status MemoryStoreImpl::Close() {
  if (closed_ || !db_) return absl::OkStatus();
  closed_ = true;
  disk_.Stop(db_.get());
  absl::Status status;
  {
    std::lock_guard<std::mutex> write(write_mutex_);
    std::shared_lock lock(collections_mutex_);
    for (auto& [key, c] : collections_) {
      std::unique_lock cl(c->mutex);
      absl::Status saved = SaveIndex(c.get());
      if (status.ok()) status = saved;
    }
  }
  absl::Status flushed = FromRocks(db_->FlushWAL(true), "memory store flush");
  if (status.ok()) status = flushed;
  // The memtables too (as the state store does): writes kept out of the WAL (rocksdb_disk.h's
  // markers) survive only in files, and the next open has no WAL to replay.
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  if (flushed.ok()) flushed = FromRocks(db_->Flush(flush_options, handles_), "memory store flush");
  if (status.ok()) status = flushed;
  for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  absl::Status closed = FromRocks(db_->Close(), "memory store close");
  db_.reset();
  return status.ok() ? closed : status;
}

}  // namespace

bool IsValidCollectionName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                    ch == '.' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<MemoryStore>> MemoryStore::Open(const MemoryStoreOptions& options) {
  auto store = std::make_unique<MemoryStoreImpl>(options);
  absl::Status status = store->Init();
  if (!status.ok()) return status;
  return std::unique_ptr<MemoryStore>(std::move(store));
}

}  // namespace memory
