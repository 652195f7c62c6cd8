#include "http/openai_api.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "engine/json_nesting.h"
#include "engine/tokenizer.h"

namespace agentd::http {
namespace {

using Json = nlohmann::json;

absl::Status Invalid(const std::string& field, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

// A number field in [lo, hi], or `fallback` when absent or null.
absl::StatusOr<double> Number(const Json& body, const char* key, double lo, double hi, double fallback) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < lo || it->get<double>() > hi) {
    return Invalid(key, absl::StrCat("must be a number between ", lo, " and ", hi));
  }
  return it->get<double>();
}

// An integer field in [lo, hi], or `fallback`.
absl::StatusOr<int64_t> Integer(const Json& body, const char* key, int64_t lo, int64_t hi, int64_t fallback) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(hi)) ||
      it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
    return Invalid(key, absl::StrCat("must be an integer between ", lo, " and ", hi));
  }
  return it->get<int64_t>();
}

// A boolean field, or `fallback`; errors name `field` (the key's full path when `body` is an
// object inside the request, as "stream_options.include_usage" is).
absl::StatusOr<bool> Boolean(const Json& body, const char* key, bool fallback, const char* field = nullptr) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return Invalid(field != nullptr ? field : key, "must be true or false");
  return it->get<bool>();
}

#define AGENTD_ASSIGN_OR_RETURN(lhs, expr) \
  auto lhs##_or = (expr);                  \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = *lhs##_or

// What chat and text completions share: the model's name, sampling, length, stop strings,
// streaming and penalties.
absl::Status ParseCommon(const Json& body, const engine::EngineInfo& info, engine::CompletionOptions* options,
                         bool* stream, bool* include_usage) {
  if (body.contains("model") && !body["model"].is_string()) return Invalid("model", "must be a string");
  if (body.contains("model") && body["model"].get<std::string>() != info.name) {
    return absl::NotFoundError(
        absl::StrCat("model: '", body["model"].get<std::string>(), "' is not served here (GET /v1/models lists '", info.name, "')"));
  }
  AGENTD_ASSIGN_OR_RETURN(n, Integer(body, "n", 1, 1, 1));
  (void)n;
  AGENTD_ASSIGN_OR_RETURN(temperature, Number(body, "temperature", 0, 2, 1));
  AGENTD_ASSIGN_OR_RETURN(top_p, Number(body, "top_p", 0, 1, 1));
  if (top_p <= 0) return Invalid("top_p", "must be greater than 0");
  AGENTD_ASSIGN_OR_RETURN(frequency, Number(body, "frequency_penalty", -2, 2, 0));
  AGENTD_ASSIGN_OR_RETURN(presence, Number(body, "presence_penalty", -2, 2, 0));
  // Drafts by prompt lookup, as gRPC's AUTO does: rejection sampling keeps every temperature's
  // distribution, and greedy output token for token.
  options->speculation.mode = engine::SpeculationConfig::Mode::kNgram;
  options->sampling.temperature = static_cast<float>(temperature);
  options->sampling.top_p = static_cast<float>(top_p);
  options->sampling.frequency_penalty = static_cast<float>(frequency);
  options->sampling.presence_penalty = static_cast<float>(presence);
  const auto seed = body.find("seed");
  if (seed != body.end() && !seed->is_null()) {
    if (!seed->is_number_integer()) return Invalid("seed", "must be an integer");
    options->sampling.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : static_cast<uint64_t>(seed->get<int64_t>());
  } else {
    options->sampling.seed = std::random_device{}();
  }
  // max_completion_tokens is the newer name; either may be given.
  const char* length_key =
      body.contains("max_completion_tokens") && !body["max_completion_tokens"].is_null() ? "max_completion_tokens" : "max_tokens";
  AGENTD_ASSIGN_OR_RETURN(max_tokens, Integer(body, length_key, 1, 1 << 30, info.context_length));
  options->max_tokens = static_cast<int>(std::min<int64_t>(max_tokens, info.context_length));
  const auto stop = body.find("stop");
  if (stop != body.end() && !stop->is_null()) {
    if (stop->is_string()) {
      options->stop_strings.push_back(stop->get<std::string>());
    } else if (stop->is_array() && stop->size() <= 16) {
      for (const Json& s : *stop) {
        if (!s.is_string() || s.get<std::string>().empty() || s.get<std::string>().size() > 256) {
          return Invalid("stop", "must be a string or a list of up to 16 non-empty strings of at most 256 bytes");
        }
        options->stop_strings.push_back(s.get<std::string>());
      }
    } else {
      return Invalid("stop", "must be a string or a list of up to 16 non-empty strings of at most 256 bytes");
    }
    for (const std::string& s : options->stop_strings) {
      if (s.empty() || s.size() > 256) return Invalid("stop", "each stop string must have 1 to 256 bytes");
    }
  }
  AGENTD_ASSIGN_OR_RETURN(streaming, Boolean(body, "stream", false));
  *stream = streaming;
  const auto stream_options = body.find("stream_options");
  if (stream_options != body.end() && !stream_options->is_null()) {
    if (!stream_options->is_object()) return Invalid("stream_options", "must be an object");
    AGENTD_ASSIGN_OR_RETURN(usage, Boolean(*stream_options, "include_usage", false, "stream_options.include_usage"));
    *include_usage = usage;
  }
  if (body.contains("user") && !body["user"].is_string()) return Invalid("user", "must be a string");
  return absl::OkStatus();
}

