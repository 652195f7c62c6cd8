// libFuzzer target: the bytes as the body of a request to the OpenAI-compatible HTTP API, read
// as http_frontend.cc reads one (refused when nested too deeply, then parsed by nlohmann without
// exceptions) and then parsed as each endpoint's request: ParseChatCompletion,
// ParseCompletion and ParseEmbeddingInput, with the shipped model's EngineInfo. An accepted
// chat call then goes where the server sends it next: its response_format to the decoding
// constraint (TokenConstraint::Create on the shipped tokenizer, as HttpFrontend's Begin does),
// its tools and messages rendered by the chat formats, each tool's parameters compiled as
// Engine::CompleteToolCall does and its names as the constrained tool-name choice.
//
// Oracles beyond "no crash, no leak, no UB, no hang":
//   - an accepted call's options lie inside the bounds the parser enforces (max_tokens within
//     the context, temperature in [0, 2], top_p in (0, 1], penalties in [-2, 2], at most 16 stop
//     strings of 1 to 256 bytes, top_logprobs in [0, 20] and only with logprobs, the prompt or
//     messages no larger than max_prompt_bytes) and carry the values the body asked for;
//   - tools have names of 1 to 128 bytes, a tool_choice "required" has tools, a response_format
//     comes with tools only under tool_choice "none"; their schemas are JSON objects, never
//     nested too deeply (the body was not), and compiling them may fail but with a message;
//   - the tool-name choice always compiles; the DeepSeek-V3 and Qwen3 formats always render
//     (literal ranges sorted, disjoint, non-empty, inside the text);
//   - every refusal is a status that is not OK, INVALID_ARGUMENT (NOT_FOUND for a model not
//     served), whose message starts with the field it names ("messages[1].content: ..."), which
//     ToApiError returns as `param`, and which is a field of the body: present in it (a list's
//     index inside the list) or a field every request needs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/chat_format.h"
#include "engine/constraint.h"
#include "engine/engine.h"
#include "engine/json_nesting.h"
#include "engine/shipped_models.h"
#include "engine/tokenizer.h"
#include "http/openai_api.h"
#include "nlohmann/json.hpp"

namespace {

using Json = nlohmann::json;

#define CHECK_OR_TRAP(condition)                                                     \
  do {                                                                               \
    if (!(condition)) {                                                              \
      std::fprintf(stderr, "fuzz_openai_request: oracle failed: %s (line %d)\n", #condition, __LINE__); \
      __builtin_trap();                                                              \
    }                                                                                \
  } while (0)

// What the daemon serves: the shipped model's tokenizer, chat formats and EngineInfo (as
// Engine::Create fills it from agentd-default's config.json: 1,024 positions, 16,000 tokens).
struct Served {
  std::unique_ptr<engine::Tokenizer> tokenizer;
  std::vector<std::unique_ptr<engine::ChatFormat>> formats;  // DeepSeek-V3 (shipped), Qwen3, DeepSeek-V2
  engine::EngineInfo info;
};

const Served& TheServed() {
  static const Served* served = [] {
    auto* s = new Served;
    absl::StatusOr<std::string> dir = engine::FindShippedModel(engine::kDefaultModel);
    if (!dir.ok()) {
      std::fprintf(stderr, "fuzz_openai_request: %s\n", std::string(dir.status().message()).c_str());
      std::abort();
    }
    auto tokenizer = engine::Tokenizer::Load(*dir);
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "fuzz_openai_request: %s\n", std::string(tokenizer.status().message()).c_str());
      std::abort();
    }
    s->tokenizer = std::move(*tokenizer);
    auto shipped = engine::ChatFormat::ForTokenizer(*s->tokenizer);
    if (!shipped.ok() || (*shipped)->kind() != engine::ChatFormat::Kind::kDeepseekV3) std::abort();
    s->formats.push_back(std::move(*shipped));
    s->formats.push_back(engine::ChatFormat::Create(engine::ChatFormat::Kind::kQwen3));
    s->formats.push_back(engine::ChatFormat::Create(engine::ChatFormat::Kind::kDeepseekV2));
    engine::EngineInfo& info = s->info;
    info.name = std::string(engine::kDefaultModel);
    info.architecture = "deepseek_v3";
    info.vocab_size = 16000;
    info.context_length = 1024;
    info.hidden_size = 256;
    info.num_layers = 4;
    info.num_experts = 8;
    info.experts_per_token = 2;
    info.weight_dtype = "bf16";
    info.device = "cpu";
    info.has_mtp = true;
    size_t longest_token = 4;  // as Engine::Create measures it
    for (int32_t id = 0; id < s->tokenizer->vocab_size(); ++id) {
      longest_token = std::max(longest_token, s->tokenizer->TokenBytes(id).size());
    }
    info.max_prompt_bytes = static_cast<int64_t>(info.context_length) * static_cast<int64_t>(longest_token) * 4;
    return s;
  }();
  return *served;
}

