// The memory store on a real RocksDB directory: collections, ingest (dedupe, update), deletes,
// lexical/vector/hybrid search with filters, and persistence across reopen, including a stale
// or missing FAISS index file.
#include "memory/memory_store.h"

#include "absl/strings/str_cat.h"
#include "memory/sentences.h"
#include "memory/tables.h"

#include "rocksdb/db.h"
#include "store_layout.h"
#include "vector_index.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <locale>
#include <codecvt>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "memory/chunker.h"
#include "memory/document_title.h"
#include "memory/lexical.h"
#include "support/daemon_process.h"
#include "support/full_disk.h"

namespace memory {
namespace {

using ::testing::HasSubstr;
using testing_support::TempDir;

// A deterministic test embedder: hashed bag of lexical terms, L2-normalised. Texts sharing
// terms are close, which is all these tests need from an embedding.
class HashingEmbedder : public Embedder {
 public:
  explicit HashingEmbedder(int dimension = 64) : dimension_(dimension) {}
  std::string model_name() const override { return "hashing-test"; }
  int dimension() const override { return dimension_; }
  absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const std::string& text : texts) {
      std::vector<float> v(dimension_, 0.0f);
      for (const std::string& term : LexicalTerms(text)) v[std::hash<std::string>()(term) % dimension_] += 1.0f;
      double norm = 0;
      for (float x : v) norm += x * x;
      for (float& x : v) x = norm > 0 ? static_cast<float>(x / std::sqrt(norm)) : 0.0f;
      out.push_back(std::move(v));
    }
    return out;
  }

 private:
  int dimension_;
};

// The hashing embedder with a gate: once Hold(n) is called, its n-th Embed call from then on and
// every later one wait inside Embed until Release(), so that a test can stop an Ingest between
// reading what is stored and writing (the embedding is done before the write lock is taken).
class GatedEmbedder : public HashingEmbedder {
 public:
  absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    {
      std::unique_lock lock(mutex_);
      if (holding_ && ++calls_ >= hold_from_) {
        ++waiting_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return !holding_; });
        --waiting_;
      }
    }
    return HashingEmbedder::Embed(texts);
  }
  void Hold(int from_call) {
    std::lock_guard lock(mutex_);
    holding_ = true;
    hold_from_ = from_call;
    calls_ = 0;
  }
  // Whether `count` calls came to wait within a minute (a guard against a hang, not a timing).
  bool WaitForHeld(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return waiting_ >= count; });
  }
  void Release() {
    std::lock_guard lock(mutex_);
    holding_ = false;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool holding_ = false;
  int hold_from_ = 1, calls_ = 0, waiting_ = 0;
};

std::vector<DocumentInput> Reports();

class MemoryStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<MemoryStore> Open(const std::function<void(MemoryStoreOptions*)>& configure = nullptr) {
    MemoryStoreOptions options;
    options.path = dir_.Join("memory");
    options.embedder = &embedder_;
    if (configure) configure(&options);
    auto store = MemoryStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  }
  // Replaces the first record of a column family of the closed store with `value`, as a damaged
  // disk might.
  void OverwriteFirstRecord(memory::internal::Family family, const std::string& value) {
    RewriteFirstRecord(family, [&](const std::string&) { return value; });
  }

  // The store's first record of `family` replaced by rewrite(its value), the store closed.
  void RewriteFirstRecord(memory::internal::Family family, const std::function<std::string(const std::string&)>& rewrite) {
    WithClosedStore(dir_.Join("memory"), [&](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[family]));
      it->SeekToFirst();
      ASSERT_TRUE(it->Valid());
      const std::string key = it->key().ToString(), value = rewrite(it->value().ToString());
      it.reset();
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[family], key, value).ok());
    });
  }

  // Collection "c" of tenant "t" created with `index` and given Reports(), then its stored index
  // settings changed by `change`, as a build that did not check them could have written them.
  void StoreCollectionThenRewriteItsIndex(const IndexSpec& index, const std::function<void(IndexSpec*)>& change) {
    {
      auto store = Open();
      ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .index = index}).ok());
      ASSERT_TRUE(store->Ingest("t", "c", Reports()).ok());
    }
    ASSERT_NO_FATAL_FAILURE(RewriteFirstRecord(memory::internal::kCollections, [&](const std::string& record) {
      uint32_t id = 0;
      auto info = memory::internal::ParseCollectionRecord(record, &id);
      EXPECT_TRUE(info.ok()) << info.status();
      if (!info.ok()) return record;
      change(&info->spec.index);
      return memory::internal::CollectionRecord(*info, id);
    }));
  }

  // The postings a closed store at `path` holds, and their keys' bytes.
  static std::pair<size_t, size_t> Postings(const std::string& path) {
    size_t count = 0, bytes = 0;
    WithClosedStore(path, [&](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[memory::internal::kPostings]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        ++count;
        bytes += it->key().size();
      }
    });
    return {count, bytes};
  }

  // `use` given the RocksDB of the closed store at `path`, opened as the store opens it.
  static void WithClosedStore(
      const std::string& path,
      const std::function<void(rocksdb::DB*, const std::vector<rocksdb::ColumnFamilyHandle*>&)>& use) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : memory::internal::kFamilyNames) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), path + "/db", families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    use(db.get(), handles);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }

  TempDir dir_;
  // Embeds as HashingEmbedder does until a test holds it (MemoryStoreRaceTest).
  GatedEmbedder embedder_;
};

std::vector<DocumentInput> Reports() {
  return {{.id = "nvda", .text = "1月27日英伟达股价一度下跌17%，市值蒸发近6000亿美元。", .title = "市场反应", .date = "2025-01-28",
           .metadata = {{"sector", "semis"}}},
          {.id = "v3", .text = "DeepSeek-V3 预训练仅花费 2.788M H800 GPU 小时，成本约 557.6 万美元。", .title = "V3 成本",
           .date = "2024-12-26", .metadata = {{"sector", "ai"}}},
          {.id = "agent", .text = "2023年中国AI Agent市场规模约为554亿元，预计持续高速增长。", .title = "Agent 市场",
           .date = "2024-06-01", .metadata = {{"sector", "ai"}}}};
}

// The hashing embedder under another model's name, and with a query prompt: vectors of the
// same dimension that mean something else.
class RenamedEmbedder : public HashingEmbedder {
 public:
  std::string model_name() const override { return "other-model"; }
};

class QueryPromptEmbedder : public HashingEmbedder {
 public:
  absl::StatusOr<std::vector<float>> EmbedQuery(const std::string& query) override {
    queries.push_back(query);
    return HashingEmbedder::EmbedQuery(query);
  }
  std::vector<std::string> queries;
};

TEST_F(MemoryStoreTest, ACollectionIsOnlyEmbeddedAndSearchedWithItsOwnModel) {
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {Reports()[0]}).ok());
    ASSERT_TRUE(store->Close().ok());
  }
  RenamedEmbedder renamed;
  MemoryStoreOptions options;
  options.path = dir_.Join("memory");
  options.embedder = &renamed;
  {
    auto store = MemoryStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    auto ingest = (*store)->Ingest("t", "c", {Reports()[1]});
    EXPECT_EQ(ingest.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(ingest.status().message(), HasSubstr("\"hashing-test\""));
    EXPECT_THAT(ingest.status().message(), HasSubstr("loaded: \"other-model\""));
    auto vector = (*store)->Search({.tenant = "t", .collection = "c", .query = "英伟达股价", .mode = SearchMode::kVector});
    EXPECT_EQ(vector.status().code(), absl::StatusCode::kFailedPrecondition);
    auto lexical = (*store)->Search({.tenant = "t", .collection = "c", .query = "英伟达股价", .mode = SearchMode::kLexical});
    ASSERT_TRUE(lexical.ok()) << lexical.status();
    EXPECT_EQ(lexical->size(), 1u);
    ASSERT_TRUE((*store)->Close().ok());
  }
  // Nothing was written by the refused calls: the original model still finds exactly one document.
  auto store = Open();
  auto stats = store->Stats("t", "c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->info.document_count, 1u);
  auto vector = store->Search({.tenant = "t", .collection = "c", .query = "英伟达股价", .mode = SearchMode::kVector});
  ASSERT_TRUE(vector.ok()) << vector.status();
  ASSERT_FALSE(vector->empty());
  EXPECT_EQ((*vector)[0].document_id, "nvda");
}

TEST_F(MemoryStoreTest, SearchEmbedsTheQueryAsAQuery) {
  QueryPromptEmbedder embedder;
  MemoryStoreOptions options;
  options.path = dir_.Join("memory");
  options.embedder = &embedder;
  auto store = MemoryStore::Open(options);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateCollection({.tenant = "t", .name = "c"}).ok());
  ASSERT_TRUE((*store)->Ingest("t", "c", Reports()).ok());
  EXPECT_TRUE(embedder.queries.empty());  // documents are not queries
  ASSERT_TRUE((*store)->Search({.tenant = "t", .collection = "c", .query = "市场规模", .mode = SearchMode::kHybrid}).ok());
  EXPECT_EQ(embedder.queries, std::vector<std::string>{"市场规模"});
}

