#include "engine/chat_format.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "engine/json_nesting.h"

namespace engine {
namespace {

using OrderedJson = nlohmann::ordered_json;
using Role = ChatMessage::Role;

void AppendPythonJson(const OrderedJson& value, std::string* out) {
  switch (value.type()) {
    case OrderedJson::value_t::object: {
      *out += "{";
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) *out += ", ";
        first = false;
        *out += OrderedJson(key).dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
        *out += ": ";
        AppendPythonJson(item, out);
      }
      *out += "}";
      return;
    }
    case OrderedJson::value_t::array: {
      *out += "[";
      for (size_t i = 0; i < value.size(); ++i) {
        if (i) *out += ", ";
        AppendPythonJson(value[i], out);
      }
      *out += "]";
      return;
    }
    default:
      *out += value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  }
}

std::string StripChars(const std::string& s, const char* chars, bool left, bool right) {
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end && std::strchr(chars, s[begin]) != nullptr) ++begin;
  }
  if (right) {
    while (end > begin && std::strchr(chars, s[end - 1]) != nullptr) --end;
  }
  return s.substr(begin, end - begin);
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Builds a RenderedPrompt: the template's own text through Markup, the request's through Literal.
class PromptText {
 public:
  PromptText& Markup(std::string_view text) {
    prompt_.text += text;
    return *this;
  }
  PromptText& Literal(std::string_view text) {
    if (text.empty()) return *this;
    const size_t begin = prompt_.text.size();
    prompt_.text += text;
    if (!prompt_.literal.empty() && prompt_.literal.back().end == begin) {
      prompt_.literal.back().end = prompt_.text.size();
    } else {
      prompt_.literal.push_back({begin, prompt_.text.size()});
    }
    return *this;
  }
  size_t size() const { return prompt_.text.size(); }
  RenderedPrompt Take() { return std::move(prompt_); }

 private:
  RenderedPrompt prompt_;
};

// Separates "<think>...</think>" reasoning from the answer.
void SplitReasoning(const std::string& text, std::string* reasoning, std::string* content) {
  size_t close = text.find("</think>");
  if (close == std::string::npos) {
    reasoning->clear();
    *content = text;
    return;
  }
  std::string before = text.substr(0, close);
  size_t open = before.rfind("<think>");
  if (open != std::string::npos) before = before.substr(open + 7);
  *reasoning = StripChars(before, "\n", true, true);
  *content = StripChars(text.substr(text.rfind("</think>") + 8), "\n", true, false);
}

class DeepseekV3Format final : public ChatFormat {
 public:
  Kind kind() const override { return Kind::kDeepseekV3; }

  absl::StatusOr<RenderedPrompt> RenderPrompt(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                                              bool add_generation_prompt, bool enable_thinking) const override {
    PromptText out;
    out.Markup("<｜begin▁of▁sentence｜>");
    const size_t system_begin = out.size();
    bool first_system = true;
    for (const ChatMessage& m : messages) {
      if (m.role != Role::kSystem) continue;
      if (!first_system) out.Markup("\n\n");
      out.Literal(m.content);
      first_system = false;
    }
    // The official template has no place for tool definitions; they go at the end of the
    // system prompt, with the call syntax the model's special tokens define.
    if (!tools.empty()) {
      if (out.size() > system_begin) out.Markup("\n\n");
      out.Markup("## Tools\nYou can call these functions. To call one, reply with "
                 "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n"
                 "ARGUMENTS\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>.\n");
      for (const ToolSpec& tool : tools) {
        out.Markup("\n### ").Literal(tool.name).Markup("\n").Literal(tool.description).Markup("\nParameters: ");
        out.Literal(tool.parameters_json_schema.empty() ? "{\"type\": \"object\"}"
                                                        : PythonStyleJson(tool.parameters_json_schema));
        out.Markup("\n");
      }
    }
    bool in_tool_outputs = false;
    for (size_t i = 0; i < messages.size(); ++i) {
      const ChatMessage& m = messages[i];
      switch (m.role) {
        case Role::kSystem:
          break;
        case Role::kUser:
          in_tool_outputs = false;
          out.Markup("<｜User｜>").Literal(m.content);
          break;
        case Role::kAssistant:
          if (!m.tool_calls.empty()) {
            if (in_tool_outputs) out.Markup("<｜tool▁outputs▁end｜>");
            in_tool_outputs = false;
            out.Markup("<｜Assistant｜>").Literal(m.content).Markup("<｜tool▁calls▁begin｜>");
            for (size_t c = 0; c < m.tool_calls.size(); ++c) {
              if (c) out.Markup("\n");
              out.Markup("<｜tool▁call▁begin｜>function<｜tool▁sep｜>").Literal(m.tool_calls[c].name);
              out.Markup("\n```json\n").Literal(m.tool_calls[c].arguments_json).Markup("\n```<｜tool▁call▁end｜>");
            }
            out.Markup("<｜tool▁calls▁end｜><｜end▁of▁sentence｜>");
          } else if (in_tool_outputs) {
            out.Markup("<｜tool▁outputs▁end｜>").Literal(m.content).Markup("<｜end▁of▁sentence｜>");
            in_tool_outputs = false;
          } else {
            out.Markup("<｜Assistant｜>").Literal(m.content).Markup("<｜end▁of▁sentence｜>");
          }
          break;
        case Role::kTool:
          if (!in_tool_outputs) {
            out.Markup("<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>").Literal(m.content).Markup("<｜tool▁output▁end｜>");
            in_tool_outputs = true;
          } else {
            out.Markup("\n<｜tool▁output▁begin｜>").Literal(m.content).Markup("<｜tool▁output▁end｜>");
          }
          break;
      }
    }
    if (in_tool_outputs) out.Markup("<｜tool▁outputs▁end｜>");
    if (add_generation_prompt && !in_tool_outputs) out.Markup("<｜Assistant｜>");
    return out.Take();
  }

