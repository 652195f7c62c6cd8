#include "engine_commands.h"

#include "input_file.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/engine.h"
#include "engine/model.h"
#include "engine/shipped_models.h"
#include "engine/tokenizer.h"
#include "nlohmann/json.hpp"

namespace agentctl {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "agentctl: %s\n", message.c_str());
  return 1;
}

bool WriteFloats(const std::string& path, const std::vector<float>& values) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  // float32 little-endian: the host order on every platform this builds for.
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
  return static_cast<bool>(out.flush());
}

struct LogitsArgs {
  std::string model_dir, ids_text, out_path, mtp_out_path, quantize;
};

// An empty or "default" --model names the shipped model `name`.
absl::StatusOr<std::string> ModelDirOrShipped(const std::string& given, std::string_view name) {
  if (!given.empty() && given != "default") return given;
  return engine::FindShippedModel(name);
}

int RunLogits(LogitsArgs args) {
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(args.ids_text, ',', absl::SkipWhitespace())) {
    int32_t id;
    if (!absl::SimpleAtoi(part, &id) || id < 0) {
      return Fail("--ids: \"" + std::string(part) + "\" is not a token id (expected e.g. 3,17,42)");
    }
    ids.push_back(id);
  }
  if (ids.empty()) return Fail("--ids: at least one token id is required");
  absl::StatusOr<std::string> model_dir = ModelDirOrShipped(args.model_dir, engine::kDefaultModel);
  if (!model_dir.ok()) return Fail("--model: " + std::string(model_dir.status().message()));
  args.model_dir = *model_dir;
  auto model = engine::Model::Load({.model_dir = args.model_dir, .quantize = args.quantize});
  if (!model.ok()) return Fail(std::string(model.status().message()));
  if (!args.mtp_out_path.empty() && !(*model)->has_mtp()) {
    return Fail("--mtp-out: the model in " + args.model_dir + " has no MTP layer");
  }
  auto cache = (*model)->NewCache();
  engine::ForwardResult result;
  absl::Status status = (*model)->Forward(ids, cache.get(), {.all_logits = true, .return_hidden = true}, &result);
  if (!status.ok()) return Fail(std::string(status.message()));
  if (!WriteFloats(args.out_path, result.logits)) return Fail("--out: cannot write " + args.out_path);
  if (!args.mtp_out_path.empty()) {
    engine::ForwardResult mtp;
    if (ids.size() >= 2) {
      const size_t n = ids.size() - 1;
      const int64_t hidden = (*model)->config().hidden_size;
      auto mtp_cache = (*model)->NewMtpCache();
      status = (*model)->ForwardMtp(std::span(result.hidden).first(n * hidden), std::span(ids).subspan(1),
                                    mtp_cache.get(), &mtp);
      if (!status.ok()) return Fail(std::string(status.message()));
    }
    if (!WriteFloats(args.mtp_out_path, mtp.logits)) return Fail("--mtp-out: cannot write " + args.mtp_out_path);
  }
  return 0;
}

struct TokenizeArgs {
  std::string tokenizer_dir, text_file, jsonl_file;
};

std::string IdsJson(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

// The "text" of each non-empty line of a JSON-lines file; an error names the first bad line.
absl::StatusOr<std::vector<std::string>> ReadJsonlTexts(const std::string& path) {
  // ReadInputFile, not a stream: a FIFO or /dev/zero is refused instead of read for ever.
  absl::StatusOr<std::string> contents = ReadInputFile(path, 256u << 20, "a JSON-lines file of texts");
  if (!contents.ok()) return absl::Status(contents.status().code(), "--jsonl: " + std::string(contents.status().message()));
  std::vector<std::string> texts;
  std::istringstream in(*contents);
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    nlohmann::json object = nlohmann::json::parse(line, nullptr, false);
    if (object.is_discarded() || !object.is_object() || !object.contains("text") || !object["text"].is_string()) {
      return absl::InvalidArgumentError("--jsonl: line " + std::to_string(line_number) +
                                        " is not an object with a \"text\" string");
    }
    texts.push_back(object["text"].get<std::string>());
  }
  return texts;
}