// A message's content: a string, or a list of {"type": "text", "text": ...} parts joined.
absl::StatusOr<std::string> Content(const Json& message, const std::string& field, bool may_be_null) {
  const auto it = message.find("content");
  if (it == message.end() || it->is_null()) {
    if (may_be_null) return std::string();
    return Invalid(field + ".content", "is required");
  }
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) return Invalid(field + ".content", "must be a string or a list of text parts");
  std::string text;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& part = (*it)[i];
    const std::string part_field = absl::StrCat(field, ".content[", i, "]");
    if (!part.is_object() || !part.contains("type") || part["type"] != "text") {
      return Invalid(part_field, "only parts of type \"text\" are supported");
    }
    if (!part.contains("text") || !part["text"].is_string()) return Invalid(part_field + ".text", "must be a string");
    text += part["text"].get<std::string>();
  }
  return text;
}

absl::Status ParseMessages(const Json& body, std::vector<engine::ChatMessage>* messages) {
  const auto it = body.find("messages");
  if (it == body.end() || !it->is_array() || it->empty()) return Invalid("messages", "must be a non-empty list of messages");
  if (it->size() > 1024) return Invalid("messages", "at most 1024 messages");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& m = (*it)[i];
    const std::string field = absl::StrCat("messages[", i, "]");
    if (!m.is_object()) return Invalid(field, "must be an object");
    if (!m.contains("role") || !m["role"].is_string()) return Invalid(field + ".role", "is required");
    const std::string role = m["role"].get<std::string>();
    engine::ChatMessage message;
    if (role == "system" || role == "developer") {
      message.role = engine::ChatMessage::Role::kSystem;
    } else if (role == "user") {
      message.role = engine::ChatMessage::Role::kUser;
    } else if (role == "assistant") {
      message.role = engine::ChatMessage::Role::kAssistant;
    } else if (role == "tool") {
      message.role = engine::ChatMessage::Role::kTool;
      if (!m.contains("tool_call_id") || !m["tool_call_id"].is_string()) return Invalid(field + ".tool_call_id", "is required");
      message.tool_call_id = m["tool_call_id"].get<std::string>();
    } else {
      return Invalid(field + ".role", "must be system, developer, user, assistant or tool");
    }
    const bool has_calls = role == "assistant" && m.contains("tool_calls") && !m["tool_calls"].is_null();
    AGENTD_ASSIGN_OR_RETURN(content, Content(m, field, has_calls));
    message.content = std::move(content);
    if (has_calls) {
      const Json& calls = m["tool_calls"];
      if (!calls.is_array()) return Invalid(field + ".tool_calls", "must be a list");
      for (size_t c = 0; c < calls.size(); ++c) {
        const std::string call_field = absl::StrCat(field, ".tool_calls[", c, "]");
        const Json& call = calls[c];
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) {
          return Invalid(call_field + ".function", "is required");
        }
        const Json& function = call["function"];
        if (!function.contains("name") || !function["name"].is_string()) return Invalid(call_field + ".function.name", "is required");
        std::string arguments = "{}";
        if (function.contains("arguments")) {
          if (!function["arguments"].is_string()) return Invalid(call_field + ".function.arguments", "must be a string of JSON");
          arguments = function["arguments"].get<std::string>();
        }
        std::string id = call.contains("id") && call["id"].is_string() ? call["id"].get<std::string>() : absl::StrCat("call_", c);
        message.tool_calls.push_back({std::move(id), function["name"].get<std::string>(), std::move(arguments)});
      }
    }
    messages->push_back(std::move(message));
  }
  return absl::OkStatus();
}

