// The engine as the rest of agentd uses it: one loaded model with its tokenizer and chat
// format, and the operations the API offers — text completion, chat, tokenize, embed, info.
//
//   auto engine = engine::Engine::Load({.model_dir = "/models/x"});
//   engine::CompletionOptions options;
//   options.max_tokens = 64;
//   auto result = (*engine)->Complete("The capital of France is", options, on_delta);
//
// Calls are thread-safe. Completions and chats from any number of threads share the model
// through the batching scheduler (engine/scheduler.h): they run together in the same forward
// passes, and prompts that start alike share their KV blocks.
#ifndef AGENTD_ENGINE_ENGINE_H_
#define AGENTD_ENGINE_ENGINE_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/chat_format.h"
#include "engine/constraint.h"
#include "engine/embedding.h"
#include "engine/generation.h"
#include "engine/generation_observer.h"
#include "engine/model.h"
#include "engine/scheduler.h"
#include "engine/tokenizer.h"

namespace engine {

struct EngineOptions {
  // Model directory (config.json, *.safetensors, tokenizer.json). Required.
  std::string model_dir;
  // A smaller model with the same vocabulary for draft-model speculation; "" = none.
  std::string draft_model_dir;
  // "" (weights as stored; the default), "q8" or "q4" (quantised at load, see ModelOptions).
  std::string quantize;
  // Where the quantised copy is saved and mapped from (ModelOptions::quantized_copy_dir).
  std::string quantized_copy_dir;
  // Where the forward pass runs: "cpu" (the default), "cuda" or "auto" (ModelOptions::device).
  std::string device = "cpu";
  // Batching, KV memory and prefix caching (see SchedulerOptions for the defaults).
  SchedulerOptions scheduler;
  // Told about every generation (the daemon's metrics). Optional; borrowed, must outlive the
  // engine.
  GenerationObserver* observer = nullptr;
};

// Generation settings shared by Complete and Chat; the prompt comes separately.
struct CompletionOptions {
  SamplingParams sampling;
  int max_tokens = 512;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_token_ids;
  int logprobs = 0;
  const std::atomic<bool>* cancelled = nullptr;
  SpeculationConfig speculation;
  // Constrained decoding (JSON Schema, any JSON, cited text); kind kNone: unconstrained.
  ResponseConstraint constraint;
  // Chat with tools: whether the model may call one (kAuto), must (kRequired) or may not
  // (kNone). A call is written in the format's own syntax with the tool's name constrained to
  // the tools given and its arguments to that tool's JSON Schema, so it always parses and
  // validates; one call per turn. Default kAuto.
  enum class ToolChoice { kAuto, kRequired, kNone };
  ToolChoice tool_choice = ToolChoice::kAuto;
  // Fairness key for the scheduler (requests are admitted round robin across keys).
  std::string tenant;
  // Who asked, for EngineOptions::observer ("grpc", "http", "plan", "tool"). Never a tenant's
  // words: it becomes a metrics label.
  std::string origin;
};

struct ChatResult {
  GenerationResult generation;
  ParsedReply reply;
};

struct EngineInfo {
  std::string name;
  std::string architecture;
  uint64_t parameters = 0;
  uint64_t active_parameters = 0;
  int vocab_size = 0;
  int context_length = 0;
  int hidden_size = 0;
  int num_layers = 0;
  int num_experts = 0;
  int experts_per_token = 0;
  std::string weight_dtype;
  // What became of the saved quantised copy (Model::quantized_copy_note); "" without one.
  std::string quantized_copy;
  std::string device;
  bool has_mtp = false;
  std::string draft_model;  // name of the draft model; "" = none
  // True for a sentence-transformers embedding model (1_Pooling/config.json present).
  bool embedding_model = false;
  std::string embedding_pooling;  // "mean", "last_token", "first_token"
  // The most bytes of text a prompt may have: the context at the vocabulary's longest token,
  // four times over (a normalizer may shorten text). A longer prompt cannot fit, so Complete
  // and Chat refuse it before tokenizing (40 MB took 7 s of one core to be told it does not
  // fit), and Embed cuts a text to it first.
  int64_t max_prompt_bytes = 0;
  // From the directory's agentd_model.json (engine/model_card.h): "abstractive" or "extractive".
  std::string writing_style = "abstractive";
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Load(const EngineOptions& options);

  // Text completion: the prompt is tokenized (with BOS when the tokenizer config asks). Complete
  // and Chat refuse a prompt of more than info().max_prompt_bytes (INVALID_ARGUMENT).
  absl::StatusOr<GenerationResult> Complete(const std::string& prompt, const CompletionOptions& options,
                                            const GenerationCallback& on_delta);
  // Completion from token ids used as given.
  absl::StatusOr<GenerationResult> CompleteIds(std::vector<int32_t> prompt, const CompletionOptions& options,
                                               const GenerationCallback& on_delta);
  // Renders the conversation with the model's chat format and generates the assistant's reply.
  // With tools, tool calls are constrained as options.tool_choice says (see CompletionOptions).
  absl::StatusOr<ChatResult> Chat(const std::vector<ChatMessage>& messages, const std::vector<ToolSpec>& tools,
                                  const CompletionOptions& options, const GenerationCallback& on_delta);
  // One vector per text: the final hidden states pooled as the model directory declares (mean
  // by default; see engine/embedding.h), after the role's prompt. Texts longer than the context
  // are cut to it (past info().max_prompt_bytes before tokenizing). An empty text is an error
  // naming its index.
  absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts, const EmbedOptions& options);
  const EmbeddingSettings& embedding_settings() const { return embedding_; }

  const Tokenizer& tokenizer() const { return *tokenizer_; }
  Model& model() { return *model_; }
  // nullptr when the tokenizer has no known chat tokens.
  const ChatFormat* chat_format() const { return chat_format_.get(); }
  const EngineInfo& info() const { return info_; }
  SchedulerStats scheduler_stats() const { return scheduler_->stats(); }

 private:
  // INVALID_ARGUMENT naming the prompt when it has more than info_.max_prompt_bytes.
  absl::Status CheckPromptBytes(size_t bytes) const;
  // The constrained tool call after `ids` (which end with the format's trigger token).
  absl::StatusOr<ChatResult> CompleteToolCall(std::vector<int32_t> ids, const std::vector<ToolSpec>& tools,
                                              const CompletionOptions& options, ChatResult result);
  Engine() = default;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Model> draft_model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatFormat> chat_format_;
  std::vector<int32_t> extra_stop_tokens_;  // from generation_config.json
  EmbeddingSettings embedding_;
  EngineInfo info_;
  GenerationObserver* observer_ = nullptr;
  // Declared last: its thread uses everything above, so it goes first.
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace engine

#endif  // AGENTD_ENGINE_ENGINE_H_
