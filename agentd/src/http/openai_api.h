// The OpenAI API's JSON, translated to and from the engine's calls: chat completions,
// completions and embeddings requests become engine options (every field checked, errors naming
// it as OpenAI's do: "messages[1].content: must be a string or a list of text parts"), and
// results become OpenAI's response and stream-chunk objects. No I/O here: http_frontend.cc
// serves these over HTTP.
#ifndef AGENTD_HTTP_OPENAI_API_H_
#define AGENTD_HTTP_OPENAI_API_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/chat_format.h"
#include "engine/engine.h"
#include "nlohmann/json.hpp"

namespace agentd::http {

// An error in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with its HTTP
// status. `param` is the request field an INVALID_ARGUMENT message names before its ": ".
struct ApiError {
  int http_status = 500;
  std::string type;
  std::string param;
  std::string message;
};
ApiError ToApiError(const absl::Status& status);
nlohmann::json ErrorBody(const ApiError& error);

struct ChatCall {
  std::vector<engine::ChatMessage> messages;
  std::vector<engine::ToolSpec> tools;
  engine::CompletionOptions options;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  int top_logprobs = 0;
};

struct CompletionCall {
  std::string prompt;
  engine::CompletionOptions options;
  bool stream = false;
  bool include_usage = false;
};

// Checks and translates a request body. Defaults are OpenAI's: temperature 1, top_p 1, n 1; a
// request without max_tokens (or max_completion_tokens) may use the rest of the context.
absl::StatusOr<ChatCall> ParseChatCompletion(const nlohmann::json& body, const engine::EngineInfo& info);
absl::StatusOr<CompletionCall> ParseCompletion(const nlohmann::json& body, const engine::EngineInfo& info);
// "input": a string or a list of strings (1..2048, none empty).
absl::StatusOr<std::vector<std::string>> ParseEmbeddingInput(const nlohmann::json& body);

// "stop" / "length" / "tool_calls".
std::string FinishReasonName(engine::FinishReason reason, bool tool_calls);

// OpenAI's logprobs entries ({"token", "logprob", "bytes", "top_logprobs"}) for some tokens.
nlohmann::json LogprobEntries(const std::vector<engine::TokenChoice>& choices, const engine::Tokenizer& tokenizer);

// The usage object: prompt, completion and total tokens, and cached prompt tokens.
nlohmann::json Usage(const engine::GenerationResult& result);

// The assistant's tool calls as OpenAI writes them ({"id", "type": "function", "function":
// {"name", "arguments"}}); `index` added for stream deltas.
nlohmann::json ToolCallsJson(const std::vector<engine::ToolCall>& calls, bool with_index);

// A response body's text: compact JSON, invalid UTF-8 from stored text replaced, never thrown.
std::string ResponseText(const nlohmann::json& value);

}  // namespace agentd::http

#endif  // AGENTD_HTTP_OPENAI_API_H_