// The field a refusal names: what precedes its first ": ".
std::string NamedField(const absl::Status& status) {
  const std::string message(status.message());
  const size_t colon = message.find(": ");
  return colon == std::string::npos ? std::string() : message.substr(0, colon);
}

// "messages[1].tool_calls[0].function.name" → {"messages", "[1]", "tool_calls", "[0]", "function", "name"}.
std::vector<std::string> PathParts(const std::string& path) {
  std::vector<std::string> parts;
  std::string part;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.' || c == '[') {
      if (!part.empty()) parts.push_back(part);
      part.clear();
      if (c == '[') part = "[";
    } else if (c == ']') {
      parts.push_back(part + "]");
      part.clear();
    } else {
      part += c;
    }
  }
  if (!part.empty()) parts.push_back(part);
  return parts;
}

// A refusal by one of the parsers: not OK, INVALID_ARGUMENT or (a model not served)
// NOT_FOUND, naming a field of this body.
void CheckRefusal(const absl::Status& status, const Json& body, const std::vector<std::string>& required) {
  CHECK_OR_TRAP(!status.ok());
  CHECK_OR_TRAP(!status.message().empty());
  CHECK_OR_TRAP(status.code() == absl::StatusCode::kInvalidArgument || status.code() == absl::StatusCode::kNotFound);
  const std::string field = NamedField(status);
  CHECK_OR_TRAP(!field.empty());
  // What a client is told: the same field as `param` (a 400) or a 404.
  const agentd::http::ApiError error = agentd::http::ToApiError(status);
  CHECK_OR_TRAP(!error.type.empty());
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    CHECK_OR_TRAP(error.http_status == 400);
    CHECK_OR_TRAP(error.param == field);
  } else {
    CHECK_OR_TRAP(error.http_status == 404);
    CHECK_OR_TRAP(field == "model");
  }
  if (field == "body") {
    CHECK_OR_TRAP(!body.is_object());
    return;
  }
  // The named field is the body's: its first part present in the body (or one every request
  // needs, refused for its absence), each list index inside its list as far as the path
  // resolves.
  const std::vector<std::string> parts = PathParts(field);
  CHECK_OR_TRAP(!parts.empty() && parts[0][0] != '[');
  const bool present = body.is_object() && body.contains(parts[0]);
  bool needed = false;
  for (const std::string& r : required) needed = needed || parts[0] == r;
  CHECK_OR_TRAP(present || needed);
  if (!present) return;
  const Json* node = &body[parts[0]];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p[0] == '[') {
      if (!node->is_array()) return;
      const size_t index = std::strtoull(p.c_str() + 1, nullptr, 10);
      CHECK_OR_TRAP(index < node->size());
      node = &(*node)[index];
    } else {
      if (!node->is_object() || !node->contains(p)) return;
      node = &(*node)[p];
    }
  }
}

