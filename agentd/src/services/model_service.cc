#include "model_service.h"

#include <cmath>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "generation_reactor.h"

namespace agentd::services {
namespace {

using namespace agentd::v1;

grpc::Status Invalid(absl::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

grpc::Status InvalidField(absl::string_view prefix, absl::string_view field, absl::string_view problem) {
  return Invalid(absl::StrCat(prefix, ".", field, ": ", problem));
}

bool InRange(float value, float lo, float hi) { return std::isfinite(value) && value >= lo && value <= hi; }

// Speculation modes the loaded engine cannot serve are refused by name rather than ignored.
grpc::Status CheckUnsupported(const SpeculationOptions& speculation, const ResponseFormat& format,
                              const engine::EngineInfo& info) {
  const SpeculationMode mode = speculation.mode();
  if (mode == SPECULATION_MODE_MTP && !info.has_mtp) {
    return Invalid("speculation.mode: MTP drafting needs a checkpoint with an MTP layer; this model has none");
  }
  if (mode == SPECULATION_MODE_DRAFT_MODEL && info.draft_model.empty()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "speculation.mode: DRAFT_MODEL needs a draft model (start agentd with --draft-model)");
  }
  if (format.format_case() == ResponseFormat::kJsonSchema && format.json_schema().empty()) {
    return Invalid("response_format.json_schema: is empty");
  }
  return grpc::Status::OK;
}

engine::ResponseConstraint ToConstraint(const ResponseFormat& format) {
  engine::ResponseConstraint constraint;
  if (format.format_case() == ResponseFormat::kJsonSchema) {
    constraint.kind = engine::ResponseConstraint::Kind::kJsonSchema;
    constraint.json_schema = format.json_schema();
  } else if (format.format_case() == ResponseFormat::kJsonObject && format.json_object()) {
    constraint.kind = engine::ResponseConstraint::Kind::kJsonValue;
  } else if (format.format_case() == ResponseFormat::kQuotedSentences) {
    const agentd::v1::QuotedSentences& quoted = format.quoted_sentences();
    constraint.kind = engine::ResponseConstraint::Kind::kQuotedSentences;
    for (const agentd::v1::QuotedSentence& sentence : quoted.sentences()) {
      constraint.quotes.push_back({sentence.text(), static_cast<int>(std::min<uint32_t>(sentence.citation(), 1u << 20))});
    }
    constraint.min_units = static_cast<int>(std::min<uint32_t>(quoted.min_units(), 1024));
    constraint.max_units = static_cast<int>(std::min<uint32_t>(quoted.max_units(), 1024));
    constraint.quote_separator = quoted.separator();
  }
  return constraint;
}

// Schema errors come from the engine as "json_schema...: ..."; name the request field.
grpc::Status GenerationError(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument && absl::StartsWith(status.message(), "quote")) {
    return Invalid(absl::StrCat("response_format.quoted_sentences", status.message().substr(5)));
  }
  if (status.code() == absl::StatusCode::kInvalidArgument && absl::StartsWith(status.message(), "json_schema")) {
    return Invalid(absl::StrCat("response_format.", status.message()));
  }
  return ToGrpcStatus(status);
}

grpc::Status CheckGenerationCommon(const SamplingParams& sampling, uint32_t logprobs,
                                   const SpeculationOptions& speculation) {
  grpc::Status status = CheckSamplingParams(sampling, "sampling");
  if (!status.ok()) return status;
  if (logprobs > 20) return Invalid("logprobs: at most 20");
  if (speculation.num_draft_tokens() > 16) return Invalid("speculation.num_draft_tokens: at most 16");
  return grpc::Status::OK;
}

// AUTO (and unspecified) drafts by prompt lookup: it costs no forward pass, and on the CPU the
// MTP layer's own pass costs more than its drafts save (BENCHMARKS.md, serving). Rejection
// sampling keeps every mode exact for any sampling settings.
engine::SpeculationConfig ToSpeculation(const SpeculationOptions& speculation, const engine::EngineInfo& info) {
  using Mode = engine::SpeculationConfig::Mode;
  engine::SpeculationConfig config;
  switch (speculation.mode()) {
    case SPECULATION_MODE_NONE: config.mode = Mode::kNone; break;
    case SPECULATION_MODE_NGRAM: config.mode = Mode::kNgram; break;
    case SPECULATION_MODE_MTP: config.mode = Mode::kMtp; break;
    case SPECULATION_MODE_DRAFT_MODEL: config.mode = Mode::kDraftModel; break;
    default: config.mode = Mode::kNgram; break;
  }
  if (speculation.num_draft_tokens() > 0) config.num_draft_tokens = static_cast<int>(speculation.num_draft_tokens());
  return config;
}

SpeculationMode ToProto(engine::SpeculationConfig::Mode mode) {
  using Mode = engine::SpeculationConfig::Mode;
  switch (mode) {
    case Mode::kNone: return SPECULATION_MODE_NONE;
    case Mode::kNgram: return SPECULATION_MODE_NGRAM;
    case Mode::kMtp: return SPECULATION_MODE_MTP;
    case Mode::kDraftModel: return SPECULATION_MODE_DRAFT_MODEL;
  }
  return SPECULATION_MODE_NONE;
}

engine::CompletionOptions ToCompletionOptions(const SamplingParams& s, uint32_t max_tokens,
                                              const google::protobuf::RepeatedPtrField<std::string>& stop,
                                              uint32_t logprobs, int context_length) {
  engine::CompletionOptions options;
  options.origin = "grpc";
  options.sampling.temperature = s.temperature();
  options.sampling.top_k = static_cast<int>(s.top_k());
  options.sampling.top_p = s.top_p() == 0 ? 1.0f : s.top_p();
  options.sampling.min_p = s.min_p();
  options.sampling.repetition_penalty = s.repetition_penalty() == 0 ? 1.0f : s.repetition_penalty();
  options.sampling.frequency_penalty = s.frequency_penalty();
  options.sampling.presence_penalty = s.presence_penalty();
  options.sampling.seed = s.has_seed() ? s.seed() : std::random_device{}();
  options.max_tokens = static_cast<int>(std::min<uint32_t>(max_tokens == 0 ? 512 : max_tokens,
                                                           static_cast<uint32_t>(context_length)));
  options.stop_strings.assign(stop.begin(), stop.end());
  options.logprobs = static_cast<int>(logprobs);
  return options;
}

FinishReason ToProto(engine::FinishReason reason) {
  switch (reason) {
    case engine::FinishReason::kStopToken: return FINISH_REASON_STOP_TOKEN;
    case engine::FinishReason::kStopString: return FINISH_REASON_STOP_STRING;
    case engine::FinishReason::kMaxTokens: return FINISH_REASON_MAX_TOKENS;
    case engine::FinishReason::kContextLength: return FINISH_REASON_CONTEXT_LENGTH;
    case engine::FinishReason::kCancelled: return FINISH_REASON_CANCELLED;
  }
  return FINISH_REASON_UNSPECIFIED;
}

// Converts an engine delta; token strings come from the tokenizer's vocabulary.
GenerateResponse ToProto(const engine::GenerationDelta& delta, bool include_ids, const engine::Tokenizer& tokenizer) {
  GenerateResponse response;
  response.set_text(delta.text);
  if (include_ids) {
    for (int32_t id : delta.token_ids) response.add_token_ids(static_cast<uint32_t>(id));
  }
  for (const engine::TokenChoice& choice : delta.logprobs) {
    TokenLogprobs* out = response.add_logprobs();
    auto fill = [&](const engine::TokenLogprob& in, TokenLogprob* to) {
      to->set_token_id(static_cast<uint32_t>(in.id));
      to->set_token(engine::ToValidUtf8(tokenizer.TokenBytes(in.id)));
      to->set_logprob(in.logprob);
    };
    fill(choice.chosen, out->mutable_chosen());
    for (const engine::TokenLogprob& alternative : choice.top) fill(alternative, out->add_top());
  }
  return response;
}

GenerateResponse FinishedMessage(const engine::GenerationResult& result) {
  GenerateResponse response;
  GenerationFinished* finished = response.mutable_finished();
  finished->set_reason(ToProto(result.finish_reason));
  finished->set_matched_stop(result.matched_stop);
  finished->mutable_usage()->set_prompt_tokens(static_cast<uint64_t>(result.prompt_tokens));
  finished->mutable_usage()->set_completion_tokens(static_cast<uint64_t>(result.completion_tokens));
  SpeculationStats* speculation = finished->mutable_speculation();
  speculation->set_mode(ToProto(result.speculation_mode));
  speculation->set_proposed(static_cast<uint64_t>(result.draft_tokens_proposed));
  speculation->set_accepted(static_cast<uint64_t>(result.draft_tokens_accepted));
  speculation->set_verify_steps(static_cast<uint64_t>(result.verify_steps));
  finished->set_time_to_first_token_ms(result.time_to_first_token_ms);
  finished->set_total_ms(result.total_ms);
  return response;
}

engine::ChatMessage::Role ToEngine(Role role) {
  switch (role) {
    case ROLE_SYSTEM: return engine::ChatMessage::Role::kSystem;
    case ROLE_ASSISTANT: return engine::ChatMessage::Role::kAssistant;
    case ROLE_TOOL: return engine::ChatMessage::Role::kTool;
    default: return engine::ChatMessage::Role::kUser;
  }
}

}  // namespace