TEST_F(MemoryStoreTest, CollectionsAreCreatedListedAndDeleted) {
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "reports"}).ok());
  EXPECT_EQ(store->CreateCollection({.tenant = "t", .name = "reports"}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(store->CreateCollection({.tenant = "other", .name = "reports"}).ok());  // per tenant
  EXPECT_THAT(store->CreateCollection({.tenant = "t", .name = "bad name"}).status().message(), HasSubstr("name:"));
  EXPECT_THAT(store->CreateCollection({.tenant = "t", .name = "x", .embedding_model = "other-model"}).status().message(),
              HasSubstr("embedding_model"));
  auto list = store->ListCollections("t");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].dimension, 64);
  EXPECT_EQ((*list)[0].spec.embedding_model, "hashing-test");
  ASSERT_TRUE(store->Ingest("t", "reports", Reports()).ok());
  auto deleted = store->DeleteCollection("t", "reports");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 3u);
  EXPECT_EQ(store->Search({.tenant = "t", .collection = "reports", .query = "x"}).status().code(), absl::StatusCode::kNotFound);
  // The name is free again, and the new collection is empty.
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "reports"}).ok());
  EXPECT_EQ(store->Stats("t", "reports")->info.document_count, 0u);
}

// A document of `words` words no other holds ("w<seed>x<i>"), so that search tells whether it is stored.
DocumentInput WordsDocument(const std::string& id, int seed, int words) {
  std::string text;
  for (int i = 0; i < words; ++i) absl::StrAppend(&text, "w", seed, "x", i, i % 12 == 11 ? ".\n" : " ");
  return {.id = id, .text = text};
}

bool Finds(MemoryStore& store, const std::string& tenant, const std::string& collection, int seed) {
  auto hits = store.Search({.tenant = tenant, .collection = collection, .query = absl::StrCat("w", seed, "x0"),
                            .mode = SearchMode::kLexical});
  return hits.ok() && !hits->empty();
}

TEST_F(MemoryStoreTest, ATenantStoresUpToItsShareAndTheOthersAreNotCharged) {
  uint64_t one_document = 0;
  {
    auto probe = Open();
    ASSERT_TRUE(probe->CreateCollection({.tenant = "probe", .name = "c"}).ok());
    ASSERT_TRUE(probe->Ingest("probe", "c", {WordsDocument("d", 0, 300)}).ok());
    one_document = probe->Usage("probe").stored_bytes;
    ASSERT_TRUE(probe->DeleteCollection("probe", "c").ok());
  }
  ASSERT_GT(one_document, 300u * 4);
  // Room for three such documents and a half.
  auto store = Open([&](MemoryStoreOptions* o) { o->max_stored_bytes_per_tenant = one_document * 7 / 2; });
  for (const char* tenant : {"a", "b"}) ASSERT_TRUE(store->CreateCollection({.tenant = tenant, .name = "c"}).ok());
  auto stored = store->Ingest("a", "c", {WordsDocument("1", 1, 300), WordsDocument("2", 2, 300),
                                         WordsDocument("3", 3, 300), WordsDocument("4", 4, 300)});
  ASSERT_EQ(stored.status().code(), absl::StatusCode::kResourceExhausted) << stored.status();
  EXPECT_THAT(stored.status().message(), HasSubstr("documents[3]: not written"));
  EXPECT_THAT(stored.status().message(), HasSubstr("max_stored_bytes_per_tenant"));
  // The three before it are stored, nothing of the fourth.
  for (int seed : {1, 2, 3}) EXPECT_TRUE(Finds(*store, "a", "c", seed)) << seed;
  EXPECT_FALSE(Finds(*store, "a", "c", 4));
  auto stats = store->Stats("a", "c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->info.document_count, 3u);
  EXPECT_EQ(stats->info.stored_bytes, store->Usage("a").stored_bytes);
  EXPECT_GE(store->Usage("a").stored_bytes, one_document * 3 - 16);
  // In another collection of its own as well; and the other tenant is charged nothing of it.
  ASSERT_TRUE(store->CreateCollection({.tenant = "a", .name = "d"}).ok());
  EXPECT_EQ(store->Ingest("a", "d", {WordsDocument("5", 5, 300)}).status().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(store->Ingest("b", "c", {WordsDocument("1", 1, 300), WordsDocument("2", 2, 300),
                                       WordsDocument("3", 3, 300)}).ok());
  // Deleting makes room; the count survives a restart.
  ASSERT_TRUE(store->DeleteDocuments("a", "c", {"1"}).ok());
  ASSERT_TRUE(store->Ingest("a", "d", {WordsDocument("5", 5, 300)}).ok()) << "room made by the deletion";
  const TenantUsage before = store->Usage("a");
  store.reset();
  store = Open([&](MemoryStoreOptions* o) { o->max_stored_bytes_per_tenant = one_document * 7 / 2; });
  const TenantUsage after = store->Usage("a");
  EXPECT_EQ(after.stored_bytes, before.stored_bytes);
  EXPECT_EQ(after.collections, 2u);
  EXPECT_EQ(after.max_stored_bytes, one_document * 7 / 2);
  EXPECT_EQ(store->Ingest("a", "c", {WordsDocument("6", 6, 300)}).status().code(), absl::StatusCode::kResourceExhausted);
  // A document made smaller is let through even at the limit, and frees what it gave up.
  ASSERT_TRUE(store->Ingest("a", "c", {WordsDocument("2", 2, 30)}).ok());
  EXPECT_LT(store->Usage("a").stored_bytes, before.stored_bytes);
  ASSERT_TRUE(store->DeleteCollection("a", "d").ok());
  EXPECT_TRUE(store->Ingest("a", "c", {WordsDocument("6", 6, 300)}).ok()) << "room made by the collection's deletion";
}

TEST_F(MemoryStoreTest, ATenantHasAtMostItsCollections) {
  auto store = Open([](MemoryStoreOptions* o) { o->max_collections_per_tenant = 2; });
  ASSERT_TRUE(store->CreateCollection({.tenant = "a", .name = "one"}).ok());
  ASSERT_TRUE(store->CreateCollection({.tenant = "a", .name = "two"}).ok());
  auto third = store->CreateCollection({.tenant = "a", .name = "three"});
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted) << third.status();
  EXPECT_THAT(third.status().message(), HasSubstr("max_collections_per_tenant"));
  // A tenant whose name begins like another's has its own count.
  EXPECT_TRUE(store->CreateCollection({.tenant = "ab", .name = "one"}).ok());
  EXPECT_TRUE(store->CreateCollection({.tenant = "b", .name = "three"}).ok());
  ASSERT_TRUE(store->DeleteCollection("a", "one").ok());
  EXPECT_TRUE(store->CreateCollection({.tenant = "a", .name = "three"}).ok());
  EXPECT_EQ(store->Usage("a").collections, 2u);
}

TEST_F(MemoryStoreTest, DocumentsStoredBeforeTheirSizesWereKeptAreMeasuredAtOpen) {
  uint64_t kept = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {WordsDocument("only", 1, 400)}).ok());
    kept = store->Usage("t").stored_bytes;
  }
  // The record as an earlier daemon wrote it: without its size.
  ASSERT_NO_FATAL_FAILURE(RewriteFirstRecord(memory::internal::kDocuments, [](const std::string& record) {
    auto meta = memory::internal::ParseDocumentRecord(record);
    EXPECT_TRUE(meta.ok() && meta->stored_bytes > 0);
    meta->stored_bytes = 0;
    return memory::internal::DocumentRecord(*meta);
  }));
  auto store = Open();
  const uint64_t measured = store->Usage("t").stored_bytes;
  // The same records, less the room the size itself took.
  EXPECT_LE(measured, kept);
  EXPECT_GE(measured + 64, kept);
}

