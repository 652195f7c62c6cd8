#include "engine/engine.h"

#include <chrono>
#include "engine/model_card.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/device.h"
#include "engine/json_nesting.h"
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
  engine->observer_ = options.observer;
  auto model = Model::Load({.model_dir = options.model_dir,
                            .quantize = options.quantize,
                            .quantized_copy_dir = options.quantized_copy_dir,
                            .device = options.device});
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
  auto embedding = ReadEmbeddingSettings(options.model_dir);
  if (!embedding.ok()) return embedding.status();
  engine->embedding_ = *embedding;
  auto card = ReadModelCard(options.model_dir);
  if (!card.ok()) return card.status();
  engine->info_.writing_style = card->writing_style;
  if (!options.draft_model_dir.empty()) {
    auto draft = Model::Load({.model_dir = options.draft_model_dir});
    if (!draft.ok()) return draft.status();
    if ((*draft)->config().vocab_size != config.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("draft model ", options.draft_model_dir, ": vocabulary of ",
                                                     (*draft)->config().vocab_size, " tokens, the model has ",
                                                     config.vocab_size));
    }
    engine->draft_model_ = std::move(*draft);
    engine->info_.draft_model = std::filesystem::path(options.draft_model_dir).lexically_normal().filename().string();
  }
  auto scheduler = Scheduler::Create(*engine->model_, *engine->tokenizer_, options.scheduler);
  if (!scheduler.ok()) return scheduler.status();
  engine->scheduler_ = std::move(*scheduler);

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
  info.quantized_copy = engine->model_->quantized_copy_note();
  info.device = engine->model_->device_description();
  info.has_mtp = engine->model_->has_mtp();
  info.embedding_pooling = PoolingName(engine->embedding_.pooling);
  size_t longest_token = 4;  // a character, whatever the vocabulary
  for (int32_t id = 0; id < engine->tokenizer_->vocab_size(); ++id) {
    longest_token = std::max(longest_token, engine->tokenizer_->TokenBytes(id).size());
  }
  info.max_prompt_bytes = static_cast<int64_t>(info.context_length) * static_cast<int64_t>(longest_token) * 4;
  info.embedding_model = engine->embedding_.declared;
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
  if (request.speculation.mode == SpeculationConfig::Mode::kDraftModel) {
    if (draft_model_ == nullptr) {
      return absl::InvalidArgumentError("speculation.mode: no draft model is loaded (start agentd with --draft-model)");
    }
    request.speculation.draft_model = draft_model_.get();
  }
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
  if (observer_ == nullptr) return scheduler_->Generate(request, {.tenant = options.tenant}, on_delta);
  // The observer learns when tokens arrive, as the caller does.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  Clock::time_point last = start;
  bool first = true;
  auto observed = [&](const GenerationDelta& delta) {
    const int tokens = static_cast<int>(delta.token_ids.size());
    if (tokens > 0) {
      const Clock::time_point now = Clock::now();
      if (first) {
        observer_->OnFirstToken(options.origin, std::chrono::duration<double>(now - start).count());
        first = false;
      } else {
        observer_->OnTokens(options.origin, tokens, std::chrono::duration<double>(now - last).count() / tokens);
      }
      last = now;
    }
    return on_delta ? on_delta(delta) : true;
  };
  absl::StatusOr<GenerationResult> result = scheduler_->Generate(request, {.tenant = options.tenant}, observed);
  if (result.ok()) observer_->OnFinished(options.origin, *result);
  return result;
}

absl::Status Engine::CheckPromptBytes(size_t bytes) const {
  if (static_cast<int64_t>(bytes) <= info_.max_prompt_bytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("prompt: ", bytes, " bytes cannot fit the context of ",
                                                 info_.context_length, " tokens (at most ", info_.max_prompt_bytes,
                                                 " bytes are read)"));
}