grpc::Status CheckSamplingParams(const SamplingParams& sampling, absl::string_view prefix) {
  if (!InRange(sampling.temperature(), 0.f, 10.f)) return InvalidField(prefix, "temperature", "must be between 0 and 10");
  if (!InRange(sampling.top_p(), 0.f, 1.f)) return InvalidField(prefix, "top_p", "must be between 0 and 1");
  if (!InRange(sampling.min_p(), 0.f, 1.f)) return InvalidField(prefix, "min_p", "must be between 0 and 1");
  if (!InRange(sampling.repetition_penalty(), 0.f, 10.f)) {
    return InvalidField(prefix, "repetition_penalty", "must be between 0 and 10");
  }
  if (!InRange(sampling.frequency_penalty(), -2.f, 2.f)) {
    return InvalidField(prefix, "frequency_penalty", "must be between -2 and 2");
  }
  if (!InRange(sampling.presence_penalty(), -2.f, 2.f)) {
    return InvalidField(prefix, "presence_penalty", "must be between -2 and 2");
  }
  return grpc::Status::OK;
}

engine::Engine* ModelServiceImpl::EmbeddingEngine(const std::string& requested, grpc::Status* status) const {
  if (embedding_engine_ != nullptr && (requested.empty() || requested == embedding_engine_->info().name)) {
    return embedding_engine_;
  }
  if (embedding_engine_ != nullptr && engine_ == nullptr) {
    *status = grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("model: \"", requested, "\" is not loaded (loaded: \"",
                                                                     embedding_engine_->info().name, "\")"));
    return nullptr;
  }
  *status = CheckModel(requested);
  return status->ok() ? engine_ : nullptr;
}