  ParsedReply Parse(const std::string& raw, bool tool_calls) const override {
    ParsedReply reply;
    std::string text = raw;
    for (const char* end : {"<｜end▁of▁sentence｜>"}) {
      size_t at = text.find(end);
      if (at != std::string::npos) text.resize(at);
    }
    const std::string begin_calls = "<｜tool▁calls▁begin｜>";
    size_t calls_at = tool_calls ? text.find(begin_calls) : std::string::npos;
    std::string content = calls_at == std::string::npos ? text : text.substr(0, calls_at);
    SplitReasoning(content, &reply.reasoning, &reply.content);
    if (calls_at == std::string::npos) return reply;
    const std::string call_begin = "<｜tool▁call▁begin｜>", sep = "<｜tool▁sep｜>", call_end = "<｜tool▁call▁end｜>";
    size_t pos = calls_at + begin_calls.size();
    while (true) {
      size_t b = text.find(call_begin, pos);
      if (b == std::string::npos) break;
      size_t s = text.find(sep, b);
      size_t e = text.find(call_end, b);
      if (s == std::string::npos || e == std::string::npos || s > e) break;
      std::string body = text.substr(s + sep.size(), e - s - sep.size());
      ToolCall call;
      size_t newline = body.find('\n');
      call.name = StripChars(body.substr(0, newline), " \n", true, true);
      std::string arguments = newline == std::string::npos ? "" : body.substr(newline + 1);
      arguments = StripChars(arguments, " \n", true, true);
      if (StartsWith(arguments, "```json")) arguments = arguments.substr(7);
      else if (StartsWith(arguments, "```")) arguments = arguments.substr(3);
      if (EndsWith(arguments, "```")) arguments.resize(arguments.size() - 3);
      call.arguments_json = StripChars(arguments, " \n", true, true);
      call.id = absl::StrCat("call_", reply.tool_calls.size());
      reply.tool_calls.push_back(std::move(call));
      pos = e + call_end.size();
    }
    return reply;
  }

  std::vector<std::string> EndOfTurnStrings() const override { return {"<｜end▁of▁sentence｜>"}; }
  ToolCallSyntax tool_call_syntax() const override {
    return {"<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>function<｜tool▁sep｜>", "\n```json\n",
            "\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"};
  }
};

// DeepSeek-V2 and DeepSeek-LLM chat models: plain-text turns ("User: …\n\n", "Assistant: …" then
// the end-of-sentence token), the system prompt as a paragraph of its own. Their template has no
// tool calls or tool turns.
class DeepseekV2Format final : public ChatFormat {
 public:
  Kind kind() const override { return Kind::kDeepseekV2; }

  absl::StatusOr<RenderedPrompt> RenderPrompt(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                                              bool add_generation_prompt, bool enable_thinking) const override {
    if (!tools.empty()) {
      return absl::InvalidArgumentError("tools: the DeepSeek-V2 chat format has no tool calls; send the request without tools");
    }
    PromptText out;
    out.Markup("<｜begin▁of▁sentence｜>");
    for (size_t i = 0; i < messages.size(); ++i) {
      const ChatMessage& m = messages[i];
      if (m.role == Role::kTool || !m.tool_calls.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("messages[", i, "]: the DeepSeek-V2 chat format has no tool calls or tool turns"));
      }
      switch (m.role) {
        case Role::kSystem: out.Literal(m.content).Markup("\n\n"); break;
        case Role::kUser: out.Markup("User: ").Literal(m.content).Markup("\n\n"); break;
        case Role::kAssistant: out.Markup("Assistant: ").Literal(m.content).Markup("<｜end▁of▁sentence｜>"); break;
        case Role::kTool: break;
      }
    }
    if (add_generation_prompt) out.Markup("Assistant:");
    return out.Take();
  }

  ParsedReply Parse(const std::string& raw, bool tool_calls) const override {
    ParsedReply reply;
    reply.content = raw.substr(0, raw.find("<｜end▁of▁sentence｜>"));
    return reply;
  }

  std::vector<std::string> EndOfTurnStrings() const override { return {"<｜end▁of▁sentence｜>"}; }
  ToolCallSyntax tool_call_syntax() const override { return {}; }
};