int RunTokenize(const TokenizeArgs& args) {
  if (args.text_file.empty() == args.jsonl_file.empty()) {
    return Fail("engine tokenize: give exactly one of --text-file or --jsonl");
  }
  absl::StatusOr<std::string> tokenizer_dir = ModelDirOrShipped(args.tokenizer_dir, engine::kDefaultModel);
  if (!tokenizer_dir.ok()) return Fail("--tokenizer: " + std::string(tokenizer_dir.status().message()));
  auto tokenizer = engine::Tokenizer::Load(*tokenizer_dir);
  if (!tokenizer.ok()) return Fail(std::string(tokenizer.status().message()));
  if (!args.text_file.empty()) {
    absl::StatusOr<std::string> text = ReadInputFile(args.text_file, 256u << 20, "a text to tokenize");
    if (!text.ok()) return Fail("--text-file: " + std::string(text.status().message()));
    std::printf("%s\n", IdsJson((*tokenizer)->Encode(*text)).c_str());
    return 0;
  }
  absl::StatusOr<std::vector<std::string>> texts = ReadJsonlTexts(args.jsonl_file);
  if (!texts.ok()) return Fail(std::string(texts.status().message()));
  for (const std::string& text : *texts) std::printf("%s\n", IdsJson((*tokenizer)->Encode(text)).c_str());
  return 0;
}

struct EmbedArgs {
  std::string model_dir, jsonl_file;
  bool query = false;
};

// One JSON array of floats per {"text"} line, embedded as the model directory declares.
int RunEmbed(const EmbedArgs& args) {
  absl::StatusOr<std::vector<std::string>> texts = ReadJsonlTexts(args.jsonl_file);
  if (!texts.ok()) return Fail(std::string(texts.status().message()));
  absl::StatusOr<std::string> model_dir = ModelDirOrShipped(args.model_dir, engine::kDefaultEmbeddingModel);
  if (!model_dir.ok()) return Fail("--model: " + std::string(model_dir.status().message()));
  auto loaded = engine::Engine::Load({.model_dir = *model_dir});
  if (!loaded.ok()) return Fail("--model: " + std::string(loaded.status().message()));
  auto vectors = (*loaded)->Embed(*texts, {.role = args.query ? engine::EmbedRole::kQuery : engine::EmbedRole::kDocument,
                                          .normalize = true});
  if (!vectors.ok()) return Fail(std::string(vectors.status().message()));
  for (const std::vector<float>& v : *vectors) std::printf("%s\n", nlohmann::json(v).dump().c_str());
  return 0;
}

}  // namespace

std::function<int()> AddEngineCommands(CLI::App* app) {
  CLI::App* engine = app->add_subcommand("engine", "run the engine in-process (no daemon)");
  engine->require_subcommand(1);

  auto logits_args = std::make_shared<LogitsArgs>();
  CLI::App* logits = engine->add_subcommand("logits", "write float32 logits [T, vocab] of a full forward pass");
  logits->add_option("--model", logits_args->model_dir, "model directory (default: the shipped agentd-default)");
  logits->add_option("--ids", logits_args->ids_text, "comma-separated token ids")->required();
  logits->add_option("--out", logits_args->out_path, "output file (raw little-endian float32)")->required();
  logits->add_option("--mtp-out", logits_args->mtp_out_path, "also write the MTP layer's logits [T-1, vocab]");
  logits->add_option("--quantize", logits_args->quantize,
                     "quantise the weights at load: q8, q4 or q4-pure (default: as the checkpoint holds them)");

  auto tokenize_args = std::make_shared<TokenizeArgs>();
  CLI::App* tokenize = engine->add_subcommand("tokenize", "print token ids (no special tokens added) as JSON");
  tokenize->add_option("--tokenizer", tokenize_args->tokenizer_dir,
                       "directory with tokenizer.json (default: the shipped agentd-default's)");
  tokenize->add_option("--text-file", tokenize_args->text_file, "encode this file's contents");
  tokenize->add_option("--jsonl", tokenize_args->jsonl_file, "encode each line's {\"text\": ...}, one array per line");

  auto embed_args = std::make_shared<EmbedArgs>();
  CLI::App* embed = engine->add_subcommand("embed", "print each text's L2-normalised embedding as a JSON array");
  embed->add_option("--model", embed_args->model_dir, "embedding model directory (default: the shipped agentd-embed)");
  embed->add_option("--jsonl", embed_args->jsonl_file, "one {\"text\": ...} per line")->required();
  embed->add_flag("--query", embed_args->query, "embed the texts as search queries (with the model's query prompt)");

  return [=]() -> int {
    if (logits->parsed()) return RunLogits(*logits_args);
    if (embed->parsed()) return RunEmbed(*embed_args);
    if (tokenize->parsed()) return RunTokenize(*tokenize_args);
    return -1;
  };
}

}  // namespace agentctl