grpc::Status ModelServiceImpl::CheckModel(const std::string& requested) const {
  if (engine_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no model is loaded (start agentd with --model DIR)");
  }
  if (!requested.empty() && requested != engine_->info().name) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("model: \"", requested, "\" is not loaded (loaded: \"", engine_->info().name, "\")"));
  }
  return grpc::Status::OK;
}

std::optional<StreamSlots::Slot> ModelServiceImpl::TakeStreamSlot(const char* method, const std::string& tenant,
                                                                   grpc::Status* status) {
  absl::StatusOr<StreamSlots::Slot> slot = streams_.TryTake(tenant);
  if (!slot.ok()) {
    *status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           absl::StrCat(method, ": ", slot.status().message(), "; retry later"));
    return std::nullopt;
  }
  return std::move(*slot);
}

grpc::ServerWriteReactor<GenerateResponse>* ModelServiceImpl::Generate(grpc::CallbackServerContext* context,
                                                                       const GenerateRequest* request) {
  std::string tenant;
  if (auto* rejected = RejectInvalidStream<GenerateResponse>(context, env_, "ModelService.Generate", *request, &tenant)) {
    return rejected;
  }
  grpc::Status status = CheckGenerationCommon(request->sampling(), request->logprobs(), request->speculation());
  if (status.ok() && request->input_case() == GenerateRequest::INPUT_NOT_SET) {
    status = Invalid("prompt: one of prompt or prompt_ids is required");
  }
  if (status.ok()) status = CheckModel(request->model());
  if (status.ok()) status = CheckUnsupported(request->speculation(), request->response_format(), engine_->info());
  std::optional<StreamSlots::Slot> slot;
  if (status.ok()) slot = TakeStreamSlot("ModelService.Generate", tenant, &status);
  if (!status.ok()) {
    LogRefusedCall("ModelService.Generate", status);
    return new FinishedWriteReactor<GenerateResponse>(status);
  }
  engine::Engine* engine = engine_;
  GenerateRequest copy = *request;
  return new GenerationReactor([engine, copy, tenant](const GenerationReactor::Send& send,
                                              const std::atomic<bool>* cancelled) -> grpc::Status {
    engine::CompletionOptions options = ToCompletionOptions(copy.sampling(), copy.max_tokens(), copy.stop(),
                                                            copy.logprobs(), engine->info().context_length);
    for (uint32_t id : copy.stop_token_ids()) options.stop_token_ids.push_back(static_cast<int32_t>(id));
    options.cancelled = cancelled;
    options.speculation = ToSpeculation(copy.speculation(), engine->info());
    options.tenant = tenant;
    options.constraint = ToConstraint(copy.response_format());
    auto on_delta = [&](const engine::GenerationDelta& delta) {
      send(ToProto(delta, copy.include_token_ids(), engine->tokenizer()));
      return true;
    };
    absl::StatusOr<engine::GenerationResult> result;
    if (copy.input_case() == GenerateRequest::kPromptIds) {
      std::vector<int32_t> ids(copy.prompt_ids().ids().begin(), copy.prompt_ids().ids().end());
      if (ids.empty()) return Invalid("prompt_ids.ids: at least one token is required");
      result = engine->CompleteIds(std::move(ids), options, on_delta);
    } else {
      result = engine->Complete(copy.prompt(), options, on_delta);
    }
    if (!result.ok()) return GenerationError(result.status());
    send(FinishedMessage(*result));
    return grpc::Status::OK;
  }, std::move(*slot));
}