TEST_F(MemoryStoreTest, IngestIsIdempotentAndUpdatesReplaceChunks) {
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
  auto first = store->Ingest("t", "c", Reports());
  ASSERT_TRUE(first.ok()) << first.status();
  for (const IngestResult& r : *first) EXPECT_EQ(r.outcome, IngestOutcome::kCreated);
  auto again = store->Ingest("t", "c", Reports());
  for (const IngestResult& r : *again) EXPECT_EQ(r.outcome, IngestOutcome::kUnchanged);

  DocumentInput changed = Reports()[0];
  changed.text = "英伟达股价反弹。";
  auto updated = store->Ingest("t", "c", {changed});
  EXPECT_EQ((*updated)[0].outcome, IngestOutcome::kUpdated);
  // The replaced text is gone from the index: its words find nothing of nvda's, while the new
  // text is found.
  auto old_text = store->Search({.tenant = "t", .collection = "c", .query = "市值蒸发", .mode = SearchMode::kLexical});
  ASSERT_TRUE(old_text.ok());
  for (const SearchHit& h : *old_text) EXPECT_NE(h.document_id, "nvda") << h.text;
  auto new_text = store->Search({.tenant = "t", .collection = "c", .query = "股价反弹", .mode = SearchMode::kLexical});
  ASSERT_TRUE(new_text.ok());
  ASSERT_FALSE(new_text->empty());
  EXPECT_EQ((*new_text)[0].document_id, "nvda");

  // No id: derived from the content hash, so the same text dedupes.
  auto anonymous = store->Ingest("t", "c", {{.text = "同样的内容"}, {.text = "同样的内容"}});
  EXPECT_EQ((*anonymous)[0].document_id, (*anonymous)[1].document_id);
  EXPECT_EQ((*anonymous)[1].outcome, IngestOutcome::kUnchanged);

  EXPECT_THAT(store->Ingest("t", "c", {{.id = "x", .text = ""}}).status().message(), HasSubstr("documents[0].text"));
  EXPECT_THAT(store->Ingest("t", "c", {{.text = "a", .date = "2024/01/01"}}).status().message(), HasSubstr("date"));
}

TEST_F(MemoryStoreTest, ADamagedRecordIsDataLossNotACrash) {
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {Reports()[0]}).ok());
  }
  // Overwrite the document's record with JSON of the wrong shape, as a damaged disk might.
  ASSERT_NO_FATAL_FAILURE(OverwriteFirstRecord(memory::internal::kDocuments, R"({"chunks": "not a list"})"));
  MemoryStoreOptions options;
  options.path = dir_.Join("memory");
  options.embedder = &embedder_;
  auto store = MemoryStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr("document"));
}

TEST_F(MemoryStoreTest, SearchModesFiltersAndProvenance) {
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
  ASSERT_TRUE(store->Ingest("t", "c", Reports()).ok());
  for (SearchMode mode : {SearchMode::kLexical, SearchMode::kVector, SearchMode::kHybrid}) {
    auto hits = store->Search({.tenant = "t", .collection = "c", .query = "中国AI Agent市场规模", .k = 2, .mode = mode});
    ASSERT_TRUE(hits.ok()) << hits.status();
    ASSERT_FALSE(hits->empty());
    EXPECT_EQ((*hits)[0].document_id, "agent") << static_cast<int>(mode);
    EXPECT_EQ((*hits)[0].title, "Agent 市场");
    EXPECT_THAT((*hits)[0].text, HasSubstr("554"));
    EXPECT_EQ((*hits)[0].start, 0u);
    EXPECT_GT((*hits)[0].end, 10u);
  }
  auto filtered = store->Search({.tenant = "t", .collection = "c", .query = "成本 市场 股价", .k = 10,
                                 .mode = SearchMode::kLexical, .filter = {.metadata_equals = {{"sector", "ai"}}}});
  ASSERT_TRUE(filtered.ok());
  ASSERT_FALSE(filtered->empty()) << "the filter must leave the other documents";
  for (const SearchHit& h : *filtered) EXPECT_NE(h.document_id, "nvda");
  auto dated = store->Search({.tenant = "t", .collection = "c", .query = "成本 市场 股价", .k = 10,
                              .mode = SearchMode::kLexical, .filter = {.date_from = "2025-01-01"}});
  ASSERT_EQ(dated->size(), 1u);
  EXPECT_EQ((*dated)[0].document_id, "nvda");
  auto by_id = store->Search({.tenant = "t", .collection = "c", .query = "成本", .k = 10, .mode = SearchMode::kHybrid,
                              .filter = {.document_ids = {"v3"}}});
  ASSERT_TRUE(by_id.ok());
  ASSERT_FALSE(by_id->empty());
  for (const SearchHit& h : *by_id) EXPECT_EQ(h.document_id, "v3");

  auto deleted = store->DeleteDocuments("t", "c", {"agent", "missing"});
  EXPECT_THAT(*deleted, ::testing::ElementsAre("agent"));
  auto after = store->Search({.tenant = "t", .collection = "c", .query = "中国AI Agent市场规模", .k = 10});
  ASSERT_TRUE(after.ok());
  ASSERT_FALSE(after->empty()) << "the other documents are still there";
  for (const SearchHit& h : *after) EXPECT_NE(h.document_id, "agent");
}

TEST_F(MemoryStoreTest, LexicalOnlyCollectionsWorkWithoutAnEmbedder) {
  MemoryStoreOptions options;
  options.path = dir_.Join("lexical");
  auto store = MemoryStore::Open(options);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->CreateCollection({.tenant = "t", .name = "c"}).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*store)->CreateCollection({.tenant = "t", .name = "c", .embedding_model = kNoEmbeddings}).ok());
  ASSERT_TRUE((*store)->Ingest("t", "c", Reports()).ok());
  auto hits = (*store)->Search({.tenant = "t", .collection = "c", .query = "英伟达股价", .k = 1});
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[0].document_id, "nvda");
  EXPECT_EQ((*store)->Search({.tenant = "t", .collection = "c", .query = "x", .mode = SearchMode::kVector}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A query's word meets its other forms in the index: "rise" finds "## Why prices rose".
  ASSERT_TRUE((*store)->Ingest("t", "c", {{.id = "coffee", .text = "## Why prices rose\n\nA severe drought in Brazil damaged flowering."}}).ok());
  auto risen = (*store)->Search({.tenant = "t", .collection = "c", .query = "did it rise", .k = 1});
  ASSERT_TRUE(risen.ok());
  ASSERT_FALSE(risen->empty());
  EXPECT_EQ((*risen)[0].document_id, "coffee");
}

TEST_F(MemoryStoreTest, ReopenKeepsEverythingAndRebuildsOrReplaysTheVectorIndex) {
  const std::string index_file = dir_.Join("memory/index/1.faiss");
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .index = {.kind = IndexKind::kHnsw}}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {Reports()[0]}).ok());
  }  // Close saves the index at this point
  ASSERT_TRUE(std::filesystem::exists(index_file));
  std::filesystem::copy_file(index_file, dir_.Join("stale.faiss"));
  {
    auto store = Open();
    ASSERT_TRUE(store->Ingest("t", "c", {Reports()[1], Reports()[2]}).ok());
    ASSERT_TRUE(store->DeleteDocuments("t", "c", {"nvda"}).ok());
  }
  auto vector_ids = [&](MemoryStore* store) {
    auto hits = store->Search({.tenant = "t", .collection = "c", .query = "成本 市场 股价 英伟达", .k = 10, .mode = SearchMode::kVector});
    std::set<std::string> ids;
    for (const SearchHit& h : *hits) ids.insert(h.document_id);
    return ids;
  };
  const std::set<std::string> expected = {"v3", "agent"};
  // A stale index (saved before the second session) catches up by replaying the WAL.
  std::filesystem::copy_file(dir_.Join("stale.faiss"), index_file, std::filesystem::copy_options::overwrite_existing);
  {
    auto store = Open();
    EXPECT_EQ(vector_ids(store.get()), expected);
    auto stats = store->Stats("t", "c");
    EXPECT_EQ(stats->info.document_count, 2u);
    EXPECT_EQ(stats->vector_count, stats->info.chunk_count);
  }
  // A missing index is rebuilt from the stored vectors; so is a corrupt one.
  std::filesystem::remove(index_file);
  EXPECT_EQ(vector_ids(Open().get()), expected);
  testing_support::WriteFile(index_file, "AGENTD-FAISS garbage");
  EXPECT_EQ(vector_ids(Open().get()), expected);
}