class Qwen3Format final : public ChatFormat {
 public:
  Kind kind() const override { return Kind::kQwen3; }

  absl::StatusOr<RenderedPrompt> RenderPrompt(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                                              bool add_generation_prompt, bool enable_thinking) const override {
    PromptText out;
    const bool first_is_system = !messages.empty() && messages[0].role == Role::kSystem;
    if (!tools.empty()) {
      out.Markup("<|im_start|>system\n");
      if (first_is_system) out.Literal(messages[0].content).Markup("\n\n");
      out.Markup("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                 "You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
      for (const ToolSpec& tool : tools) {
        OrderedJson function;
        function["name"] = tool.name;
        function["description"] = tool.description;
        // Engine::Chat refuses deeper schemas by name; here they are only kept from being parsed.
        OrderedJson parameters =
            JsonNestedTooDeeply(tool.parameters_json_schema)
                ? OrderedJson(OrderedJson::value_t::discarded)
                : OrderedJson::parse(tool.parameters_json_schema.empty() ? "{\"type\": \"object\"}" : tool.parameters_json_schema,
                                     nullptr, false);
        if (parameters.is_discarded()) {
          return absl::InvalidArgumentError(absl::StrCat("tools: ", tool.name, ": parameters are not valid JSON"));
        }
        function["parameters"] = parameters;
        OrderedJson entry;
        entry["type"] = "function";
        entry["function"] = function;
        std::string entry_text;
        AppendPythonJson(entry, &entry_text);
        out.Markup("\n").Literal(entry_text);
      }
      out.Markup("\n</tools>\n\nFor each function call, return a json object with function name and arguments "
                 "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
                 "\"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n");
    } else if (first_is_system) {
      out.Markup("<|im_start|>system\n").Literal(messages[0].content).Markup("<|im_end|>\n");
    }

    // The last real user query (not a wrapped tool response): reasoning is kept only after it.
    int64_t last_query = static_cast<int64_t>(messages.size()) - 1;
    for (int64_t i = static_cast<int64_t>(messages.size()) - 1; i >= 0; --i) {
      const ChatMessage& m = messages[i];
      if (m.role == Role::kUser &&
          !(StartsWith(m.content, "<tool_response>") && EndsWith(m.content, "</tool_response>"))) {
        last_query = i;
        break;
      }
    }
    for (size_t i = 0; i < messages.size(); ++i) {
      const ChatMessage& m = messages[i];
      if (m.role == Role::kUser || (m.role == Role::kSystem && i != 0)) {
        out.Markup(m.role == Role::kUser ? "<|im_start|>user\n" : "<|im_start|>system\n");
        out.Literal(m.content).Markup("<|im_end|>\n");
      } else if (m.role == Role::kAssistant) {
        std::string reasoning, content;
        SplitReasoning(m.content, &reasoning, &content);
        if (m.content.find("</think>") == std::string::npos) content = m.content;
        const bool last = i + 1 == messages.size();
        if (static_cast<int64_t>(i) > last_query && (last || !reasoning.empty())) {
          out.Markup("<|im_start|>assistant\n<think>\n").Literal(StripChars(reasoning, "\n", true, true));
          out.Markup("\n</think>\n\n").Literal(StripChars(content, "\n", true, false));
        } else {
          out.Markup("<|im_start|>assistant\n").Literal(content);
        }
        for (size_t c = 0; c < m.tool_calls.size(); ++c) {
          if ((c == 0 && !content.empty()) || c > 0) out.Markup("\n");
          out.Markup("<tool_call>\n{\"name\": \"").Literal(m.tool_calls[c].name).Markup("\", \"arguments\": ");
          out.Literal(m.tool_calls[c].arguments_json.empty() ? "{}" : m.tool_calls[c].arguments_json);
          out.Markup("}\n</tool_call>");
        }
        out.Markup("<|im_end|>\n");
      } else if (m.role == Role::kTool) {
        if (i == 0 || messages[i - 1].role != Role::kTool) out.Markup("<|im_start|>user");
        out.Markup("\n<tool_response>\n").Literal(m.content).Markup("\n</tool_response>");
        if (i + 1 == messages.size() || messages[i + 1].role != Role::kTool) out.Markup("<|im_end|>\n");
      }
    }
    if (add_generation_prompt) {
      out.Markup("<|im_start|>assistant\n");
      if (!enable_thinking) out.Markup("<think>\n\n</think>\n\n");
    }
    return out.Take();
  }

  ParsedReply Parse(const std::string& raw, bool tool_calls) const override {
    ParsedReply reply;
    std::string text = raw;
    for (const char* end : {"<|im_end|>", "<|endoftext|>"}) {
      size_t at = text.find(end);
      if (at != std::string::npos) text.resize(at);
    }
    std::string reasoning, content;
    SplitReasoning(text, &reasoning, &content);
    reply.reasoning = reasoning;
    size_t first_call = tool_calls ? content.find("<tool_call>") : std::string::npos;
    reply.content = StripChars(first_call == std::string::npos ? content : content.substr(0, first_call), "\n", false, true);
    size_t pos = first_call;
    while (pos != std::string::npos) {
      size_t end = content.find("</tool_call>", pos);
      if (end == std::string::npos) break;
      std::string body = StripChars(content.substr(pos + 11, end - pos - 11), " \n", true, true);
      OrderedJson call = JsonNestedTooDeeply(body) ? OrderedJson(OrderedJson::value_t::discarded)
                                                   : OrderedJson::parse(body, nullptr, false);
      if (!call.is_discarded() && call.is_object() && call.contains("name") && call["name"].is_string()) {
        ToolCall parsed;
        parsed.name = call["name"].get<std::string>();
        parsed.arguments_json = call.contains("arguments") ? call["arguments"].dump() : "{}";
        parsed.id = absl::StrCat("call_", reply.tool_calls.size());
        reply.tool_calls.push_back(std::move(parsed));
      }
      pos = content.find("<tool_call>", end);
    }
    return reply;
  }

  std::vector<std::string> EndOfTurnStrings() const override { return {"<|im_end|>"}; }
  ToolCallSyntax tool_call_syntax() const override {
    return {"<tool_call>", "\n{\"name\": \"", "\", \"arguments\": ", "}\n</tool_call>"};
  }
};

}  // namespace

