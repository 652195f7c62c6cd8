// Memory throughput and latency at scale, through the real MemoryStore (RocksDB, BM25, FAISS):
// ingest chunks/s excluding embedding, then vector-search p50/p99 latency and recall@10, for
// Flat, HNSW and IVF-PQ. Recall counts chunks (each hit's text names its vector's row) against
// the true top 10 found here by brute force over the vectors themselves, in double precision:
// no FAISS index, not even a Flat one, decides what is right.
//
// Vectors are synthetic: a mixture of 1000 Gaussian clusters in `dim` dimensions, normalised —
// structured the way real embeddings are (uniform random points on a high-dimensional sphere
// have no meaningful neighbours). Each document has --chunks-per-doc chunks (a report's worth),
// each chunk's text names its vector and the test embedder looks it up, so embedding costs
// nothing and is excluded by construction. Every document is one synced write, as in service.
//
//   memory_search --n 100000 --dim 384 --index hnsw
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <utility>

#include "CLI/CLI.hpp"
#include "memory/memory_store.h"

namespace {

using Clock = std::chrono::steady_clock;

class TableEmbedder : public memory::Embedder {
 public:
  TableEmbedder(const std::vector<float>* table, int dim) : table_(table), dim_(dim) {}
  std::string model_name() const override { return "synthetic"; }
  int dimension() const override { return dim_; }
  // "v<index>" → a row of the table; "q<index>" → a query row.
  absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const std::string& t : texts) {
      const size_t row = std::stoull(t.substr(1));
      const std::vector<float>& source = t[0] == 'q' ? queries : *table_;
      out.emplace_back(source.begin() + row * dim_, source.begin() + (row + 1) * dim_);
    }
    return out;
  }
  std::vector<float> queries;

 private:
  const std::vector<float>* table_;
  int dim_;
};

// The rows of `table` with the k largest inner products with `query` (cosine: all are unit
// vectors), by exhaustive search.
std::set<size_t> TrueNearest(const std::vector<float>& table, size_t n, int dim, const float* query, int k) {
  std::vector<std::pair<double, size_t>> scored(n);
#pragma omp parallel for
  for (size_t i = 0; i < n; ++i) {
    double dot = 0;
    for (int j = 0; j < dim; ++j) dot += static_cast<double>(table[i * dim + j]) * query[j];
    scored[i] = {-dot, i};
  }
  std::partial_sort(scored.begin(), scored.begin() + k, scored.end());
  std::set<size_t> rows;
  for (int i = 0; i < k; ++i) rows.insert(scored[i].second);
  return rows;
}