absl::Status ParseTools(const Json& body, ChatCall* call) {
  const auto tools = body.find("tools");
  if (tools != body.end() && !tools->is_null()) {
    if (!tools->is_array() || tools->size() > 128) return Invalid("tools", "must be a list of up to 128 tools");
    for (size_t i = 0; i < tools->size(); ++i) {
      const Json& tool = (*tools)[i];
      const std::string field = absl::StrCat("tools[", i, "]");
      if (!tool.is_object() || !tool.contains("type") || tool["type"] != "function" || !tool.contains("function") ||
          !tool["function"].is_object()) {
        return Invalid(field, "must be {\"type\": \"function\", \"function\": {...}}");
      }
      const Json& function = tool["function"];
      if (!function.contains("name") || !function["name"].is_string() || function["name"].get<std::string>().empty() ||
          function["name"].get<std::string>().size() > 128) {
        return Invalid(field + ".function.name", "must be a name of 1 to 128 bytes");
      }
      engine::ToolSpec spec;
      spec.name = function["name"].get<std::string>();
      if (function.contains("description")) {
        if (!function["description"].is_string()) return Invalid(field + ".function.description", "must be a string");
        spec.description = function["description"].get<std::string>();
      }
      if (function.contains("parameters") && !function["parameters"].is_null()) {
        if (!function["parameters"].is_object()) return Invalid(field + ".function.parameters", "must be a JSON Schema object");
        spec.parameters_json_schema = function["parameters"].dump(-1, ' ', false, Json::error_handler_t::replace);
      }
      call->tools.push_back(std::move(spec));
    }
  }
  const auto choice = body.find("tool_choice");
  if (choice == body.end() || choice->is_null()) return absl::OkStatus();
  using ToolChoice = engine::CompletionOptions::ToolChoice;
  if (choice->is_string()) {
    const std::string value = choice->get<std::string>();
    if (value == "none") call->options.tool_choice = ToolChoice::kNone;
    else if (value == "auto") call->options.tool_choice = ToolChoice::kAuto;
    else if (value == "required") call->options.tool_choice = ToolChoice::kRequired;
    else return Invalid("tool_choice", "must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
  } else if (choice->is_object() && choice->contains("function") && (*choice)["function"].is_object() &&
             (*choice)["function"].contains("name") && (*choice)["function"]["name"].is_string()) {
    // One named tool: the only one the model may call, and it must.
    const std::string name = (*choice)["function"]["name"].get<std::string>();
    std::vector<engine::ToolSpec> chosen;
    for (const engine::ToolSpec& tool : call->tools) {
      if (tool.name == name) chosen.push_back(tool);
    }
    if (chosen.empty()) return Invalid("tool_choice.function.name", absl::StrCat("'", name, "' is not among tools"));
    call->tools = std::move(chosen);
    call->options.tool_choice = ToolChoice::kRequired;
  } else {
    return Invalid("tool_choice", "must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
  }
  if (call->options.tool_choice == ToolChoice::kRequired && call->tools.empty()) {
    return Invalid("tool_choice", "required needs tools");
  }
  return absl::OkStatus();
}

absl::Status ParseResponseFormat(const Json& body, engine::ResponseConstraint* constraint) {
  const auto format = body.find("response_format");
  if (format == body.end() || format->is_null()) return absl::OkStatus();
  if (!format->is_object() || !format->contains("type") || !(*format)["type"].is_string()) {
    return Invalid("response_format.type", "must be text, json_object or json_schema");
  }
  const std::string type = (*format)["type"].get<std::string>();
  if (type == "text") return absl::OkStatus();
  if (type == "json_object") {
    constraint->kind = engine::ResponseConstraint::Kind::kJsonValue;
    return absl::OkStatus();
  }
  if (type != "json_schema") return Invalid("response_format.type", "must be text, json_object or json_schema");
  const auto spec = format->find("json_schema");
  if (spec == format->end() || !spec->is_object() || !spec->contains("schema") || !(*spec)["schema"].is_object()) {
    return Invalid("response_format.json_schema.schema", "must be a JSON Schema object");
  }
  constraint->kind = engine::ResponseConstraint::Kind::kJsonSchema;
  constraint->json_schema = (*spec)["schema"].dump(-1, ' ', false, Json::error_handler_t::replace);
  return absl::OkStatus();
}

}  // namespace

ApiError ToApiError(const absl::Status& status) {
  ApiError error;
  error.message = std::string(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: {
      error.http_status = 400;
      error.type = "invalid_request_error";
      // "messages[1].content: must be ..." names its field; a sentence does not.
      const size_t colon = error.message.find(": ");
      if (colon != std::string::npos && error.message.find(' ') >= colon) error.param = error.message.substr(0, colon);
      break;
    }
    case absl::StatusCode::kUnauthenticated: error.http_status = 401; error.type = "authentication_error"; break;
    case absl::StatusCode::kPermissionDenied: error.http_status = 403; error.type = "permission_error"; break;
    case absl::StatusCode::kNotFound: error.http_status = 404; error.type = "not_found_error"; break;
    case absl::StatusCode::kResourceExhausted: error.http_status = 429; error.type = "rate_limit_error"; break;
    case absl::StatusCode::kUnavailable: error.http_status = 503; error.type = "service_unavailable"; break;
    case absl::StatusCode::kDeadlineExceeded: error.http_status = 504; error.type = "timeout"; break;
    default: error.http_status = 500; error.type = "server_error"; break;
  }
  return error;
}

Json ErrorBody(const ApiError& error) {
  return Json{{"error",
               {{"message", error.message},
                {"type", error.type},
                {"param", error.param.empty() ? Json(nullptr) : Json(error.param)},
                {"code", nullptr}}}};
}

// A text longer than the model's context could hold (EngineInfo::max_prompt_bytes: the context
// at the vocabulary's longest token, four times over) is refused before it is tokenized, naming
// the field — 30 MB of prompt took 4-10 s of a thread and 0.7 GB to be told it was too long,
// eight at once 6.9 GB. (The engine refuses it too, without the field's name.)
absl::Status FitsTheContext(const std::string& field, uint64_t bytes, const engine::EngineInfo& info) {
  if (static_cast<int64_t>(bytes) <= info.max_prompt_bytes) return absl::OkStatus();
  return Invalid(field, absl::StrCat("is ", bytes, " bytes: more than the model's context of ", info.context_length,
                                     " tokens can hold"));
}

absl::StatusOr<ChatCall> ParseChatCompletion(const Json& body, const engine::EngineInfo& info) {
  if (!body.is_object()) return Invalid("body", "must be a JSON object");
  ChatCall call;
  absl::Status status = ParseCommon(body, info, &call.options, &call.stream, &call.include_usage);
  if (!status.ok()) return status;
  if (status = ParseMessages(body, &call.messages); !status.ok()) return status;
  uint64_t message_bytes = 0;
  for (const engine::ChatMessage& m : call.messages) message_bytes += m.content.size();
  if (status = FitsTheContext("messages", message_bytes, info); !status.ok()) return status;
  if (status = ParseTools(body, &call); !status.ok()) return status;
  if (status = ParseResponseFormat(body, &call.options.constraint); !status.ok()) return status;
  if (!call.tools.empty() && call.options.constraint.kind != engine::ResponseConstraint::Kind::kNone &&
      call.options.tool_choice != engine::CompletionOptions::ToolChoice::kNone) {
    return Invalid("response_format", "cannot be combined with tools unless tool_choice is none");
  }
  AGENTD_ASSIGN_OR_RETURN(logprobs, Boolean(body, "logprobs", false));
  AGENTD_ASSIGN_OR_RETURN(top_logprobs, Integer(body, "top_logprobs", 0, 20, 0));
  if (top_logprobs > 0 && !logprobs) return Invalid("top_logprobs", "needs logprobs: true");
  call.logprobs = logprobs;
  call.top_logprobs = static_cast<int>(top_logprobs);
  // The engine reports the chosen token's log-probability with at least one alternative asked.
  call.options.logprobs = logprobs ? static_cast<int>(std::max<int64_t>(top_logprobs, 1)) : 0;
  return call;
}

absl::StatusOr<CompletionCall> ParseCompletion(const Json& body, const engine::EngineInfo& info) {
  if (!body.is_object()) return Invalid("body", "must be a JSON object");
  CompletionCall call;
  absl::Status status = ParseCommon(body, info, &call.options, &call.stream, &call.include_usage);
  if (!status.ok()) return status;
  const auto prompt = body.find("prompt");
  if (prompt == body.end()) return Invalid("prompt", "is required");
  if (prompt->is_string()) {
    call.prompt = prompt->get<std::string>();
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    call.prompt = (*prompt)[0].get<std::string>();
  } else {
    return Invalid("prompt", "must be a string (one prompt per request)");
  }
  if (call.prompt.empty()) return Invalid("prompt", "must not be empty");
  if (status = FitsTheContext("prompt", call.prompt.size(), info); !status.ok()) return status;
  AGENTD_ASSIGN_OR_RETURN(logprobs, Integer(body, "logprobs", 0, 5, 0));
  call.options.logprobs = static_cast<int>(logprobs);
  if (body.contains("echo") && body["echo"] == true) return Invalid("echo", "is not supported");
  if (body.contains("suffix") && !body["suffix"].is_null()) return Invalid("suffix", "is not supported");
  return call;
}

absl::StatusOr<std::vector<std::string>> ParseEmbeddingInput(const Json& body) {
  if (!body.is_object()) return Invalid("body", "must be a JSON object");
  const auto input = body.find("input");
  if (input == body.end()) return Invalid("input", "is required");
  std::vector<std::string> texts;
  if (input->is_string()) {
    texts.push_back(input->get<std::string>());
  } else if (input->is_array() && !input->empty() && input->size() <= 2048) {
    for (size_t i = 0; i < input->size(); ++i) {
      if (!(*input)[i].is_string()) return Invalid(absl::StrCat("input[", i, "]"), "must be a string (token arrays are not supported)");
      texts.push_back((*input)[i].get<std::string>());
    }
  } else {
    return Invalid("input", "must be a string or a list of 1 to 2048 strings");
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].empty()) return Invalid(input->is_string() ? "input" : absl::StrCat("input[", i, "]"), "must not be empty");
  }
  if (body.contains("encoding_format") && !body["encoding_format"].is_null() && body["encoding_format"] != "float" &&
      body["encoding_format"] != "base64") {
    return Invalid("encoding_format", "must be \"float\" or \"base64\"");
  }
  return texts;
}

