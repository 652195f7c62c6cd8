#include "engine/embedding.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace engine {
namespace {

// The file's JSON object, or nullopt-like null when the file does not exist.
absl::StatusOr<nlohmann::json> ReadJsonIfPresent(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json();
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a JSON object"));
  return j;
}

bool Flag(const nlohmann::json& j, const char* key) { return j.contains(key) && j[key].is_boolean() && j[key].get<bool>(); }

}  // namespace

const char* PoolingName(Pooling pooling) {
  switch (pooling) {
    case Pooling::kMean:
      return "mean";
    case Pooling::kLastToken:
      return "last_token";
    case Pooling::kFirstToken:
      return "first_token";
  }
  return "?";
}

absl::StatusOr<EmbeddingSettings> ReadEmbeddingSettings(const std::string& model_dir) {
  const std::filesystem::path dir(model_dir);
  EmbeddingSettings settings;
  absl::StatusOr<nlohmann::json> pooling = ReadJsonIfPresent(dir / "1_Pooling" / "config.json");
  if (!pooling.ok()) return pooling.status();
  if (!pooling->is_null()) {
    settings.declared = true;
    const int modes = Flag(*pooling, "pooling_mode_mean_tokens") + Flag(*pooling, "pooling_mode_lasttoken") +
                      Flag(*pooling, "pooling_mode_cls_token");
    const bool unsupported = Flag(*pooling, "pooling_mode_max_tokens") || Flag(*pooling, "pooling_mode_mean_sqrt_len_tokens") ||
                             Flag(*pooling, "pooling_mode_weightedmean_tokens");
    if (modes != 1 || unsupported) {
      return absl::InvalidArgumentError(absl::StrCat((dir / "1_Pooling" / "config.json").string(),
                                                     ": exactly one of pooling_mode_mean_tokens, pooling_mode_lasttoken and "
                                                     "pooling_mode_cls_token must be true (other modes are not supported)"));
    }
    if (Flag(*pooling, "pooling_mode_lasttoken")) settings.pooling = Pooling::kLastToken;
    if (Flag(*pooling, "pooling_mode_cls_token")) settings.pooling = Pooling::kFirstToken;
    if (pooling->contains("include_prompt") && (*pooling)["include_prompt"].is_boolean()) {
      settings.include_prompt = (*pooling)["include_prompt"].get<bool>();
    }
  }
  absl::StatusOr<nlohmann::json> st = ReadJsonIfPresent(dir / "config_sentence_transformers.json");
  if (!st.ok()) return st.status();
  if (!st->is_null() && st->contains("prompts")) {
    const nlohmann::json& prompts = (*st)["prompts"];
    if (!prompts.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat((dir / "config_sentence_transformers.json").string(),
                                                     ": prompts must be an object of strings"));
    }
    for (auto it = prompts.begin(); it != prompts.end(); ++it) {
      if (!it.value().is_string()) {
        return absl::InvalidArgumentError(absl::StrCat((dir / "config_sentence_transformers.json").string(),
                                                       ": prompts.", it.key(), " must be a string"));
      }
      if (it.key() == "query") settings.query_prompt = it.value().get<std::string>();
      if (it.key() == "document" || it.key() == "passage") settings.document_prompt = it.value().get<std::string>();
    }
  }
  return settings;
}

std::vector<float> Pool(Pooling pooling, bool include_prompt, std::span<const float> hidden, int64_t tokens,
                        int64_t hidden_size, int64_t prompt_tokens) {
  std::vector<float> pooled(hidden_size, 0.0f);
  if (tokens <= 0) return pooled;
  auto row = [&](int64_t t) { return hidden.subspan(t * hidden_size, hidden_size); };
  switch (pooling) {
    case Pooling::kLastToken: {
      auto last = row(tokens - 1);
      pooled.assign(last.begin(), last.end());
      return pooled;
    }
    case Pooling::kFirstToken: {
      auto first = row(0);
      pooled.assign(first.begin(), first.end());
      return pooled;
    }
    case Pooling::kMean:
      break;
  }
  const int64_t from = !include_prompt && prompt_tokens < tokens ? prompt_tokens : 0;
  // Accumulated in double: a long passage is a sum of hundreds of rows.
  std::vector<double> sum(hidden_size, 0.0);
  for (int64_t t = from; t < tokens; ++t) {
    auto r = row(t);
    for (int64_t j = 0; j < hidden_size; ++j) sum[j] += r[j];
  }
  const double count = static_cast<double>(tokens - from);
  for (int64_t j = 0; j < hidden_size; ++j) pooled[j] = static_cast<float>(sum[j] / count);
  return pooled;
}

void NormalizeL2(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : v) x *= inv;
}

}  // namespace engine