TEST_F(MemoryStoreTest, IvfPqSearchesExactlyUntilTrainedThenApproximately) {
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .index = {.kind = IndexKind::kIvfPq, .ivf_nlist = 4, .ivf_nprobe = 4, .pq_m = 8, .pq_nbits = 4}}).ok());
  std::vector<DocumentInput> docs;
  for (int i = 0; i < 300; ++i) docs.push_back({.id = "d" + std::to_string(i), .text = "文档 " + std::to_string(i) + " 关于主题" + std::to_string(i % 7)});
  // Trains once it holds 16 × 2^4 = 256 vectors, part-way through this batch.
  auto ingested = store->Ingest("t", "c", docs);
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  auto hits = store->Search({.tenant = "t", .collection = "c", .query = "文档 17 关于主题3", .k = 5, .mode = SearchMode::kVector});
  ASSERT_TRUE(hits.ok()) << hits.status();
  EXPECT_EQ(hits->size(), 5u);
  EXPECT_THAT(store->CreateCollection({.tenant = "t", .name = "bad", .index = {.kind = IndexKind::kIvfPq, .pq_m = 7}}).status().message(),
              HasSubstr("pq_m"));
}

}  // namespace
}  // namespace memory

namespace memory {
namespace {

// Code points [start, end) of UTF-8 text, where an invalid byte counts as one (the chunker's
// count), each invalid byte given as U+FFFD.
std::string CodePointSpan(const std::string& text, uint64_t start, uint64_t end) {
  std::string out;
  uint64_t index = 0;
  for (size_t i = 0; i < text.size() && index < end;) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (!valid) length = 1;
    if (index >= start) out += valid ? text.substr(i, length) : "\xEF\xBF\xBD";
    i += length;
    ++index;
  }
  return out;
}

TEST_F(MemoryStoreTest, ControlCharactersAreKeptAsReplacementCharactersAndTitlesOnOneLine) {
  // A document's ESC/OSC sequences, backspaces and C1 controls are quoted by reports, which
  // agentctl prints to terminals: stored as spaces (one code point for one, so offsets hold)
  // they are never obeyed. Tabs and line breaks are text; an invalid byte is U+FFFD.
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
  const std::string text =
      "Zorblax widget sales rose 6% in 2024.\x1b]52;c;Y3VybCBldmlsfHNo\x07 Zorblax\x08\x08 margins \xc2\x9b" "2J held.\xff\r\n"
      "Next\tline.\n";
  ASSERT_TRUE(store->Ingest("t", "c", {{.id = "doc", .text = text, .title = "Zorblax\r\x1b[1A review\n2024", .source = "a\nb"}}).ok());
  auto hits = store->Search({.tenant = "t", .collection = "c", .query = "Zorblax widget margins", .k = 5, .mode = SearchMode::kLexical});
  ASSERT_TRUE(hits.ok());
  ASSERT_FALSE(hits->empty());
  const SearchHit& hit = hits->front();
  EXPECT_EQ(hit.text, "Zorblax widget sales rose 6% in 2024. ]52;c;Y3VybCBldmlsfHNo  Zorblax   margins  2J held.\xEF\xBF\xBD\r\n"
                      "Next\tline.");
  EXPECT_EQ(hit.title, "Zorblax  [1A review 2024");
  EXPECT_EQ(hit.source, "a b");
  // The offsets are the original text's code points: one for each replaced control.
  EXPECT_EQ(hit.start, 0u);
  EXPECT_EQ(hit.end, 102u);
}

TEST_F(MemoryStoreTest, APassageStaysInsideItsArticleOfANewspaperPage) {
  // The seed page holds several stories; "目前，不仅英伟达、AMD…" opens the second one, right after
  // its byline, and had been quoted from a passage reaching back into the first story (chunked
  // across the byline, then widened to whole sentences), cited under the first one's headline.
  std::ifstream in(std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/000_37400ed1cf531c96.txt", std::ios::binary);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(page.empty());
  const std::vector<ArticleStart> articles = FindLaterArticles(page);
  ASSERT_FALSE(articles.empty());
  const std::string page_title = GuessDocumentTitle(page);
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
  ASSERT_TRUE(store->Ingest("t", "c", {{.id = "page", .text = page}}).ok());
  SearchQuery query{.tenant = "t", .collection = "c", .query = "国产GPU厂商 云计算厂商 火速支持调用DeepSeek", .k = 100,
                    .mode = SearchMode::kLexical, .whole_sentences = true};
  auto hits = store->Search(query);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_FALSE(hits->empty());
  bool quoted = false;
  for (const SearchHit& hit : *hits) {
    for (const ArticleStart& a : articles) {
      EXPECT_FALSE(hit.start < a.offset && a.offset < hit.end) << "[" << hit.start << ", " << hit.end << ") spans the article at " << a.offset;
    }
    EXPECT_EQ(hit.title, ArticleTitleAt(articles, page_title, hit.start, hit.end));
    if (hit.text.find("火速支持调用") != std::string::npos) {
      quoted = true;
      EXPECT_EQ(hit.title, articles[0].title) << hit.start;
    }
  }
  EXPECT_TRUE(quoted);
}

TEST_F(MemoryStoreTest, WholeSentenceHitsQuoteEverySentenceTheChunksCut) {
  auto store = Open();
  // PDF-style text: short lines with a blank line after each, sentences running over several
  // lines; the chunker cuts between lines, so small chunks without overlap cut most sentences.
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .chunking = {.max_chars = 100, .overlap_chars = 0}}).ok());
  const std::vector<std::string> digits = {"〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  std::u32string all;
  std::set<std::string> sentences;
  for (int i = 0; i < 30; ++i) {
    const std::string s = "第" + digits[i / 10] + digits[i % 10] + "句说明中国智能体市场的规模持续增长，前景" +
                          std::string(i % 2 ? "十分广阔。" : "仍有变数，需要观察。");
    sentences.insert(s);
    all += std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().from_bytes(s);
  }
  std::string text;
  for (size_t at = 0; at < all.size(); at += 14) {
    text += std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().to_bytes(all.substr(at, 14)) + "\n\n";
  }
  ASSERT_TRUE(store->Ingest("t", "c", {{.id = "doc", .text = text}}).ok());
  SearchQuery query{.tenant = "t", .collection = "c", .query = "智能体市场", .k = 100, .mode = SearchMode::kLexical};
  auto plain = store->Search(query);
  query.whole_sentences = true;
  auto whole = store->Search(query);
  ASSERT_TRUE(plain.ok() && whole.ok());
  ASSERT_EQ(plain->size(), whole->size());
  std::set<std::string> quotable_plain, quotable_whole;
  int widened = 0;
  for (size_t i = 0; i < whole->size(); ++i) {
    const SearchHit& p = (*plain)[i];
    const SearchHit& w = (*whole)[i];
    // The same chunk, in the same order with the same score, only longer at its edges.
    ASSERT_EQ(p.chunk_id, w.chunk_id);
    EXPECT_EQ(p.score, w.score);
    EXPECT_LE(w.start, p.start);
    EXPECT_GE(w.end, p.end);
    EXPECT_LE(p.start - w.start, 300u);
    EXPECT_LE(w.end - p.end, 300u);
    widened += w.start != p.start || w.end != p.end;
    // Exactly the document's text at the hit's offsets.
    EXPECT_EQ(w.text, CodePointSpan(text, w.start, w.end)) << w.start;
    for (const auto& [hit, quotable] : {std::pair{&p, &quotable_plain}, std::pair{&w, &quotable_whole}}) {
      for (const PassageSentence& s : SplitSentences(hit->text, {.starts_at_sentence = hit->starts_sentence}).sentences) {
        EXPECT_TRUE(sentences.count(s.text)) << "not a sentence of the document: " << s.text << " from " << (hit == &p ? "plain" : "whole") << " hit [" << hit->text << "] " << hit->starts_sentence;
        quotable->insert(s.text);
      }
    }
  }
  EXPECT_GT(widened, 5);
  // Every sentence can be quoted whole from some hit; from the chunks as cut, many cannot.
  EXPECT_EQ(quotable_whole, sentences);
  EXPECT_LT(quotable_plain.size() + 5, sentences.size());
}

