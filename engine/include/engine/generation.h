// Autoregressive generation with streaming: prefill the prompt into a KV cache, then one token
// per step until an end condition, calling back with each piece of text as it becomes final.
//
// Text handed to the callback is always whole UTF-8 characters, and never contains (a prefix
// of) a stop string: text that might turn into a stop string is held back until it cannot.
//
//   engine::GenerationRequest request;
//   request.prompt = tokenizer->Encode("...");
//   request.max_tokens = 64;
//   auto result = engine::Generate(*model, *tokenizer, request, [](const engine::GenerationDelta& d) {
//     std::cout << d.text;
//     return true;  // false cancels
//   });
#ifndef AGENTD_ENGINE_GENERATION_H_
#define AGENTD_ENGINE_GENERATION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/constraint.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

namespace engine {

enum class FinishReason { kStopToken, kStopString, kMaxTokens, kContextLength, kCancelled };
const char* FinishReasonName(FinishReason reason);  // "stop_token", "stop_string", ...

// Drafting tokens ahead of the model and verifying them in one forward pass (Leviathan et al.,
// "Fast Inference from Transformers via Speculative Decoding"). Each draft is accepted with
// probability min(1, p/q) (p: the target's distribution, q: the drafter's) and the first
// rejected one is replaced by a sample from max(0, p − q), so the output follows the target's
// distribution exactly; with greedy sampling both are one-hot and the output is token for token
// what plain decoding gives. Penalties and constraints are applied per verified position as they
// stand after the drafts accepted before it, so neither turns speculation off.
struct SpeculationConfig {
  enum class Mode {
    kNone,
    // Prompt lookup: the longest recent n-gram (max_ngram down to min_ngram tokens) that
    // occurred before in the prompt or output proposes what followed it then.
    kNgram,
    // The checkpoint's multi-token-prediction layer drafts from the model's own hidden state,
    // chained for more than one token (DeepSeek-V3 §2.2).
    kMtp,
    // A small model with the same tokenizer (draft_model) drafts autoregressively.
    kDraftModel,
  };
  Mode mode = Mode::kNone;
  // Tokens drafted per verification step.
  int num_draft_tokens = 4;
  int min_ngram = 2;
  int max_ngram = 4;
  // kDraftModel: the drafter (borrowed; outlives the request). Its vocabulary must be the
  // target's.
  Model* draft_model = nullptr;
};
const char* SpeculationModeName(SpeculationConfig::Mode mode);  // "none", "ngram", "mtp", "draft_model"

struct GenerationRequest {
  // Prompt token ids, used as given (add BOS beforehand if the model wants it). Required.
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  // Upper bound on generated tokens. Default 512.
  int max_tokens = 512;
  // Generation ends before the first occurrence of any of these; it is not part of the text.
  std::vector<std::string> stop_strings;
  // Generation ends after any of these tokens, and after the model's EOS tokens unless
  // ignore_eos. The stop token itself adds no text.
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  // Report the chosen token's log-probability and this many alternatives (0 = none).
  int logprobs = 0;
  // Set from another thread to stop at the next token.
  const std::atomic<bool>* cancelled = nullptr;
  SpeculationConfig speculation;
  // When set (borrowed), tokens the constraint rules out are masked before sampling and the
  // output ends as soon as the constrained value is complete.
  TokenConstraint* constraint = nullptr;
  // Prompt tokens at the front that the KV cache given to the generator already holds (prefix
  // caching); 0 when it starts empty.
  int64_t cached_prompt_tokens = 0;
  // Encoding instead of generating: the prompt (up to the whole context) is run for its final
  // hidden states, which come back in GenerationResult::hidden; nothing is sampled, and
  // max_tokens, stops, sampling and speculation do not apply. Embeddings use it.
  bool encode_only = false;
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
};

struct TokenChoice {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
};

// What became final since the previous callback.
struct GenerationDelta {
  std::string text;
  std::vector<int32_t> token_ids;
  std::vector<TokenChoice> logprobs;
};

struct GenerationResult {
  FinishReason finish_reason = FinishReason::kMaxTokens;
  std::string matched_stop;
  std::string text;
  std::vector<int32_t> tokens;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double time_to_first_token_ms = 0;
  double total_ms = 0;
  // Prompt tokens whose prefill a prefix-cache hit saved.
  int64_t cached_prompt_tokens = 0;
  // Speculation: whether it ran (and how), tokens proposed and accepted, verification passes.
  bool speculated = false;
  SpeculationConfig::Mode speculation_mode = SpeculationConfig::Mode::kNone;
  int64_t draft_tokens_proposed = 0;
  int64_t draft_tokens_accepted = 0;
  int64_t verify_steps = 0;
  // When the batching scheduler ran it: the order it admitted the request in (1, 2, ... since it
  // started) — what fairness across tenants decides. 0 outside the scheduler.
  uint64_t admission_order = 0;
  // Times the scheduler took its KV memory away for older requests (it then recomputed it).
  int64_t preemptions = 0;
  // encode_only: the final hidden states (after the last norm) of every prompt position,
  // [prompt_tokens, hidden_size] row-major.
  std::vector<float> hidden;
};

// Prompt-lookup drafting: up to `k` tokens that followed the most recent earlier occurrence of
// the context's last n tokens (n from max_ngram down to min_ngram); empty when none occurred.
std::vector<int32_t> ProposeNgramDraft(const std::vector<int32_t>& context, int k, int min_ngram, int max_ngram);

// Return false to cancel.
using GenerationCallback = std::function<bool(const GenerationDelta&)>;

absl::StatusOr<GenerationResult> Generate(Model& model, const Tokenizer& tokenizer,
                                          const GenerationRequest& request,
                                          const GenerationCallback& on_delta);

// Ids that end generation by default: config.json's eos_token_id(s) and the tokenizer's EOS.
std::vector<int32_t> DefaultStopTokens(const ModelConfig& config, const Tokenizer& tokenizer);

}  // namespace engine

#endif  // AGENTD_ENGINE_GENERATION_H_