// The options both completions share, inside the parser's bounds and as the body asked.
void CheckCommon(const engine::CompletionOptions& options, const Json& body, const engine::EngineInfo& info) {
  const engine::SamplingParams& s = options.sampling;
  CHECK_OR_TRAP(options.max_tokens >= 1 && options.max_tokens <= info.context_length);
  CHECK_OR_TRAP(std::isfinite(s.temperature) && s.temperature >= 0 && s.temperature <= 2);
  CHECK_OR_TRAP(std::isfinite(s.top_p) && s.top_p > 0 && s.top_p <= 1);
  CHECK_OR_TRAP(s.frequency_penalty >= -2 && s.frequency_penalty <= 2);
  CHECK_OR_TRAP(s.presence_penalty >= -2 && s.presence_penalty <= 2);
  CHECK_OR_TRAP(options.stop_strings.size() <= 16);
  for (const std::string& stop : options.stop_strings) CHECK_OR_TRAP(!stop.empty() && stop.size() <= 256);
  CHECK_OR_TRAP(options.speculation.mode == engine::SpeculationConfig::Mode::kNgram);
  if (body.contains("model")) CHECK_OR_TRAP(body["model"] == info.name);
  if (body.contains("n") && !body["n"].is_null()) CHECK_OR_TRAP(body["n"] == 1);
  if (body.contains("temperature") && !body["temperature"].is_null()) {
    CHECK_OR_TRAP(s.temperature == static_cast<float>(body["temperature"].get<double>()));
  }
  if (body.contains("top_p") && !body["top_p"].is_null()) CHECK_OR_TRAP(s.top_p == static_cast<float>(body["top_p"].get<double>()));
  const char* length = body.contains("max_completion_tokens") && !body["max_completion_tokens"].is_null()
                           ? "max_completion_tokens" : "max_tokens";
  if (body.contains(length) && !body[length].is_null()) {
    CHECK_OR_TRAP(options.max_tokens == std::min<int64_t>(body[length].get<int64_t>(), info.context_length));
  } else {
    CHECK_OR_TRAP(options.max_tokens == info.context_length);
  }
  if (body.contains("seed") && !body["seed"].is_null()) {
    const Json& seed = body["seed"];
    CHECK_OR_TRAP(options.sampling.seed ==
                  (seed.is_number_unsigned() ? seed.get<uint64_t>() : static_cast<uint64_t>(seed.get<int64_t>())));
  }
  if (body.contains("stop") && body["stop"].is_string()) CHECK_OR_TRAP(options.stop_strings.size() == 1);
  if (body.contains("stop") && body["stop"].is_array()) CHECK_OR_TRAP(options.stop_strings.size() == body["stop"].size());
}

// A JSON Schema as the request gave it: a JSON object's text, no deeper than the body allowed.
void CheckSchemaText(const std::string& schema) {
  CHECK_OR_TRAP(!engine::JsonNestedTooDeeply(schema));
  const Json parsed = Json::parse(schema, nullptr, false);
  CHECK_OR_TRAP(!parsed.is_discarded() && parsed.is_object());
}

// A constraint compiled as the server compiles it: either it compiles or it says why.
void CompileConstraint(const engine::ResponseConstraint& spec, const engine::Tokenizer& tokenizer, bool must_compile) {
  auto constraint = engine::TokenConstraint::Create(spec, tokenizer);
  if (constraint.ok()) {
    CHECK_OR_TRAP(*constraint != nullptr);
    CHECK_OR_TRAP(!(*constraint)->IsComplete() || spec.kind == engine::ResponseConstraint::Kind::kNone);
    return;
  }
  CHECK_OR_TRAP(!must_compile);
  CHECK_OR_TRAP(!constraint.status().message().empty());
  CHECK_OR_TRAP(constraint.status().code() == absl::StatusCode::kInvalidArgument);
  // The frontend answers "response_format." + this: a field of the schema, named.
  const agentd::http::ApiError error =
      agentd::http::ToApiError(absl::InvalidArgumentError("response_format." + std::string(constraint.status().message())));
  CHECK_OR_TRAP(error.http_status == 400);
}

void CheckRendered(const engine::RenderedPrompt& prompt) {
  size_t last_end = 0;
  for (const engine::TextRange& range : prompt.literal) {
    CHECK_OR_TRAP(range.begin < range.end && range.end <= prompt.text.size());
    CHECK_OR_TRAP(range.begin >= last_end);
    last_end = range.end;
  }
}