TEST_F(MemoryStoreTest, WholeSentenceHitsCarryATablesRowsPastTheChunksCut) {
  auto store = Open();
  // A seed report's table as PDF extraction leaves it: longer than a chunk (so the chunker cuts
  // it between two rows), then a total row set apart by a blank line and a rule (a paragraph
  // break, where the chunker cuts too).
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .chunking = {.max_chars = 200, .overlap_chars = 0}}).ok());
  std::string text = "表6：中国智能体市场规模预测\n\n\t2023\t2024E\t2025E\t2026E\n";
  for (int i = 0; i < 7; ++i) {
    text += "第" + std::to_string(i) + "类智能体市场规模（亿元）\t55" + std::to_string(i) + "\t688\t1718\t3222\n";
  }
  text += "\n中国智能体市场规模合计\t554\t695.28\t1735.16\t3259.44\n--\t-----\t-----\t-----\t-----\n\n资料来源：研究院\n";
  ASSERT_TRUE(store->Ingest("t", "c", {{.id = "doc", .text = text}}).ok());
  SearchQuery query{.tenant = "t", .collection = "c", .query = "智能体市场规模预测", .k = 10, .mode = SearchMode::kLexical};
  auto plain = store->Search(query);
  query.whole_sentences = true;
  auto whole = store->Search(query);
  ASSERT_TRUE(plain.ok() && whole.ok());
  ASSERT_GE(plain->size(), 3u);
  const SearchHit* header = nullptr;
  for (const SearchHit& h : *whole) {
    if (h.text.find("2024E") != std::string::npos) header = &h;
  }
  ASSERT_NE(header, nullptr);
  // The hit with the header goes on to the rows the cut left to later chunks, the total row
  // included, each row as the document has it (not two rows joined by a space).
  EXPECT_EQ(header->text, CodePointSpan(text, header->start, header->end));
  std::vector<PassageTable> tables = FindTables(header->text);
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].rows.back().cells[0], "中国智能体市场规模合计") << header->text;
  EXPECT_EQ(tables[0].rows.size(), 8u) << header->text;
  for (const TableRow& row : tables[0].rows) EXPECT_EQ(row.cells.size(), 5u);
  // The chunk itself, as cut, held neither.
  for (const SearchHit& h : *plain) {
    if (h.chunk_id == header->chunk_id) {
      EXPECT_EQ(h.text.find("合计"), std::string::npos);
    }
  }
}

TEST_F(MemoryStoreTest, WholeSentenceHitsStayBoundedAndKnowWhereTheirDocumentStarts) {
  auto store = Open();
  // Prose on one long line, a document that opens with blank lines and spaces (the chunker trims
  // them), and a run of 100,000 spaces between two paragraphs of a document cut into big chunks.
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .chunking = {.max_chars = 150, .overlap_chars = 0}}).ok());
  std::string prose;
  for (int i = 0; i < 12; ++i) {  // sentences longer than a chunk: the chunker cuts them at a space
    prose += "Sentence " + std::to_string(i) + " says the agent market grew";
    for (int j = 0; j < 18; ++j) prose += " and grew";
    prose += " that year. ";
  }
  const std::string opening = "\n\n   The agent market opened the year strong. It grew all year.";
  std::string gap = "The agent market grew before the gap. It kept growing.";
  gap += std::string(100000, ' ') + "\n\nAfter the gap the agent market slowed. It ended flat.";
  ASSERT_TRUE(store->Ingest("t", "c", {{.id = "prose", .text = prose}, {.id = "opening", .text = opening}, {.id = "gap", .text = gap}}).ok());
  auto hits = store->Search({.tenant = "t", .collection = "c", .query = "agent market", .k = 100, .mode = SearchMode::kLexical,
                             .whole_sentences = true});
  ASSERT_TRUE(hits.ok()) << hits.status();
  bool prose_widened = false;
  for (const SearchHit& h : *hits) {
    const std::string& text = h.document_id == "prose" ? prose : h.document_id == "opening" ? opening : gap;
    EXPECT_EQ(h.text.size() <= 150 * 4 + 2 * 300 * 4, true) << h.document_id << " " << h.start;
    EXPECT_EQ(CodePointCount(h.text), h.end - h.start);
    // Exactly the document's text, but for whitespace the chunker trimmed between chunks.
    auto squeeze = [](std::string s) {
      s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\n'; }), s.end());
      return s;
    };
    EXPECT_EQ(squeeze(h.text), squeeze(CodePointSpan(text, h.start, h.end))) << h.document_id << " " << h.start;
    if (h.document_id == "opening") {
      EXPECT_TRUE(h.starts_sentence) << "a document's first chunk starts a sentence";
    }
    if (h.document_id == "prose" && h.start > 0) {
      // A sentence a chunk cut on a long line is taken whole from its start.
      EXPECT_TRUE(h.starts_sentence) << h.start << " [" << h.text << "]";
      EXPECT_EQ(CodePointSpan(prose, h.start, h.start + 9), "Sentence ") << h.start;
      prose_widened = true;
    }
  }
  EXPECT_TRUE(prose_widened);
}

TEST_F(MemoryStoreTest, APassageReadsBackInsideItsDocumentAtItsOwnOffsets) {
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .chunking = {.max_chars = 120, .overlap_chars = 20}}).ok());
  // Paragraphs, sentences in two scripts, and an invalid byte sequence in the middle: every
  // offset after it must still be the document's.
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "第" + std::to_string(i) + "段：中国 AI Agent 市场规模为 554 亿元。It grew by 72.7% a year. ";
    if (i == 17) text += "broken \xE4\xB8 bytes ";
    if (i % 5 == 4) text += "\n\n";
  }
  ASSERT_TRUE(store->Ingest("t", "c", {{.id = "doc", .text = text, .title = "Agents"}}).ok());
  auto hits = store->Search({.tenant = "t", .collection = "c", .query = "Agent 市场规模", .k = 50, .mode = SearchMode::kLexical});
  ASSERT_TRUE(hits.ok());
  ASSERT_GT(hits->size(), 10u);
  for (const SearchHit& hit : *hits) {
    auto window = store->ReadPassage({.tenant = "t", .collection = "c", .document_id = "doc", .start = hit.start, .end = hit.end,
                                      .context = 150});
    ASSERT_TRUE(window.ok()) << window.status();
    EXPECT_EQ(window->title, "Agents");
    EXPECT_EQ(window->window_start, hit.start > 150 ? hit.start - 150 : 0);
    // The document as far as its last chunk: its trailing whitespace was trimmed.
    EXPECT_EQ(window->document_end, CodePointCount(text.substr(0, text.find_last_not_of(" \n") + 1)));
    // The passage sits at its own offsets inside the window, exactly the document's text.
    const std::string passage = CodePointSpan(window->text, hit.start - window->window_start, hit.end - window->window_start);
    EXPECT_EQ(passage, hit.text);
    EXPECT_EQ(passage, CodePointSpan(text, hit.start, hit.end)) << hit.start;
    // Outside the passage, only whitespace the chunker trimmed may differ.
    const std::string shown = CodePointSpan(window->text, 0, window->window_end - window->window_start);
    const std::string original = CodePointSpan(text, window->window_start, window->window_end);
    EXPECT_EQ(CodePointCount(shown), CodePointCount(original));
    auto squeeze = [](std::string s) {
      s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\n'; }), s.end());
      return s;
    };
    EXPECT_EQ(squeeze(shown), squeeze(original));
  }
  // Refusals name what is wrong; another tenant does not see the document.
  const uint64_t end = CodePointCount(text.substr(0, text.find_last_not_of(" \n") + 1));
  struct Case {
    PassageQuery query;
    absl::StatusCode code;
  };
  for (const Case& c : std::vector<Case>{
           {{.tenant = "t", .collection = "c", .document_id = "doc", .start = 5, .end = 5}, absl::StatusCode::kOutOfRange},
           {{.tenant = "t", .collection = "c", .document_id = "doc", .start = 0, .end = end + 1}, absl::StatusCode::kOutOfRange},
           {{.tenant = "t", .collection = "c", .document_id = "nope", .start = 0, .end = 1}, absl::StatusCode::kNotFound},
           {{.tenant = "other", .collection = "c", .document_id = "doc", .start = 0, .end = 1}, absl::StatusCode::kNotFound}}) {
    auto window = store->ReadPassage(c.query);
    EXPECT_EQ(window.status().code(), c.code) << window.status();
  }
  // A huge context is cut to its limit.
  auto wide = store->ReadPassage({.tenant = "t", .collection = "c", .document_id = "doc", .start = 10, .end = 20,
                                  .context = ~uint64_t{0}});
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->window_end, std::min<uint64_t>(end, 20 + 20000));
}