grpc::ServerWriteReactor<GenerateResponse>* ModelServiceImpl::Chat(grpc::CallbackServerContext* context,
                                                                   const ChatRequest* request) {
  std::string tenant;
  if (auto* rejected = RejectInvalidStream<GenerateResponse>(context, env_, "ModelService.Chat", *request, &tenant)) {
    return rejected;
  }
  grpc::Status status = CheckGenerationCommon(request->sampling(), request->logprobs(), request->speculation());
  for (int i = 0; status.ok() && i < request->messages_size(); ++i) {
    const ChatMessage& m = request->messages(i);
    if (m.role() != ROLE_ASSISTANT && m.tool_calls_size() > 0) {
      status = Invalid(absl::StrCat("messages[", i, "].tool_calls: only assistant messages make tool calls"));
    }
  }
  if (status.ok()) status = CheckModel(request->model());
  if (status.ok()) status = CheckUnsupported(request->speculation(), request->response_format(), engine_->info());
  if (status.ok() && engine_->chat_format() == nullptr) {
    status = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the loaded model's tokenizer has no chat format");
  }
  std::optional<StreamSlots::Slot> slot;
  if (status.ok()) slot = TakeStreamSlot("ModelService.Chat", tenant, &status);
  if (!status.ok()) {
    LogRefusedCall("ModelService.Chat", status);
    return new FinishedWriteReactor<GenerateResponse>(status);
  }
  engine::Engine* engine = engine_;
  ChatRequest copy = *request;
  return new GenerationReactor([engine, copy, tenant](const GenerationReactor::Send& send,
                                              const std::atomic<bool>* cancelled) -> grpc::Status {
    std::vector<engine::ChatMessage> messages;
    for (const ChatMessage& m : copy.messages()) {
      engine::ChatMessage message;
      message.role = ToEngine(m.role());
      message.content = m.content();
      message.tool_call_id = m.tool_call_id();
      for (const ToolCall& call : m.tool_calls()) {
        message.tool_calls.push_back({call.id(), call.name(), call.arguments_json().empty() ? "{}" : call.arguments_json()});
      }
      messages.push_back(std::move(message));
    }
    std::vector<engine::ToolSpec> tools;
    for (const ToolSpec& tool : copy.tools()) {
      tools.push_back({tool.name(), tool.description(), tool.parameters_json_schema()});
    }
    engine::CompletionOptions options = ToCompletionOptions(copy.sampling(), copy.max_tokens(), copy.stop(),
                                                            copy.logprobs(), engine->info().context_length);
    options.cancelled = cancelled;
    options.speculation = ToSpeculation(copy.speculation(), engine->info());
    options.tenant = tenant;
    options.constraint = ToConstraint(copy.response_format());
    if (copy.tool_choice() == TOOL_CHOICE_REQUIRED) {
      options.tool_choice = engine::CompletionOptions::ToolChoice::kRequired;
    } else if (copy.tool_choice() == TOOL_CHOICE_NONE) {
      options.tool_choice = engine::CompletionOptions::ToolChoice::kNone;
    }
    auto result = engine->Chat(messages, tools, options, [&](const engine::GenerationDelta& delta) {
      send(ToProto(delta, copy.include_token_ids(), engine->tokenizer()));
      return true;
    });
    if (!result.ok()) return GenerationError(result.status());
    GenerateResponse finished = FinishedMessage(result->generation);
    if (!result->reply.tool_calls.empty()) {
      finished.mutable_finished()->set_reason(FINISH_REASON_TOOL_CALLS);
      for (const engine::ToolCall& call : result->reply.tool_calls) {
        ToolCall* out = finished.mutable_finished()->add_tool_calls();
        out->set_id(call.id);
        out->set_name(call.name);
        out->set_arguments_json(call.arguments_json);
      }
    }
    send(std::move(finished));
    return grpc::Status::OK;
  }, std::move(*slot));
}