void Normalize(float* v, int dim) {
  double norm = 0;
  for (int i = 0; i < dim; ++i) norm += v[i] * v[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (int i = 0; i < dim; ++i) v[i] *= inv;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"memory_search: ingest throughput and vector search latency/recall at scale"};
  size_t n = 100000;
  int dim = 384, queries = 1000, k = 10, ef_search = 128, nprobe = 16, threads = 2, chunks_per_doc = 50;
  std::string index = "hnsw";
  app.add_option("--n", n, "vectors (default 100000)");
  app.add_option("--dim", dim, "dimension (default 384)");
  app.add_option("--index", index, "flat, hnsw or ivfpq")->check(CLI::IsMember({"flat", "hnsw", "ivfpq"}));
  app.add_option("--queries", queries, "queries timed (default 1000)");
  app.add_option("--ef-search", ef_search, "HNSW search beam (default 128)");
  app.add_option("--nprobe", nprobe, "IVF lists probed (default 16)");
  app.add_option("--threads", threads, "threads (default 2)");
  app.add_option("--chunks-per-doc", chunks_per_doc, "chunks in each ingested document (default 50)");
  CLI11_PARSE(app, argc, argv);
  omp_set_num_threads(threads);

  // Data: 1000 cluster centres, points = centre + noise.
  std::mt19937_64 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int clusters = 1000;
  std::vector<float> centres(static_cast<size_t>(clusters) * dim);
  for (float& x : centres) x = normal(rng);
  std::vector<float> table(n * dim);
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  for (size_t i = 0; i < n; ++i) {
    const float* c = &centres[static_cast<size_t>(pick(rng)) * dim];
    for (int j = 0; j < dim; ++j) table[i * dim + j] = c[j] + 0.5f * normal(rng);
    Normalize(&table[i * dim], dim);
  }
  TableEmbedder embedder(&table, dim);
  embedder.queries.resize(static_cast<size_t>(queries) * dim);
  for (int q = 0; q < queries; ++q) {
    const float* c = &centres[static_cast<size_t>(pick(rng)) * dim];
    for (int j = 0; j < dim; ++j) embedder.queries[q * dim + j] = c[j] + 0.5f * normal(rng);
    Normalize(&embedder.queries[q * dim], dim);
  }

  const std::string dir = (std::filesystem::temp_directory_path() / ("agentd-memory-bench-" + std::to_string(getpid()))).string();
  memory::MemoryStoreOptions options;
  options.path = dir;
  options.embedder = &embedder;
  options.index_save_interval = n + 1;  // save once, at Close
  auto store = memory::MemoryStore::Open(options);
  if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;

  // Chunks of at most 16 characters: every "v%09d" paragraph becomes its own chunk.
  const memory::ChunkingOptions chunking{.max_chars = 16, .overlap_chars = 0};
  memory::CollectionSpec spec{.tenant = "b", .name = "bench", .chunking = chunking};
  spec.index.kind = index == "hnsw" ? memory::IndexKind::kHnsw : index == "ivfpq" ? memory::IndexKind::kIvfPq : memory::IndexKind::kFlat;
  spec.index.hnsw_ef_search = ef_search;
  spec.index.ivf_nprobe = nprobe;
  spec.index.ivf_nlist = static_cast<int>(std::max<size_t>(16, std::min<size_t>(4096, static_cast<size_t>(std::sqrt(n)) * 4)));
  spec.index.pq_m = dim / 8;
  if (auto created = (*store)->CreateCollection(spec); !created.ok()) {
    return std::fprintf(stderr, "%s\n", created.status().ToString().c_str()), 1;
  }

  // Ingest in requests of 20 documents, as a client would.
  auto ingest = [&](const std::string& collection) -> double {
    auto start = Clock::now();
    const size_t per_request = 20 * static_cast<size_t>(chunks_per_doc);
    for (size_t i = 0; i < n; i += per_request) {
      std::vector<memory::DocumentInput> docs;
      for (size_t j = i; j < std::min(n, i + per_request); j += chunks_per_doc) {
        std::string text;
        for (size_t c = j; c < std::min(n, j + chunks_per_doc); ++c) {
          char row[32];
          std::snprintf(row, sizeof row, "v%09zu\n\n", c);
          text += row;
        }
        docs.push_back({.id = std::to_string(j), .text = text});
      }
      auto r = (*store)->Ingest("b", collection, docs);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        std::exit(1);
      }
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  const double ingest_seconds = ingest("bench");

  // The true neighbours first, so no exhaustive pass runs between the timed searches (it would
  // evict the index from the caches and leave OpenMP's threads spinning).
  std::vector<std::set<size_t>> truths(queries);
  for (int q = 0; q < queries; ++q) {
    truths[q] = TrueNearest(table, n, dim, &embedder.queries[static_cast<size_t>(q) * dim], k);
  }
  std::vector<double> latencies;
  double recall_sum = 0;
  for (int q = 0; q < queries; ++q) {
    const std::string text = "q" + std::to_string(q);
    auto start = Clock::now();
    auto hits = (*store)->Search({.tenant = "b", .collection = "bench", .query = text, .k = k, .mode = memory::SearchMode::kVector});
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!hits.ok()) return std::fprintf(stderr, "search failed: %s\n", hits.status().ToString().c_str()), 1;
    const std::set<size_t>& truth = truths[q];
    std::set<size_t> found;  // a set: a chunk returned twice counts once
    for (const auto& h : *hits) {
      if (h.text.size() >= 2 && h.text[0] == 'v') found.insert(std::stoull(h.text.substr(1)));
    }
    size_t right = 0;
    for (size_t row : found) right += truth.count(row);
    recall_sum += static_cast<double>(right) / k;
  }
  std::sort(latencies.begin(), latencies.end());
  auto stats = (*store)->Stats("b", "bench");
  if (stats->info.chunk_count != n) std::fprintf(stderr, "warning: %llu chunks stored for %zu vectors\n", static_cast<unsigned long long>(stats->info.chunk_count), n);
  std::printf("%s: n=%zu dim=%d threads=%d | ingest %.0f chunks/s (excl. embedding) | search p50 %.2f ms p99 %.2f ms | "
              "recall@%d %.3f | index %.0f MB\n",
              index.c_str(), n, dim, threads, n / ingest_seconds, latencies[latencies.size() / 2],
              latencies[latencies.size() * 99 / 100], k, recall_sum / queries, stats->index_bytes / 1e6);
  (*store)->Close().IgnoreError();
  std::filesystem::remove_all(dir);
  return 0;
}