absl::StatusOr<GenerationResult> Engine::Complete(const std::string& prompt, const CompletionOptions& options,
                                                  const GenerationCallback& on_delta) {
  if (absl::Status fits = CheckPromptBytes(prompt.size()); !fits.ok()) return fits;
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
  for (const ToolSpec& tool : tools) {
    if (JsonNestedTooDeeply(tool.parameters_json_schema)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tools: ", tool.name, ": parameters are nested more than ", kMaxJsonNesting, " levels deep"));
    }
  }
  absl::StatusOr<RenderedPrompt> prompt = chat_format_->RenderPrompt(messages, tools, /*add_generation_prompt=*/true);
  if (!prompt.ok()) return prompt.status();
  if (absl::Status fits = CheckPromptBytes(prompt->text.size()); !fits.ok()) return fits;
  // The rendered prompt carries its own BOS text where the format wants one. Only the template's
  // markup becomes chat tokens: a message spelling "<|im_end|>" is read as those characters.
  std::vector<int32_t> ids = tokenizer_->EncodeWithLiteralRanges(prompt->text, prompt->literal);
  CompletionOptions chat_options = options;
  for (const std::string& end : chat_format_->EndOfTurnStrings()) {
    if (auto id = tokenizer_->TokenId(end)) chat_options.stop_token_ids.push_back(*id);
  }
  using ToolChoice = CompletionOptions::ToolChoice;
  const std::optional<int32_t> trigger =
      tools.empty() ? std::nullopt : tokenizer_->TokenId(chat_format_->tool_call_syntax().trigger);
  if (!tools.empty() && options.tool_choice == ToolChoice::kRequired) {
    if (!trigger) {
      return absl::FailedPreconditionError("tool_choice required: the tokenizer has no tool-call token");
    }
    ids.push_back(*trigger);
    ChatResult result;
    result.generation.prompt_tokens = static_cast<int64_t>(ids.size());
    return CompleteToolCall(std::move(ids), tools, chat_options, std::move(result));
  }
  // The model opening a tool call ends the free-text part (or, with tool_choice none, the turn).
  const bool constrain_calls = trigger.has_value() && options.constraint.kind == ResponseConstraint::Kind::kNone;
  const int32_t trigger_id = trigger.value_or(-1);
  if (constrain_calls) chat_options.stop_token_ids.push_back(trigger_id);
  std::vector<int32_t> prompt_ids = ids;
  absl::StatusOr<GenerationResult> generation = CompleteIds(std::move(ids), chat_options, on_delta);
  if (!generation.ok()) return generation.status();
  ChatResult result;
  // The stop token ends the turn; it is not part of the reply (and need not be special: a
  // config's eos id may name an ordinary token). Tool calls are parsed from added tokens, so
  // the text given to the parser keeps them.
  std::span<const int32_t> reply_tokens(generation->tokens);
  const bool stopped = generation->finish_reason == FinishReason::kStopToken && !reply_tokens.empty();
  if (stopped) reply_tokens = reply_tokens.first(reply_tokens.size() - 1);
  // A call comes through the tool-call token only (CompleteToolCall, below), with its name one of
  // `tools` and its arguments their schema: a reply spelling the call syntax in ordinary tokens
  // (a page quoted in the prompt can ask for exactly that, and reads as text there) wrote text.
  // Only a vocabulary without that token leaves text the way to call, among the tools offered.
  const bool calls_as_text = !tools.empty() && !trigger.has_value() && options.tool_choice != ToolChoice::kNone &&
                             options.constraint.kind == ResponseConstraint::Kind::kNone;
  result.reply = chat_format_->Parse(tokenizer_->Decode(reply_tokens, /*skip_special_tokens=*/false), calls_as_text);
  std::erase_if(result.reply.tool_calls, [&](const ToolCall& call) {
    return std::none_of(tools.begin(), tools.end(), [&](const ToolSpec& tool) { return tool.name == call.name; });
  });
  const bool calls_tool = constrain_calls && stopped && generation->tokens.back() == trigger_id;
  result.generation = std::move(*generation);
  if (!calls_tool || options.tool_choice == ToolChoice::kNone) return result;
  prompt_ids.insert(prompt_ids.end(), result.generation.tokens.begin(), result.generation.tokens.end());
  return CompleteToolCall(std::move(prompt_ids), tools, chat_options, std::move(result));
}

