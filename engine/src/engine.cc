#include "engine/engine.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/device.h"
#include "nlohmann/json.hpp"

namespace engine {
namespace {

std::vector<int32_t> ReadGenerationConfigEos(const std::string& model_dir) {
  std::ifstream in(std::filesystem::path(model_dir) / "generation_config.json");
  if (!in) return {};
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json config = nlohmann::json::parse(buffer.str(), nullptr, false);
  std::vector<int32_t> ids;
  if (config.is_object() && config.contains("eos_token_id")) {
    const auto& eos = config["eos_token_id"];
    if (eos.is_number_integer()) ids.push_back(eos.get<int32_t>());
    if (eos.is_array()) {
      for (const auto& id : eos) {
        if (id.is_number_integer()) ids.push_back(id.get<int32_t>());
      }
    }
  }
  return ids;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Load(const EngineOptions& options) {
  std::unique_ptr<Engine> engine(new Engine());
  auto model = Model::Load({.model_dir = options.model_dir});
  if (!model.ok()) return model.status();
  engine->model_ = std::move(*model);
  auto tokenizer = Tokenizer::Load(options.model_dir);
  if (!tokenizer.ok()) return tokenizer.status();
  engine->tokenizer_ = std::move(*tokenizer);
  const ModelConfig& config = engine->model_->config();
  if (engine->tokenizer_->vocab_size() > config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.model_dir, ": the tokenizer has ", engine->tokenizer_->vocab_size(),
        " tokens but the model's vocab_size is ", config.vocab_size));
  }
  auto chat = ChatFormat::ForTokenizer(*engine->tokenizer_);
  if (chat.ok()) engine->chat_format_ = std::move(*chat);
  engine->extra_stop_tokens_ = ReadGenerationConfigEos(options.model_dir);

