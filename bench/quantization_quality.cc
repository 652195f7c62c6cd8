// What quantised weights cost in quality: each scheme against the same checkpoint unquantised,
// over held-out text cut into windows — perplexity of both, how often they put the same token
// first, and the KL divergence of their next-token distributions (the figures llama.cpp's
// perplexity tool gives for its own quantisations).
//
//   quantization_quality --model engine/models/agentd-default --window 512 tests/data/corpus_en/seeds/*.md
// (the English seed documents: text the default model was not trained on)
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "engine/logits_agreement.h"
#include "engine/model.h"
#include "engine/tokenizer.h"

int main(int argc, char** argv) {
  CLI::App app{"quality of quantised weights against the unquantised model"};
  std::string model_dir = "engine/models/agentd-default";
  std::vector<std::string> texts;
  std::vector<std::string> schemes = {"q8", "q4"};
  int window = 512;
  bool json = false;
  app.add_option("--model", model_dir, "checkpoint directory (config.json, *.safetensors, tokenizer.json)");
  app.add_option("--window", window, "tokens per window, each from an empty cache")->check(CLI::Range(2, 1 << 16));
  app.add_option("--schemes", schemes, "quantisations to measure")->delimiter(',');
  app.add_flag("--json", json, "one JSON object per scheme");
  app.add_option("texts", texts, "held-out text files")->required()->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  auto tokenizer = engine::Tokenizer::Load(model_dir);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "quantization_quality: %s\n", std::string(tokenizer.status().message()).c_str());
    return 1;
  }
  std::vector<std::vector<int32_t>> windows;
  for (const std::string& path : texts) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    for (std::vector<int32_t>& w : engine::CutIntoWindows((*tokenizer)->Encode(text.str()), static_cast<size_t>(window))) {
      windows.push_back(std::move(w));
    }
  }
  auto reference = engine::Model::Load({.model_dir = model_dir});
  if (!reference.ok()) {
    std::fprintf(stderr, "quantization_quality: %s\n", std::string(reference.status().message()).c_str());
    return 1;
  }
  if (!json) {
    std::printf("| scheme | weight bytes / token | perplexity | unquantised perplexity | same top token | KL mean | KL max |\n");
    std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  }
  for (const std::string& scheme : schemes) {
    auto model = engine::Model::Load({.model_dir = model_dir, .quantize = scheme});
    if (!model.ok()) {
      std::fprintf(stderr, "quantization_quality: %s\n", std::string(model.status().message()).c_str());
      return 1;
    }
    auto result = engine::CompareOnWindows(**reference, **model, windows);
    if (!result.ok()) {
      std::fprintf(stderr, "quantization_quality: %s\n", std::string(result.status().message()).c_str());
      return 1;
    }
    const engine::LogitsAgreement& a = result->agreement;
    if (json) {
      std::printf("{\"scheme\":\"%s\",\"predictions\":%lld,\"weight_bytes_per_token\":%llu,\"reference_bytes_per_token\":%llu,"
                  "\"perplexity\":%.4f,\"reference_perplexity\":%.4f,\"same_top\":%.5f,\"kl_mean\":%.6g,\"kl_max\":%.6g}\n",
                  scheme.c_str(), static_cast<long long>(result->predictions),
                  static_cast<unsigned long long>((*model)->active_weight_bytes()),
                  static_cast<unsigned long long>((*reference)->active_weight_bytes()), result->model_perplexity(),
                  result->reference_perplexity(), a.top_agreement(), a.mean_kl, a.max_kl);
    } else {
      std::printf("| %s | %.1f MB (%s: %.1f MB) | %.2f | %.2f | %.2f%% of %lld | %.4f | %.3f |\n", scheme.c_str(),
                  (*model)->active_weight_bytes() / 1e6, (*reference)->weight_dtype().c_str(),
                  (*reference)->active_weight_bytes() / 1e6, result->model_perplexity(), result->reference_perplexity(),
                  100 * a.top_agreement(), static_cast<long long>(a.positions), a.mean_kl, a.max_kl);
    }
  }
  return 0;
}
