// Retrieval quality on the seed corpus: ingest the reports into a fresh memory store, ask every
// question, and count a hit when a returned chunk's text contains the question's
// `answer_contains`. Prints recall@1/5/10 for lexical, vector and hybrid search (vector modes
// need --model: embeddings come from that model through the engine).
//
//   retrieval_quality --corpus tests/data/corpus [--questions FILE] [--model DIR] [--index flat|hnsw]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "agentd/engine_embedder.h"
#include "memory/memory_store.h"
#include "nlohmann/json.hpp"

int main(int argc, char** argv) {
  CLI::App app{"retrieval_quality: recall@k on the seed corpus questions"};
  std::string corpus = "tests/data/corpus", questions_path, model_dir, index = "flat";
  int max_chars = 512, overlap = 64;
  bool misses = false;
  app.add_option("--corpus", corpus, "directory with seeds/ and questions.jsonl");
  app.add_option("--questions", questions_path, "questions file (default: CORPUS/questions.jsonl)");
  app.add_option("--model", model_dir, "model directory for embeddings (vector and hybrid modes)");
  app.add_option("--index", index, "flat or hnsw")->check(CLI::IsMember({"flat", "hnsw"}));
  app.add_option("--max-chars", max_chars, "chunk size (default 512)");
  app.add_option("--overlap", overlap, "chunk overlap (default 64)");
  app.add_flag("--misses", misses, "name each question a mode does not find first, with the rank it found it at");
  CLI11_PARSE(app, argc, argv);

  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<agentd::EngineEmbedder> embedder;
  if (!model_dir.empty()) {
    auto loaded = engine::Engine::Load({.model_dir = model_dir});
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
      return 1;
    }
    engine = std::move(*loaded);
    embedder = std::make_unique<agentd::EngineEmbedder>(engine.get());
  }
  const std::string dir = (std::filesystem::temp_directory_path() / ("agentd-retrieval-" + std::to_string(getpid()))).string();
  memory::MemoryStoreOptions options;
  options.path = dir;
  options.embedder = embedder.get();
  options.sync_writes = false;
  auto store = memory::MemoryStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  memory::CollectionSpec spec;
  spec.tenant = "bench";
  spec.name = "seeds";
  spec.embedding_model = embedder ? "" : memory::kNoEmbeddings;
  spec.index.kind = index == "hnsw" ? memory::IndexKind::kHnsw : memory::IndexKind::kFlat;
  spec.chunking = {.max_chars = max_chars, .overlap_chars = overlap};
  if (auto created = (*store)->CreateCollection(spec); !created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  std::vector<memory::DocumentInput> documents;
  for (const auto& entry : std::filesystem::directory_iterator(corpus + "/seeds")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    documents.push_back({.id = entry.path().filename().string(), .text = buffer.str()});
  }
  const auto ingest_start = std::chrono::steady_clock::now();
  auto ingested = (*store)->Ingest("bench", "seeds", documents);
  const double ingest_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ingest_start).count();
  if (!ingested.ok()) {
    std::fprintf(stderr, "%s\n", ingested.status().ToString().c_str());
    return 1;
  }
  size_t chunks = 0;
  for (const auto& r : *ingested) chunks += r.chunk_count;

  struct Question {
    std::string text, answer;
  };
  std::vector<Question> questions;
  if (questions_path.empty()) questions_path = corpus + "/questions.jsonl";
  std::ifstream in(questions_path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", questions_path.c_str());
    return 1;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    questions.push_back({j["question"], j["answer_contains"]});
  }
  std::printf("%zu documents, %zu chunks (max %d chars, overlap %d), %zu questions, embeddings: %s\n",
              documents.size(), chunks, max_chars, overlap, questions.size(),
              embedder ? embedder->model_name().c_str() : "none");
  std::printf("ingest (chunking, embedding, indexing): %.2f s, %.0f chunks/s\n", ingest_seconds, chunks / ingest_seconds);
  std::printf("%-8s %9s %9s %9s\n", "mode", "recall@1", "recall@5", "recall@10");
  for (auto [name, mode] : {std::pair{"lexical", memory::SearchMode::kLexical}, std::pair{"vector", memory::SearchMode::kVector},
                            std::pair{"hybrid", memory::SearchMode::kHybrid}}) {
    if (!embedder && mode != memory::SearchMode::kLexical) continue;
    int found[3] = {0, 0, 0};
    const int cutoffs[3] = {1, 5, 10};
    for (const Question& q : questions) {
      auto hits = (*store)->Search({.tenant = "bench", .collection = "seeds", .query = q.text, .k = 10, .mode = mode});
      if (!hits.ok()) continue;
      int first = -1;
      for (size_t i = 0; i < hits->size(); ++i) {
        if ((*hits)[i].text.find(q.answer) != std::string::npos) {
          first = static_cast<int>(i);
          break;
        }
      }
      for (int c = 0; c < 3; ++c) found[c] += first >= 0 && first < cutoffs[c];
      if (misses && first != 0) std::printf("  %s: rank %d: %s\n", name, first < 0 ? -1 : first + 1, q.text.c_str());
    }
    std::printf("%-8s %9.3f %9.3f %9.3f\n", name, found[0] / double(questions.size()), found[1] / double(questions.size()),
                found[2] / double(questions.size()));
  }
  (*store)->Close().IgnoreError();
  std::filesystem::remove_all(dir);
  return 0;
}