  EngineInfo& info = engine->info_;
  info.name = std::filesystem::path(options.model_dir).lexically_normal().filename().string();
  if (info.name.empty()) info.name = std::filesystem::path(options.model_dir).parent_path().filename().string();
  info.architecture = ArchitectureName(config.architecture);
  info.parameters = engine->model_->parameter_count();
  info.active_parameters = engine->model_->active_parameter_count();
  info.vocab_size = config.vocab_size;
  info.context_length = config.max_position_embeddings;
  info.hidden_size = config.hidden_size;
  info.num_layers = config.num_hidden_layers;
  info.num_experts = config.num_routed_experts;
  info.experts_per_token = config.num_experts_per_tok;
  info.weight_dtype = engine->model_->weight_dtype();
  info.device = DescribeDevices(ProbeDevices());
  info.has_mtp = engine->model_->has_mtp();
  return engine;
}

absl::StatusOr<GenerationResult> Engine::CompleteIds(std::vector<int32_t> prompt, const CompletionOptions& options,
                                                     const GenerationCallback& on_delta) {
  GenerationRequest request;
  request.prompt = std::move(prompt);
  request.sampling = options.sampling;
  request.max_tokens = options.max_tokens;
  request.stop_strings = options.stop_strings;
  request.stop_token_ids = options.stop_token_ids;
  request.stop_token_ids.insert(request.stop_token_ids.end(), extra_stop_tokens_.begin(), extra_stop_tokens_.end());
  request.logprobs = options.logprobs;
  request.cancelled = options.cancelled;
  request.speculation = options.speculation;
  std::unique_ptr<TokenConstraint> constraint;
  if (options.constraint.kind != ResponseConstraint::Kind::kNone) {
    absl::StatusOr<std::unique_ptr<TokenConstraint>> created = TokenConstraint::Create(options.constraint, *tokenizer_);
    if (!created.ok()) return created.status();
    constraint = std::move(*created);
    request.constraint = constraint.get();
  }
  for (int32_t id : request.prompt) {
    if (id < 0 || id >= model_->config().vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("prompt_ids: ", id, " is outside the vocabulary (",
                                                     model_->config().vocab_size, ")"));
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return Generate(*model_, *tokenizer_, request, on_delta);
}

absl::StatusOr<GenerationResult> Engine::Complete(const std::string& prompt, const CompletionOptions& options,
                                                  const GenerationCallback& on_delta) {
  std::vector<int32_t> ids;
  if (tokenizer_->add_bos()) ids.push_back(*tokenizer_->bos_id());
  std::vector<int32_t> text_ids = tokenizer_->Encode(prompt);
  ids.insert(ids.end(), text_ids.begin(), text_ids.end());
  if (ids.empty()) return absl::InvalidArgumentError("prompt: is empty");
  return CompleteIds(std::move(ids), options, on_delta);
}

absl::StatusOr<ChatResult> Engine::Chat(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                                        const CompletionOptions& options, const GenerationCallback& on_delta) {
  if (chat_format_ == nullptr) {
    return absl::FailedPreconditionError("this model's tokenizer has no chat format (DeepSeek or ChatML tokens)");
  }
  if (messages.empty()) return absl::InvalidArgumentError("messages: at least one message is required");
  absl::StatusOr<std::string> prompt = chat_format_->Render(messages, tools, /*add_generation_prompt=*/true);
  if (!prompt.ok()) return prompt.status();
  // The rendered prompt carries its own BOS text where the format wants one.
  std::vector<int32_t> ids = tokenizer_->Encode(*prompt);
  CompletionOptions chat_options = options;
  for (const std::string& end : chat_format_->EndOfTurnStrings()) {
    if (auto id = tokenizer_->TokenId(end)) chat_options.stop_token_ids.push_back(*id);
  }
  // Tool calls are parsed from special tokens, so keep them in the text given to the parser.
  absl::StatusOr<GenerationResult> generation = CompleteIds(std::move(ids), chat_options, on_delta);
  if (!generation.ok()) return generation.status();
  ChatResult result;
  // The stop token ends the turn; it is not part of the reply (and need not be special: a
  // config's eos id may name an ordinary token).
  std::span<const int32_t> reply_tokens(generation->tokens);
  if (generation->finish_reason == FinishReason::kStopToken && !reply_tokens.empty()) {
    reply_tokens = reply_tokens.first(reply_tokens.size() - 1);
  }
  result.reply = chat_format_->Parse(tokenizer_->Decode(reply_tokens, /*skip_special_tokens=*/false));
  result.generation = std::move(*generation);
  return result;
}

absl::StatusOr<std::vector<std::vector<float>>> Engine::Embed(const std::vector<std::string>& texts, bool normalize) {
  const int64_t hidden = model_->config().hidden_size;
  std::vector<std::vector<float>> vectors;
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<int32_t> ids;
    if (tokenizer_->add_bos()) ids.push_back(*tokenizer_->bos_id());
    std::vector<int32_t> text_ids = tokenizer_->Encode(texts[i]);
    ids.insert(ids.end(), text_ids.begin(), text_ids.end());
    if (text_ids.empty()) return absl::InvalidArgumentError(absl::StrCat("texts[", i, "]: is empty"));
    if (static_cast<int64_t>(ids.size()) > model_->config().max_position_embeddings) {
      ids.resize(model_->config().max_position_embeddings);
    }
    auto cache = model_->NewCache();
    ForwardResult result;
    absl::Status status = model_->Forward(ids, cache.get(), {.return_hidden = true}, &result);
    if (!status.ok()) return status;
    std::vector<float> pooled(hidden, 0.0f);
    const int64_t n = static_cast<int64_t>(ids.size());
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t j = 0; j < hidden; ++j) pooled[j] += result.hidden[t * hidden + j];
    }
    double norm = 0;
    for (float& v : pooled) {
      v /= static_cast<float>(n);
      norm += static_cast<double>(v) * v;
    }
    if (normalize && norm > 0) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (float& v : pooled) v *= inv;
    }
    vectors.push_back(std::move(pooled));
  }
  return vectors;
}

}  // namespace engine
