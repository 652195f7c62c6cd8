// Encode throughput of the tokenizer on the seed corpus (Chinese research reports), in MB/s of
// UTF-8 input, cold (empty piece cache) and warm.
//
//   tokenizer_throughput --tokenizer tests/data/tokenizers/qwen3 --corpus tests/data/corpus/seeds
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "engine/tokenizer.h"

int main(int argc, char** argv) {
  CLI::App app{"tokenizer_throughput: encode MB/s on a directory of text files"};
  std::string tokenizer_dir, corpus_dir;
  int rounds = 5;
  app.add_option("--tokenizer", tokenizer_dir, "directory with tokenizer.json")->required();
  app.add_option("--corpus", corpus_dir, "directory of .txt files")->required();
  app.add_option("--rounds", rounds, "warm rounds (default 5)");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> documents;
  size_t bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus_dir)) {
    if (entry.path().extension() != ".txt") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    documents.push_back(buffer.str());
    bytes += documents.back().size();
  }
  using Clock = std::chrono::steady_clock;
  auto load_start = Clock::now();
  auto tokenizer = engine::Tokenizer::Load(tokenizer_dir);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "%s\n", tokenizer.status().ToString().c_str());
    return 1;
  }
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();
  size_t tokens = 0;
  auto encode_all = [&] {
    tokens = 0;
    auto start = Clock::now();
    for (const std::string& d : documents) tokens += (*tokenizer)->Encode(d).size();
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  const double cold = encode_all();
  double warm = 1e9;
  for (int i = 0; i < rounds; ++i) warm = std::min(warm, encode_all());
  std::printf("tokenizer %s: loaded in %.0f ms; %zu documents, %.1f KB, %zu tokens (%.2f bytes/token)\n",
              tokenizer_dir.c_str(), load_ms, documents.size(), bytes / 1e3, tokens, double(bytes) / tokens);
  std::printf("encode: cold %.2f MB/s, warm %.2f MB/s (%.0f tokens/ms)\n", bytes / cold / 1e6, bytes / warm / 1e6,
              tokens / warm / 1e3);
  return 0;
}
