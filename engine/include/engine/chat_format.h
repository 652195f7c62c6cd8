// Chat templates applied natively (no Jinja): the conversation is rendered to the exact prompt
// text the model family was trained on, and a generated reply is parsed back into content,
// reasoning and tool calls.
//
//   DeepSeek-V3: <｜begin▁of▁sentence｜>{system}<｜User｜>{user}<｜Assistant｜>{reply}<｜end▁of▁sentence｜>,
//     tool calls as <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>...,
//     tool results as <｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>...<｜tool▁output▁end｜><｜tool▁outputs▁end｜>.
//   DeepSeek-V2 / DeepSeek-LLM: <｜begin▁of▁sentence｜>{system}\n\nUser: {user}\n\nAssistant: {reply}<｜end▁of▁sentence｜>,
//     no tool calls.
//   Qwen3 (ChatML): <|im_start|>{role}\n{content}<|im_end|>\n, tools listed in the system turn
//     inside <tools></tools>, calls as <tool_call>{"name": ..., "arguments": ...}</tool_call>,
//     results as <tool_response>...</tool_response> in a user turn, reasoning in <think></think>.
//
// All follow the official tokenizer_config.json templates; where the DeepSeek-V3 template
// mishandles a single tool call (it never closes the call list) the well-formed form is used.
// One deliberate difference: what the request supplies (message text, tool calls and tool
// definitions) is marked literal in the RenderedPrompt, so a chat token spelled inside it stays
// text where HF's apply_chat_template + encode would read it as the token.
#ifndef AGENTD_ENGINE_CHAT_FORMAT_H_
#define AGENTD_ENGINE_CHAT_FORMAT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/tokenizer.h"

namespace engine {

struct ToolCall {
  std::string id;
  std::string name;
  // JSON object text.
  std::string arguments_json;
};

struct ChatMessage {
  enum class Role { kSystem, kUser, kAssistant, kTool };
  Role role = Role::kUser;
  std::string content;
  // Assistant turns: calls it made.
  std::vector<ToolCall> tool_calls;
  // Tool turns: the call answered.
  std::string tool_call_id;
};

struct ToolSpec {
  std::string name;
  std::string description;
  // JSON Schema of the arguments (JSON text); empty means {"type": "object"}.
  std::string parameters_json_schema;
};

struct ParsedReply {
  std::string content;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
};

// How the format writes one tool call, split where the tool's name and its arguments go:
// trigger + prefix + NAME + middle + ARGUMENTS (JSON) + suffix. The model generates `trigger`
// (a single added token) when it decides to call a tool; the rest can then be written with the
// fixed parts forced and the name and arguments constrained.
struct ToolCallSyntax {
  std::string trigger;
  std::string prefix;
  std::string middle;
  std::string suffix;
};

// A rendered prompt and which of its bytes came from the request (messages, tool calls, tool
// definitions) rather than from the template: tokenized with
// Tokenizer::EncodeWithLiteralRanges(text, literal), only the template's markup can become chat
// tokens such as "<|im_end|>" — text a tenant sends, or a document or web page quoted in a
// message, cannot close its turn and write another.
struct RenderedPrompt {
  std::string text;
  std::vector<TextRange> literal;  // sorted, not overlapping, none empty
};

class ChatFormat {
 public:
  enum class Kind { kDeepseekV3, kQwen3, kDeepseekV2 };

  // Picks the format whose special tokens the tokenizer has ("<｜User｜>" → DeepSeek-V3,
  // "<|im_start|>" → Qwen3, DeepSeek's "<｜begin▁of▁sentence｜>" without V3's role tokens →
  // DeepSeek-V2); NOT_FOUND when it has none of them.
  static absl::StatusOr<std::unique_ptr<ChatFormat>> ForTokenizer(const Tokenizer& tokenizer);
  static std::unique_ptr<ChatFormat> Create(Kind kind);
  virtual ~ChatFormat() = default;

  virtual Kind kind() const = 0;
  // The prompt text, ending with the assistant's turn opener when add_generation_prompt. The
  // DeepSeek form starts with the BOS token's text, so do not add BOS again when tokenizing.
  // enable_thinking = false adds Qwen3's empty think block.
  virtual absl::StatusOr<RenderedPrompt> RenderPrompt(const std::vector<ChatMessage>& messages,
                                                      const std::vector<ToolSpec>& tools, bool add_generation_prompt,
                                                      bool enable_thinking = true) const = 0;
  // The prompt's text alone (what HF's apply_chat_template(tokenize=False) gives).
  absl::StatusOr<std::string> Render(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                                     bool add_generation_prompt, bool enable_thinking = true) const;
  // Splits a generated reply (decoded with special tokens kept) into its parts.
  // tool_calls = false: the reply's tool-call syntax is content like any other text (for a reply
  // whose calls, if any, did not come through the tool-call token: text spelling one is not one).
  virtual ParsedReply Parse(const std::string& reply, bool tool_calls) const = 0;
  ParsedReply Parse(const std::string& reply) const { return Parse(reply, /*tool_calls=*/true); }
  // Strings that end the assistant's turn, for models that emit them as text.
  virtual std::vector<std::string> EndOfTurnStrings() const = 0;
  virtual ToolCallSyntax tool_call_syntax() const = 0;
};

// Python's json.dumps(value, ensure_ascii=False) spacing (", " and ": "), which the Qwen3
// template's tojson produces, applied to JSON text. Key order is preserved.
std::string PythonStyleJson(const std::string& json_text);

}  // namespace engine

#endif  // AGENTD_ENGINE_CHAT_FORMAT_H_