std::string PythonStyleJson(const std::string& json_text) {
  if (JsonNestedTooDeeply(json_text)) return json_text;
  OrderedJson value = OrderedJson::parse(json_text, nullptr, false);
  if (value.is_discarded()) return json_text;
  std::string out;
  AppendPythonJson(value, &out);
  return out;
}

absl::StatusOr<std::string> ChatFormat::Render(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                                               bool add_generation_prompt, bool enable_thinking) const {
  absl::StatusOr<RenderedPrompt> prompt = RenderPrompt(messages, tools, add_generation_prompt, enable_thinking);
  if (!prompt.ok()) return prompt.status();
  return std::move(prompt->text);
}

std::unique_ptr<ChatFormat> ChatFormat::Create(Kind kind) {
  if (kind == Kind::kDeepseekV3) return std::make_unique<DeepseekV3Format>();
  if (kind == Kind::kDeepseekV2) return std::make_unique<DeepseekV2Format>();
  return std::make_unique<Qwen3Format>();
}

absl::StatusOr<std::unique_ptr<ChatFormat>> ChatFormat::ForTokenizer(const Tokenizer& tokenizer) {
  if (tokenizer.TokenId("<｜User｜>") && tokenizer.TokenId("<｜Assistant｜>")) return Create(Kind::kDeepseekV3);
  if (tokenizer.TokenId("<|im_start|>") && tokenizer.TokenId("<|im_end|>")) return Create(Kind::kQwen3);
  // DeepSeek's vocabulary without V3's role tokens: V2's and DeepSeek-LLM's plain-text turns.
  // DeepSeek-Coder (v1, a 32k vocabulary) shares those names but ends a turn with <|EOT|> and
  // writes "### Instruction:" / "### Response:" turns, which no format here renders. Later
  // DeepSeek vocabularies (100k and more) may hold <|EOT|> too (V3's does, unused by its template).
  constexpr int64_t kCoderVocabularyBound = 65536;
  if (tokenizer.TokenId("<｜begin▁of▁sentence｜>") && tokenizer.TokenId("<｜end▁of▁sentence｜>")) {
    if (tokenizer.TokenId("<|EOT|>") && tokenizer.vocab_size() < kCoderVocabularyBound) {
      return absl::NotFoundError(
          "the tokenizer has <|EOT|>: DeepSeek-Coder's instruction format (### Instruction: / ### Response:) is not "
          "supported");
    }
    return Create(Kind::kDeepseekV2);
  }
  return absl::NotFoundError(
      "the tokenizer has neither DeepSeek (<｜User｜> or <｜begin▁of▁sentence｜>) nor ChatML (<|im_start|>) chat tokens");
}

}  // namespace engine