TEST_F(MemoryStoreTest, ADamagedChunkRecordIsDataLossWhenItsPassageIsRead) {
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {Reports()[0]}).ok());
  }
  for (const char* damage : {R"({"doc": "nvda", "start": "0", "end": 10, "text": "x"})",
                             R"({"doc": "nvda", "start": 0, "end": 99999999999, "text": "x"})",
                             R"({"doc": "nvda", "start": 9, "end": 3, "text": "x"})", "not json"}) {
    ASSERT_NO_FATAL_FAILURE(OverwriteFirstRecord(memory::internal::kChunks, damage));
    auto store = Open();
    auto window = store->ReadPassage({.tenant = "t", .collection = "c", .document_id = "nvda", .start = 0, .end = 3});
    EXPECT_EQ(window.status().code(), absl::StatusCode::kDataLoss) << damage << ": " << window.status();
  }
}

TEST_F(MemoryStoreTest, AStoredIndexSettingFaissCannotUseGetsTheDefaultAndTheStoreStillOpens) {
  // Collections written before CreateCollection refused these (hnsw_m 1 grows FAISS's level
  // histogram until the process dies, at the first ingest and at every start) must not keep the
  // data directory from opening: the stored value gives way to the default.
  ASSERT_NO_FATAL_FAILURE(StoreCollectionThenRewriteItsIndex({.kind = IndexKind::kHnsw}, [](IndexSpec* index) {
    index->hnsw_m = 1;
    index->hnsw_ef_search = -5;
  }));
  // Without its saved index file the index is rebuilt from the stored vectors, with the spec.
  std::filesystem::remove_all(dir_.Join("memory") + "/index");
  auto store = Open();
  auto collections = store->ListCollections("t");
  ASSERT_TRUE(collections.ok()) << collections.status();
  ASSERT_EQ(collections->size(), 1u);
  EXPECT_EQ((*collections)[0].spec.index.hnsw_m, 0);
  EXPECT_EQ((*collections)[0].spec.index.hnsw_ef_search, 0);
  auto found = store->Search({.tenant = "t", .collection = "c", .query = "英伟达股价", .mode = SearchMode::kVector});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->empty());
}

TEST_F(MemoryStoreTest, ASavedIndexBuiltWithOtherSettingsIsRebuiltWithTheCollections) {
  // The index file keeps the structure it was built with. When a collection's stored settings
  // change under it (a value FAISS cannot use gives way to the default at open), growing the old
  // graph would keep the setting that was replaced: the index is rebuilt with the spec instead.
  ASSERT_NO_FATAL_FAILURE(StoreCollectionThenRewriteItsIndex({.kind = IndexKind::kHnsw, .hnsw_m = 4}, [](IndexSpec* index) {
    index->hnsw_m = 1;  // stored by a build that did not check it
  }));
  const std::string index_file = dir_.Join("memory") + "/index/1.faiss";
  ASSERT_TRUE(std::filesystem::exists(index_file));
  const IndexSpec built{.kind = IndexKind::kHnsw, .hnsw_m = 4};
  const IndexSpec now = memory::internal::WithDefaults({.kind = IndexKind::kHnsw}, 64);
  uint64_t sequence = 0;
  auto before = memory::internal::VectorIndex::Load(index_file, 64, built, &sequence);
  ASSERT_TRUE(before.ok()) << before.status();
  auto mismatched = memory::internal::VectorIndex::Load(index_file, 64, now, &sequence);
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kFailedPrecondition) << mismatched.status();
  {
    auto store = Open();
    auto found = store->Search({.tenant = "t", .collection = "c", .query = "英伟达股价", .mode = SearchMode::kVector});
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_FALSE(found->empty());
  }
  auto rebuilt = memory::internal::VectorIndex::Load(index_file, 64, now, &sequence);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  ASSERT_NE(*rebuilt, nullptr);
  EXPECT_GT((*rebuilt)->size(), 0u);
}

TEST_F(MemoryStoreTest, ProductQuantiserTablesPastAMillionDistancesAreRefused) {
  // pq_m × 2^pq_nbits distances are computed for every query: at 4096 dimensions the default
  // 512 sub-quantisers with 12-bit codes would be 2M a query.
  HashingEmbedder wide(4096);
  MemoryStoreOptions options;
  options.path = dir_.Join("wide");
  options.embedder = &wide;
  auto store = MemoryStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto refused = (*store)->CreateCollection({.tenant = "t", .name = "c", .index = {.kind = IndexKind::kIvfPq, .pq_nbits = 12}});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("index.pq_nbits"));
  EXPECT_TRUE((*store)->CreateCollection({.tenant = "t", .name = "c", .index = {.kind = IndexKind::kIvfPq, .pq_m = 256, .pq_nbits = 12}}).ok());
  EXPECT_TRUE((*store)->CreateCollection({.tenant = "t", .name = "d", .index = {.kind = IndexKind::kIvfPq}}).ok());
}

TEST_F(MemoryStoreTest, AChunkIsFoundByItsDocumentTitlesSubject) {
  // The results section names neither the company nor the year: the title's subject ("Harbor
  // Robotics", before the colon) is indexed with every chunk; the kind of document after the
  // colon is not.
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .embedding_model = "none",
                                       .chunking = {.max_chars = 120, .overlap_chars = 0}}).ok());
  const std::string text =
      "## Leadership\n\nMaria Lindqvist has served as chief executive officer since March 2019.\n\n"
      "## Results\n\nRevenue for the year reached $312 million, up 27% from $246 million.\n";
  ASSERT_TRUE(store->Ingest("t", "c", {{.id = "review", .text = text, .title = "Harbor Robotics: annual review"}}).ok());
  auto hits = store->Search({.tenant = "t", .collection = "c", .query = "Harbor Robotics revenue", .k = 5,
                             .mode = SearchMode::kLexical});
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_FALSE(hits->empty());
  EXPECT_THAT((*hits)[0].text, HasSubstr("Revenue for the year"));
  auto by_subject = store->Search({.tenant = "t", .collection = "c", .query = "Harbor Robotics", .k = 5, .mode = SearchMode::kLexical});
  ASSERT_TRUE(by_subject.ok());
  EXPECT_EQ(by_subject->size(), 2u) << "every chunk is read under its title";
  auto by_kind = store->Search({.tenant = "t", .collection = "c", .query = "annual review", .k = 5, .mode = SearchMode::kLexical});
  ASSERT_TRUE(by_kind.ok());
  EXPECT_TRUE(by_kind->empty());
}

TEST_F(MemoryStoreTest, EachHitNamesItsDocumentsIssuerAfterAReopenAndOnlyTheDocumentsAskedAreSearched) {
  // The institute its source lines credit, read at ingest and kept in the document's record.
  const std::string report =
      "风险提示：市场需求增长不及预期。\n\n数据来源：iFind，华龙证券研究所\n\n数据来源：DeepSeek 官网，华龙证券研究所\n\n"
      "数据来源：DeepSeek 官网，华龙证券研究所；注：预测来自一致预期\n";
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .embedding_model = "none"}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {{.id = "hualong", .text = report}, {.id = "other", .text = "风险提示：竞争加剧。"}}).ok());
  }
  auto store = Open();
  auto hits = store->Search({.tenant = "t", .collection = "c", .query = "风险提示", .k = 5, .mode = SearchMode::kLexical});
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), 2u);
  for (const SearchHit& h : *hits) EXPECT_EQ(h.issuer, h.document_id == "hualong" ? "华龙证券研究所" : "") << h.document_id;
  auto only = store->Search({.tenant = "t", .collection = "c", .query = "风险提示", .k = 5, .mode = SearchMode::kLexical,
                             .filter = {.document_ids = {"other"}}});
  ASSERT_TRUE(only.ok());
  ASSERT_EQ(only->size(), 1u);
  EXPECT_EQ((*only)[0].document_id, "other");
}