void Chat(const Json& body, const Served& served) {
  const engine::EngineInfo& info = served.info;
  absl::StatusOr<agentd::http::ChatCall> call = agentd::http::ParseChatCompletion(body, info);
  if (!call.ok()) return CheckRefusal(call.status(), body, {"messages"});
  CheckCommon(call->options, body, info);
  CHECK_OR_TRAP(!call->messages.empty() && call->messages.size() <= 1024);
  int64_t message_bytes = 0;
  for (const engine::ChatMessage& m : call->messages) message_bytes += static_cast<int64_t>(m.content.size());
  CHECK_OR_TRAP(message_bytes <= info.max_prompt_bytes);
  CHECK_OR_TRAP(call->top_logprobs >= 0 && call->top_logprobs <= 20);
  CHECK_OR_TRAP(call->top_logprobs == 0 || call->logprobs);
  CHECK_OR_TRAP(call->options.logprobs == (call->logprobs ? std::max(call->top_logprobs, 1) : 0));
  using ToolChoice = engine::CompletionOptions::ToolChoice;
  using Kind = engine::ResponseConstraint::Kind;
  CHECK_OR_TRAP(call->tools.size() <= 128);
  CHECK_OR_TRAP(call->options.tool_choice != ToolChoice::kRequired || !call->tools.empty());
  const Kind kind = call->options.constraint.kind;
  CHECK_OR_TRAP(kind == Kind::kNone || kind == Kind::kJsonValue || kind == Kind::kJsonSchema);
  CHECK_OR_TRAP(call->tools.empty() || kind == Kind::kNone || call->options.tool_choice == ToolChoice::kNone);
  if (kind == Kind::kJsonSchema) CheckSchemaText(call->options.constraint.json_schema);
  // The response format, compiled as HttpFrontend's Begin does before answering 200.
  if (kind != Kind::kNone) CompileConstraint(call->options.constraint, *served.tokenizer, /*must_compile=*/kind == Kind::kJsonValue);
  engine::ResponseConstraint names{.kind = Kind::kLiteralChoice};
  for (const engine::ToolSpec& tool : call->tools) {
    CHECK_OR_TRAP(!tool.name.empty() && tool.name.size() <= 128);
    if (!tool.parameters_json_schema.empty()) CheckSchemaText(tool.parameters_json_schema);
    // Engine::CompleteToolCall: the arguments follow the tool's schema where it compiles.
    engine::ResponseConstraint arguments{
        .kind = Kind::kJsonSchema,
        .json_schema = tool.parameters_json_schema.empty() ? R"({"type": "object"})" : tool.parameters_json_schema};
    CompileConstraint(arguments, *served.tokenizer, /*must_compile=*/false);
    names.choices.push_back(tool.name);
  }
  if (!call->tools.empty()) CompileConstraint(names, *served.tokenizer, /*must_compile=*/true);
  // Engine::Chat renders the conversation in the model's format; the shipped one (DeepSeek-V3)
  // and Qwen3 render anything the parser accepts, DeepSeek-V2 refuses tools by name.
  for (const auto& format : served.formats) {
    absl::StatusOr<engine::RenderedPrompt> prompt = format->RenderPrompt(call->messages, call->tools, true);
    if (prompt.ok()) {
      CheckRendered(*prompt);
    } else {
      CHECK_OR_TRAP(format->kind() == engine::ChatFormat::Kind::kDeepseekV2);
      CHECK_OR_TRAP(prompt.status().code() == absl::StatusCode::kInvalidArgument && !NamedField(prompt.status()).empty());
    }
  }
}

void Completion(const Json& body, const Served& served) {
  absl::StatusOr<agentd::http::CompletionCall> call = agentd::http::ParseCompletion(body, served.info);
  if (!call.ok()) return CheckRefusal(call.status(), body, {"prompt"});
  CheckCommon(call->options, body, served.info);
  CHECK_OR_TRAP(!call->prompt.empty() && static_cast<int64_t>(call->prompt.size()) <= served.info.max_prompt_bytes);
  CHECK_OR_TRAP(call->options.logprobs >= 0 && call->options.logprobs <= 5);
  CHECK_OR_TRAP(call->options.constraint.kind == engine::ResponseConstraint::Kind::kNone);
}

void Embeddings(const Json& body) {
  absl::StatusOr<std::vector<std::string>> texts = agentd::http::ParseEmbeddingInput(body);
  if (!texts.ok()) return CheckRefusal(texts.status(), body, {"input"});
  CHECK_OR_TRAP(!texts->empty() && texts->size() <= 2048);
  for (const std::string& text : *texts) CHECK_OR_TRAP(!text.empty());
  const Json& input = body["input"];
  CHECK_OR_TRAP(input.is_string() ? texts->size() == 1 : texts->size() == input.size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)TheServed();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Served& served = TheServed();
  const std::string text(reinterpret_cast<const char*>(data), size);
  // HttpFrontend's Body(): refused when nested too deeply, then parsed without exceptions.
  if (engine::JsonNestedTooDeeply(text)) return 0;
  const Json body = Json::parse(text, nullptr, false);
  if (body.is_discarded()) return 0;
  Chat(body, served);
  Completion(body, served);
  Embeddings(body);
  return 0;
}