std::string FinishReasonName(engine::FinishReason reason, bool tool_calls) {
  if (tool_calls) return "tool_calls";
  switch (reason) {
    case engine::FinishReason::kMaxTokens:
    case engine::FinishReason::kContextLength: return "length";
    default: return "stop";
  }
}

Json LogprobEntries(const std::vector<engine::TokenChoice>& choices, const engine::Tokenizer& tokenizer) {
  auto entry = [&](const engine::TokenLogprob& token) {
    const std::string& bytes = tokenizer.TokenBytes(token.id);
    Json byte_list = Json::array();
    for (unsigned char b : bytes) byte_list.push_back(b);
    return Json{{"token", engine::ToValidUtf8(bytes)}, {"logprob", token.logprob}, {"bytes", byte_list}};
  };
  Json entries = Json::array();
  for (const engine::TokenChoice& choice : choices) {
    Json e = entry(choice.chosen);
    Json top = Json::array();
    for (const engine::TokenLogprob& alternative : choice.top) top.push_back(entry(alternative));
    e["top_logprobs"] = std::move(top);
    entries.push_back(std::move(e));
  }
  return entries;
}

Json Usage(const engine::GenerationResult& result) {
  return Json{{"prompt_tokens", result.prompt_tokens},
              {"completion_tokens", result.completion_tokens},
              {"total_tokens", result.prompt_tokens + result.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", result.cached_prompt_tokens}}}};
}

Json ToolCallsJson(const std::vector<engine::ToolCall>& calls, bool with_index) {
  Json out = Json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    Json call = {{"id", calls[i].id},
                 {"type", "function"},
                 {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments_json}}}};
    if (with_index) call["index"] = i;
    out.push_back(std::move(call));
  }
  return out;
}

std::string ResponseText(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace agentd::http