TEST_F(MemoryStoreTest, ATitlesPostingsGoWithItsChunks) {
  // The terms a title lends its chunks are stored with them, and go when the chunks do: on an
  // update with another title and on deletion.
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .embedding_model = "none"}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {{.id = "d", .text = "Alpha beta gamma delta.", .title = "Zebraquokka"}}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {{.id = "d", .text = "Alpha beta gamma delta.", .title = "Wombatfalcon"}}).ok());
    auto hits = store->Search({.tenant = "t", .collection = "c", .query = "zebraquokka", .mode = SearchMode::kLexical});
    ASSERT_TRUE(hits.ok());
    EXPECT_TRUE(hits->empty()) << "the old title's term outlived the update";
    ASSERT_TRUE(store->DeleteDocuments("t", "c", {"d"}).ok());
  }
  EXPECT_EQ(Postings(dir_.Join("memory")).first, 0u);
  auto store = Open();
  auto stats = store->Stats("t", "c");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->term_count, 0u);
}

TEST_F(MemoryStoreTest, ALongTitleLendsItsChunksAFewShortTermsOnly) {
  // A title is the tenant's, and every chunk carries its terms: a 1,000-byte word, or a title of
  // hundreds of words, must not multiply the postings of a document cut into many chunks.
  std::string text;
  for (int i = 0; text.size() < 16 * 1024; ++i) text += "w" + std::to_string(i) + " x. ";
  std::string wordy;
  for (int i = 0; wordy.size() < 1000; ++i) wordy += "term" + std::to_string(i) + " ";  // within the 1024 bytes a title may have
  size_t bytes[3] = {0, 0, 0};
  const std::string titles[3] = {"Notes", std::string(1000, 'q'), wordy};
  for (int pass = 0; pass < 3; ++pass) {
    const std::string path = dir_.Join("pass" + std::to_string(pass));
    {
      MemoryStoreOptions options;
      options.path = path;
      auto store = MemoryStore::Open(options);
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE((*store)->CreateCollection({.tenant = "t", .name = "c", .embedding_model = "none",
                                              .chunking = {.max_chars = 128, .overlap_chars = 0}}).ok());
      ASSERT_TRUE((*store)->Ingest("t", "c", {{.id = "d", .text = text, .title = titles[pass]}}).ok());
    }
    bytes[pass] = Postings(path).second;
  }
  EXPECT_LT(bytes[1], bytes[0] + bytes[0] / 20) << "a 1,000-byte word is no term";
  EXPECT_LT(bytes[2], 2 * bytes[0]) << "at most 12 terms from the title's first 100 characters";
}

TEST_F(MemoryStoreTest, AStoredProductQuantiserThatDoesNotFitTheDimensionGetsTheDefault) {
  // Each field within its bounds, the pair not (CreateCollection checks the pair): the stored
  // sub-quantisers give way to the defaults, as a field out of bounds does.
  ASSERT_NO_FATAL_FAILURE(StoreCollectionThenRewriteItsIndex({.kind = IndexKind::kIvfPq, .pq_m = 8}, [](IndexSpec* index) {
    index->pq_m = 7;  // does not divide 64
  }));
  auto store = Open();
  auto collections = store->ListCollections("t");
  ASSERT_TRUE(collections.ok()) << collections.status();
  ASSERT_EQ(collections->size(), 1u);
  EXPECT_EQ((*collections)[0].spec.index.pq_m, 0);
  auto found = store->Search({.tenant = "t", .collection = "c", .query = "英伟达股价", .mode = SearchMode::kVector});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->empty());
}

TEST_F(MemoryStoreTest, ADocumentsFieldsAreBoundedForEveryCaller) {
  // The bounds of agentd.v1.Document hold in the store itself: a Lua tool's memory.ingest does
  // not pass the gRPC request validator.
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .embedding_model = "none"}).ok());
  struct Case {
    const char* field;
    DocumentInput doc;
  };
  const std::vector<Case> cases = {
      {"documents[0].id", {.id = std::string(257, 'i'), .text = "x"}},
      {"documents[0].title", {.text = "x", .title = std::string(1025, 't')}},
      {"documents[0].source", {.text = "x", .source = std::string(4097, 's')}},
      {"documents[0].text", {.text = std::string((8 << 20) + 1, 'x')}},
      {"documents[0].metadata", {.text = "x", .metadata = {{"k", std::string(1025, 'v')}}}},
  };
  for (const Case& c : cases) {
    auto result = store->Ingest("t", "c", {c.doc});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(result.status().message(), HasSubstr(c.field));
  }
  auto stats = store->Stats("t", "c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->info.document_count, 0u);
}

// The hits of `query` as "document [start, end) score" lines, for comparing searches.
std::vector<std::string> HitLines(MemoryStore* store, const std::string& query, SearchMode mode) {
  auto hits = store->Search({.tenant = "t", .collection = "c", .query = query, .k = 10, .mode = mode});
  EXPECT_TRUE(hits.ok()) << hits.status();
  std::vector<std::string> lines;
  if (!hits.ok()) return lines;
  for (const SearchHit& h : *hits) lines.push_back(absl::StrCat(h.document_id, " [", h.start, ", ", h.end, ") ", h.score));
  return lines;
}

class MemoryStoreRaceTest : public MemoryStoreTest {
 protected:
  // The keys a closed store holds in each of the documents, chunks, vectors and postings families.
  size_t CollectionKeys() {
    size_t count = 0;
    WithClosedStore(dir_.Join("memory"), [&](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
      for (auto family : {memory::internal::kDocuments, memory::internal::kChunks, memory::internal::kVectors,
                          memory::internal::kPostings}) {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[family]));
        for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
      }
    });
    return count;
  }
  // The texts of a search's hits.
  std::vector<std::string> HitTexts(MemoryStore* store, const std::string& query, SearchMode mode) {
    auto hits = store->Search({.tenant = "t", .collection = "c", .query = query, .k = 10, .mode = mode});
    EXPECT_TRUE(hits.ok()) << hits.status();
    std::vector<std::string> texts;
    if (hits.ok()) for (const SearchHit& h : *hits) texts.push_back(h.document_id + ": " + h.text);
    return texts;
  }
};

// Two clients syncing the same file at once: both read that the id was not stored, then both
// wrote it. Each was told CREATED, the id kept both versions' chunks (search found both), and
// deleting the document left the first version's chunks found by search, and in the store for
// good. The later one now replaces the earlier whole.
TEST_F(MemoryStoreRaceTest, TwoIngestsOfOneIdAtOnceStoreOneVersion) {
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
  embedder_.Hold(1);
  std::vector<absl::StatusOr<std::vector<IngestResult>>> results(2, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int v = 0; v < 2; ++v) {
    threads.emplace_back([&, v] {
      results[v] = store->Ingest("t", "c", {{.id = "r", .text = absl::StrCat("Version ", v, " of the zebra report.")}});
    });
  }
  ASSERT_TRUE(embedder_.WaitForHeld(2));  // both have read that "r" is not stored
  embedder_.Release();
  for (std::thread& t : threads) t.join();
  std::multiset<IngestOutcome> outcomes;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    outcomes.insert((*r)[0].outcome);
  }
  EXPECT_EQ(outcomes, (std::multiset<IngestOutcome>{IngestOutcome::kCreated, IngestOutcome::kUpdated}));
  auto stats = store->Stats("t", "c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->info.document_count, 1u);
  EXPECT_EQ(stats->info.chunk_count, 1u);
  EXPECT_EQ(stats->vector_count, 1u);
  for (SearchMode mode : {SearchMode::kLexical, SearchMode::kVector}) {
    EXPECT_EQ(HitTexts(store.get(), "zebra report", mode).size(), 1u) << testing::PrintToString(HitTexts(store.get(), "zebra report", mode));
  }
  ASSERT_TRUE(store->DeleteDocuments("t", "c", {"r"}).ok());
  EXPECT_EQ(store->Stats("t", "c")->info.chunk_count, 0u);
  EXPECT_TRUE(HitTexts(store.get(), "zebra report", SearchMode::kLexical).empty());
  ASSERT_TRUE(store->Close().ok());
  store.reset();
  EXPECT_EQ(CollectionKeys(), 0u);  // nothing of either version is left behind
}

