#include "engine/model_card.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace engine {

absl::StatusOr<ModelCard> ReadModelCard(const std::string& model_dir) {
  ModelCard card;
  const std::filesystem::path path = std::filesystem::path(model_dir) / "agentd_model.json";
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return card;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  auto invalid = [&](const std::string& why) { return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", why)); };
  if (!in || json.is_discarded() || !json.is_object()) return invalid("not a JSON object");
  // (Fields tested for their type before they are read: nlohmann's value() throws on a
  // "format" that is no string.)
  const auto format = json.find("format");
  if (format == json.end() || !format->is_string() || *format != "agentd-model-card") {
    return invalid("format must be \"agentd-model-card\"");
  }
  const nlohmann::json version = json.contains("version") ? json["version"] : nlohmann::json();
  if (!version.is_number_integer() || version.get<int64_t>() != 1) return invalid("version must be 1");
  if (json.contains("writing_style")) {
    const nlohmann::json& style = json["writing_style"];
    if (!style.is_string() || (style != "extractive" && style != "abstractive")) {
      return invalid("writing_style must be \"extractive\" or \"abstractive\"");
    }
    card.writing_style = style.get<std::string>();
  }
  return card;
}

}  // namespace engine