grpc::ServerUnaryReactor* ModelServiceImpl::Tokenize(grpc::CallbackServerContext* context,
                                                     const TokenizeRequest* request, TokenizeResponse* response) {
  return HandleSlowUnary(context, env_, "ModelService.Tokenize", *request,
                         [this, request, response](const std::string&) {
    grpc::Status status = CheckModel(request->model());
    if (!status.ok()) return status;
    const engine::Tokenizer& tokenizer = engine_->tokenizer();
    std::vector<int32_t> ids;
    if (request->add_special_tokens() && tokenizer.add_bos()) ids.push_back(*tokenizer.bos_id());
    std::vector<int32_t> text_ids = tokenizer.Encode(request->text());
    ids.insert(ids.end(), text_ids.begin(), text_ids.end());
    for (int32_t id : ids) {
      response->add_ids(static_cast<uint32_t>(id));
      response->add_tokens(engine::ToValidUtf8(tokenizer.TokenString(id)));
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Detokenize(grpc::CallbackServerContext* context,
                                                       const DetokenizeRequest* request, DetokenizeResponse* response) {
  return HandleSlowUnary(context, env_, "ModelService.Detokenize", *request,
                         [this, request, response](const std::string&) {
    grpc::Status status = CheckModel(request->model());
    if (!status.ok()) return status;
    const engine::Tokenizer& tokenizer = engine_->tokenizer();
    std::vector<int32_t> ids;
    for (int i = 0; i < request->ids_size(); ++i) {
      if (request->ids(i) >= static_cast<uint32_t>(tokenizer.vocab_size())) {
        return Invalid(absl::StrCat("ids[", i, "]: ", request->ids(i), " is outside the vocabulary (",
                                    tokenizer.vocab_size(), ")"));
      }
      ids.push_back(static_cast<int32_t>(request->ids(i)));
    }
    response->set_text(tokenizer.Decode(ids, request->skip_special_tokens()));
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::Embed(grpc::CallbackServerContext* context, const EmbedRequest* request,
                                                  EmbedResponse* response) {
  return HandleSlowUnary(context, env_, "ModelService.Embed", *request,
                         [this, request, response](const std::string& tenant) {
    grpc::Status status;
    engine::Engine* engine = EmbeddingEngine(request->model(), &status);
    if (engine == nullptr) return status;
    std::vector<std::string> texts(request->texts().begin(), request->texts().end());
    const engine::EmbedRole role =
        request->role() == EMBED_ROLE_QUERY ? engine::EmbedRole::kQuery : engine::EmbedRole::kDocument;
    auto vectors = engine->Embed(texts, {.role = role, .normalize = request->normalize(), .tenant = tenant});
    if (!vectors.ok()) return ToGrpcStatus(vectors.status());
    uint64_t tokens = 0;
    for (const std::string& text : texts) tokens += engine->tokenizer().Encode(text).size();
    for (const auto& v : *vectors) *response->add_embeddings()->mutable_values() = {v.begin(), v.end()};
    response->set_dimension(static_cast<uint32_t>(engine->info().hidden_size));
    response->set_model(engine->info().name);
    response->mutable_usage()->set_prompt_tokens(tokens);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* ModelServiceImpl::ModelInfo(grpc::CallbackServerContext* context,
                                                      const ModelInfoRequest* request, ModelInfoResponse* response) {
  return HandleUnary(context, env_, "ModelService.ModelInfo", *request, [&] {
    grpc::Status status = CheckModel(request->model());
    if (!status.ok()) return status;
    const engine::EngineInfo& info = engine_->info();
    response->set_name(info.name);
    response->set_architecture(info.architecture);
    response->set_parameters(info.parameters);
    response->set_active_parameters(info.active_parameters);
    response->set_vocab_size(static_cast<uint32_t>(info.vocab_size));
    response->set_context_length(static_cast<uint32_t>(info.context_length));
    response->set_hidden_size(static_cast<uint32_t>(info.hidden_size));
    response->set_num_layers(static_cast<uint32_t>(info.num_layers));
    response->set_num_experts(static_cast<uint32_t>(info.num_experts));
    response->set_experts_per_token(static_cast<uint32_t>(info.experts_per_token));
    response->set_weight_dtype(info.weight_dtype);
    response->set_device(info.device);
    response->set_has_mtp(info.has_mtp);
    const engine::Engine* embedder = embedding_engine_ != nullptr ? embedding_engine_ : engine_;
    response->set_embedding_dimension(static_cast<uint32_t>(embedder->info().hidden_size));
    response->set_embedding_model(embedder->info().name);
    response->set_embedding_pooling(embedder->info().embedding_pooling);
    response->add_speculation_modes(SPECULATION_MODE_NONE);
    response->add_speculation_modes(SPECULATION_MODE_NGRAM);
    if (info.has_mtp) response->add_speculation_modes(SPECULATION_MODE_MTP);
    if (!info.draft_model.empty()) response->add_speculation_modes(SPECULATION_MODE_DRAFT_MODEL);
    response->add_speculation_modes(SPECULATION_MODE_AUTO);
    // The scheduler's figures are everyone's traffic: with API tokens configured only an admin
    // token sees them (another tenant's load and cache hits are not a tenant's business).
    if (!RequireAdmin(context, env_, "ModelService.ModelInfo").ok()) return grpc::Status::OK;
    const engine::SchedulerStats stats = engine_->scheduler_stats();
    ServingStats* serving = response->mutable_serving();
    serving->set_requests(static_cast<uint64_t>(stats.requests));
    serving->set_iterations(static_cast<uint64_t>(stats.iterations));
    serving->set_mean_batch_sequences(stats.iterations > 0 ? static_cast<double>(stats.batched_sequences) /
                                                                 static_cast<double>(stats.iterations)
                                                           : 0.0);
    serving->set_max_batch_sequences(static_cast<uint64_t>(stats.max_batch_sequences));
    serving->set_prefill_tokens(static_cast<uint64_t>(stats.prefill_tokens));
    serving->set_prefix_hit_tokens(static_cast<uint64_t>(stats.prefix_hit_tokens));
    serving->set_kv_blocks_total(static_cast<uint64_t>(stats.kv_blocks_total));
    serving->set_kv_blocks_used(static_cast<uint64_t>(stats.kv_blocks_used));
    serving->set_kv_blocks_cached(static_cast<uint64_t>(stats.kv_blocks_cached));
    serving->set_evicted_blocks(static_cast<uint64_t>(stats.evicted_blocks));
    serving->set_preemptions(static_cast<uint64_t>(stats.preemptions));
    serving->set_rejected_queue_full(static_cast<uint64_t>(stats.rejected_queue_full));
    serving->set_running(static_cast<uint32_t>(stats.running));
    serving->set_waiting(static_cast<uint32_t>(stats.waiting));
    serving->set_preempted_waiting(static_cast<uint32_t>(stats.preempted_waiting));
    return grpc::Status::OK;
  });
}

}  // namespace agentd::services