absl::StatusOr<ChatResult> Engine::CompleteToolCall(std::vector<int32_t> ids, const std::vector<ToolSpec>& tools,
                                                    const CompletionOptions& options, ChatResult result) {
  const ToolCallSyntax syntax = chat_format_->tool_call_syntax();
  auto append = [&](const std::string& text) {
    std::vector<int32_t> piece = tokenizer_->Encode(text);
    ids.insert(ids.end(), piece.begin(), piece.end());
  };
  // Runs one constrained piece and returns its tokens without the stop token.
  GenerationResult& total = result.generation;
  auto piece = [&](ResponseConstraint constraint, int max_tokens, const char* what) -> absl::StatusOr<std::vector<int32_t>> {
    CompletionOptions piece_options = options;
    piece_options.constraint = std::move(constraint);
    piece_options.max_tokens = std::max(1, max_tokens);
    piece_options.speculation = SpeculationConfig();
    absl::StatusOr<GenerationResult> generated = CompleteIds(ids, piece_options, nullptr);
    if (!generated.ok()) return generated.status();
    total.completion_tokens += generated->completion_tokens;
    if (generated->finish_reason != FinishReason::kStopToken) {
      // The caller's max_tokens is too small for this call, and asking again will not change
      // that: not RESOURCE_EXHAUSTED (HTTP 429, which OpenAI's clients retry on their own).
      return absl::InvalidArgumentError(absl::StrCat("max_tokens: the tool call's ", what, " did not fit in ",
                                                     piece_options.max_tokens, " tokens"));
    }
    std::vector<int32_t> tokens(generated->tokens.begin(), generated->tokens.end() - 1);
    ids.insert(ids.end(), tokens.begin(), tokens.end());
    return tokens;
  };

  append(syntax.prefix);
  ResponseConstraint names{.kind = ResponseConstraint::Kind::kLiteralChoice};
  for (const ToolSpec& tool : tools) names.choices.push_back(tool.name);
  absl::StatusOr<std::vector<int32_t>> name_tokens = piece(names, 64, "tool name");
  if (!name_tokens.ok()) return name_tokens.status();
  const std::string name = tokenizer_->Decode(*name_tokens);
  auto tool = std::find_if(tools.begin(), tools.end(), [&](const ToolSpec& t) { return t.name == name; });
  if (tool == tools.end()) return absl::InternalError(absl::StrCat("tool call: constrained name '", name, "' is not a tool"));

  append(syntax.middle);
  // Arguments follow the tool's schema; a schema with keywords the constraint cannot enforce
  // falls back to any JSON object (the tool registry validates arguments in full anyway).
  ResponseConstraint arguments{.kind = ResponseConstraint::Kind::kJsonSchema,
                               .json_schema = tool->parameters_json_schema.empty() ? R"({"type": "object"})"
                                                                                   : tool->parameters_json_schema};
  if (!TokenConstraint::Create(arguments, *tokenizer_).ok()) arguments.json_schema = R"({"type": "object"})";
  const int left = options.max_tokens - static_cast<int>(total.completion_tokens);
  absl::StatusOr<std::vector<int32_t>> argument_tokens = piece(arguments, left, "tool arguments");
  if (!argument_tokens.ok()) return argument_tokens.status();
  result.reply.tool_calls.push_back({"call_0", name, tokenizer_->Decode(*argument_tokens)});
  total.finish_reason = FinishReason::kStopToken;
  return result;
}

absl::StatusOr<std::vector<std::vector<float>>> Engine::Embed(const std::vector<std::string>& texts,
                                                              const EmbedOptions& options) {
  const ModelConfig& config = model_->config();
  const int64_t hidden = config.hidden_size;
  const std::string& prompt = embedding_.PromptFor(options.role);
  // The prompt is tokenized with the text, as sentence-transformers does; its own length only
  // matters to mean pooling without the prompt.
  int64_t prompt_tokens = tokenizer_->add_bos() ? 1 : 0;
  if (!prompt.empty()) prompt_tokens += static_cast<int64_t>(tokenizer_->Encode(prompt).size());
  std::vector<std::vector<int32_t>> sequences(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].empty()) return absl::InvalidArgumentError(absl::StrCat("texts[", i, "]: is empty"));
    std::vector<int32_t>& ids = sequences[i];
    if (tokenizer_->add_bos()) ids.push_back(*tokenizer_->bos_id());
    // Past max_prompt_bytes the tokens would be cut off below anyway: cut the text first (at a
    // character's start), so a huge text costs no tokenizing.
    size_t keep = std::min(texts[i].size(), static_cast<size_t>(info_.max_prompt_bytes));
    while (keep > 0 && keep < texts[i].size() && (static_cast<unsigned char>(texts[i][keep]) & 0xC0) == 0x80) --keep;
    std::vector<int32_t> encoded = tokenizer_->Encode(prompt + texts[i].substr(0, keep));
    ids.insert(ids.end(), encoded.begin(), encoded.end());
    if (static_cast<int64_t>(ids.size()) > config.max_position_embeddings) ids.resize(config.max_position_embeddings);
  }
  // The texts join the scheduler's batches: they share passes with each other (the projections
  // then run as matrix-matrix products over many rows) and with any generation under way.
  absl::StatusOr<std::vector<std::vector<float>>> states = scheduler_->Encode(sequences, {.tenant = options.tenant, .cancelled = options.cancelled});
  if (!states.ok()) return states.status();
  std::vector<std::vector<float>> vectors(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const int64_t n = static_cast<int64_t>(sequences[i].size());
    vectors[i] = Pool(embedding_.pooling, embedding_.include_prompt, (*states)[i], n, hidden, prompt_tokens);
    if (options.normalize) NormalizeL2(vectors[i]);
  }
  return vectors;
}

}  // namespace engine