// An Ingest that found its collection before DeleteCollection came wrote the rest of its
// documents under the deleted collection's id, and was acknowledged: keys no call can reach or
// delete, kept for good. It now fails, NOT_FOUND naming the collection, and writes nothing.
TEST_F(MemoryStoreRaceTest, AnIngestOverlappingItsCollectionsDeletionWritesNothingUnderIt) {
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
  embedder_.Hold(1);
  absl::StatusOr<std::vector<IngestResult>> result = absl::UnknownError("not run");
  std::thread ingest([&] {
    result = store->Ingest("t", "c", {{.id = "a", .text = "Alpha documents are long."}, {.id = "b", .text = "Beta documents too."}});
  });
  ASSERT_TRUE(embedder_.WaitForHeld(1));  // "a" is being embedded: nothing written yet
  auto deleted = store->DeleteCollection("t", "c");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  embedder_.Release();
  ingest.join();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("collection \"c\" was deleted while documents[0] (id \"a\")"));
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
  EXPECT_EQ(store->Stats("t", "c")->info.document_count, 0u);
  ASSERT_TRUE(store->DeleteCollection("t", "c").ok());  // so that no collection may have keys or files
  ASSERT_TRUE(store->Close().ok());
  store.reset();
  EXPECT_EQ(CollectionKeys(), 0u);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.Join("memory") + "/index", ec)) {
    ADD_FAILURE() << "index file left: " << entry.path();
  }
}

// A document deleted while the Ingest call that stored it was still running had its vectors
// removed from the index before they were added, and then added: a flat index gave its nearest
// places to deleted documents (a vector search found nothing of the live ones), and its count
// disagreed with the store's. Vectors of chunks no longer stored are not added, and (HNSW, which
// leaves removed vectors in place) are not counted as dead either: vector_count read 0.
class MemoryStoreRaceIndexTest : public MemoryStoreRaceTest, public ::testing::WithParamInterface<IndexKind> {};

TEST_P(MemoryStoreRaceIndexTest, ADocumentDeletedWhileItsIngestRunsLeavesNoVectors) {
  auto store = Open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c", .index = {.kind = GetParam()}}).ok());
  embedder_.Hold(2);  // "a" is stored, then the call waits inside "b"'s embedding
  absl::StatusOr<std::vector<IngestResult>> result = absl::UnknownError("not run");
  std::thread ingest([&] {
    result = store->Ingest("t", "c", {{.id = "a", .text = "Cats sleep in the sun all day."}, {.id = "b", .text = "Dogs bark at night."}});
  });
  ASSERT_TRUE(embedder_.WaitForHeld(1));
  auto deleted = store->DeleteDocuments("t", "c", {"a"});
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, std::vector<std::string>{"a"});
  embedder_.Release();
  ingest.join();
  ASSERT_TRUE(result.ok()) << result.status();
  auto stats = store->Stats("t", "c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->info.chunk_count, 1u);
  EXPECT_EQ(stats->vector_count, 1u);
  EXPECT_EQ(HitTexts(store.get(), "cats sleep in the sun", SearchMode::kVector),
            std::vector<std::string>{"b: Dogs bark at night."});
  ASSERT_TRUE(store->Close().ok());
  store = Open();
  EXPECT_EQ(store->Stats("t", "c")->vector_count, 1u);
}

INSTANTIATE_TEST_SUITE_P(Indexes, MemoryStoreRaceIndexTest, ::testing::Values(IndexKind::kFlat, IndexKind::kHnsw));

// On a full disk an ingest is RESOURCE_EXHAUSTED naming the store's directory, search answers as
// before, and once there is room ingest works again without reopening; nothing acknowledged is
// lost and the refused document does not appear. The first write after an open meets empty
// memtables: before, RocksDB's resume kept the WAL whose write had failed and the next ingest
// aborted the process; before that, every ingest failed with INTERNAL until a restart.
TEST_F(MemoryStoreTest, AFullDiskRefusesIngestKeepsSearchingAndIngestsAgainOnceFreed) {
  auto disk = std::make_shared<testing_support::FullDiskFileSystem>();
  std::unique_ptr<rocksdb::Env> env = testing_support::NewEnv(disk);
  auto open = [&](rocksdb::Env* with) {
    MemoryStoreOptions options;
    options.path = dir_.Join("memory");
    options.embedder = &embedder_;
    options.env = with;
    auto store = MemoryStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  };
  {
    auto store = open(env.get());
    ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
    ASSERT_TRUE(store->Ingest("t", "c", {Reports()[0], Reports()[1]}).ok());
  }
  auto store = open(env.get());
  const std::vector<std::string> vector_before = HitLines(store.get(), "市场 成本 股价", SearchMode::kVector);
  const std::vector<std::string> lexical_before = HitLines(store.get(), "市场 成本 股价", SearchMode::kLexical);
  ASSERT_EQ(vector_before.size(), 2u);

  disk->Fill();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto refused = store->Ingest("t", "c", {Reports()[2]});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
    EXPECT_THAT(refused.status().message(), HasSubstr("documents[0]"));
    EXPECT_THAT(refused.status().message(), HasSubstr(dir_.Join("memory/db")));
  }
  EXPECT_EQ(HitLines(store.get(), "市场 成本 股价", SearchMode::kVector), vector_before);
  EXPECT_EQ(HitLines(store.get(), "市场 成本 股价", SearchMode::kLexical), lexical_before);

  disk->Free();
  auto ingested = store->Ingest("t", "c", {Reports()[2]});
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  EXPECT_EQ((*ingested)[0].outcome, IngestOutcome::kCreated);
  const std::vector<std::string> vector_after = HitLines(store.get(), "市场 成本 股价", SearchMode::kVector);
  ASSERT_EQ(vector_after.size(), 3u);
  store.reset();

  auto reopened = open(nullptr);
  EXPECT_EQ(HitLines(reopened.get(), "市场 成本 股价", SearchMode::kVector), vector_after);
  auto stats = reopened->Stats("t", "c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->info.document_count, 3u);
  EXPECT_EQ(stats->vector_count, stats->info.chunk_count);
}

// A vector index that cannot be saved (a full disk) leaves the saved file as it was and no
// partial copy, and costs the ingest that was due to save it nothing: its documents are
// committed, and the next open catches the index up. Before, that ingest failed (INTERNAL
// "cannot write") after committing its documents, and the partial ".tmp" copy kept the space
// it had taken.
TEST_F(MemoryStoreTest, AVectorIndexThatCannotBeSavedKeepsItsFileAndTheIngestGoesOn) {
  auto disk = std::make_shared<testing_support::FullDiskFileSystem>();
  std::unique_ptr<rocksdb::Env> env = testing_support::NewEnv(disk);
  std::vector<absl::Status> not_saved;
  auto open = [&] {
    MemoryStoreOptions options;
    options.path = dir_.Join("memory");
    options.embedder = &embedder_;
    options.env = env.get();
    options.index_save_interval = 1;
    options.on_index_not_saved = [&](const absl::Status& status) { not_saved.push_back(status); };
    auto store = MemoryStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(*store);
  };
  const std::string index_file = dir_.Join("memory/index/1.faiss");
  auto store = open();
  ASSERT_TRUE(store->CreateCollection({.tenant = "t", .name = "c"}).ok());
  ASSERT_TRUE(store->Ingest("t", "c", {Reports()[0]}).ok());
  ASSERT_TRUE(std::filesystem::exists(index_file));
  const std::string saved = testing_support::ReadFile(index_file);

  disk->Fill(".faiss");
  auto ingested = store->Ingest("t", "c", {Reports()[1], Reports()[2]});
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  ASSERT_FALSE(not_saved.empty());
  EXPECT_EQ(not_saved[0].code(), absl::StatusCode::kResourceExhausted) << not_saved[0];
  EXPECT_THAT(not_saved[0].message(), HasSubstr(index_file));
  EXPECT_EQ(testing_support::ReadFile(index_file), saved);
  EXPECT_FALSE(std::filesystem::exists(index_file + ".tmp"));
  EXPECT_EQ(HitLines(store.get(), "市场 成本 股价", SearchMode::kVector).size(), 3u);
  EXPECT_FALSE(store->Close().ok());  // the final save cannot be written either
  store.reset();

  // The saved index, older than the store, is caught up at the next open.
  disk->Free();
  auto reopened = open();
  EXPECT_EQ(HitLines(reopened.get(), "市场 成本 股价", SearchMode::kVector).size(), 3u);
}

}  // namespace
}  // namespace memory
