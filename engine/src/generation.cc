#include "engine/generation.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace engine {
namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that
// much text must be held back because the next tokens might complete the stop string.
size_t HeldBackForStops(const std::string& text, const std::vector<std::string>& stops) {
  size_t held = 0;
  for (const std::string& stop : stops) {
    for (size_t n = std::min(stop.size() - 1, text.size()); n > held; --n) {
      if (text.compare(text.size() - n, n, stop, 0, n) == 0) {
        held = n;
        break;
      }
    }
  }
  return held;
}

TokenChoice MakeChoice(std::span<const float> logits, int32_t chosen, int top) {
  std::vector<float> logprobs = LogSoftmax(logits);
  TokenChoice choice;
  choice.chosen = {chosen, logprobs[chosen]};
  if (top > 0) {
    std::vector<int32_t> order(logprobs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
    const size_t k = std::min(order.size(), static_cast<size_t>(top));
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int32_t a, int32_t b) { return logprobs[a] > logprobs[b]; });
    for (size_t i = 0; i < k; ++i) choice.top.push_back({order[i], logprobs[order[i]]});
  }
  return choice;
}

}  // namespace

const char* FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStopToken: return "stop_token";
    case FinishReason::kStopString: return "stop_string";
    case FinishReason::kMaxTokens: return "max_tokens";
    case FinishReason::kContextLength: return "context_length";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "?";
}

std::vector<int32_t> DefaultStopTokens(const ModelConfig& config, const Tokenizer& tokenizer) {
  std::vector<int32_t> ids = config.eos_token_ids;
  if (tokenizer.eos_id() && std::find(ids.begin(), ids.end(), *tokenizer.eos_id()) == ids.end()) {
    ids.push_back(*tokenizer.eos_id());
  }
  return ids;
}

absl::StatusOr<GenerationResult> Generate(Model& model, const Tokenizer& tokenizer,
                                          const GenerationRequest& request,
                                          const GenerationCallback& on_delta) {
  const auto start = Clock::now();
  const ModelConfig& config = model.config();
  if (request.prompt.empty()) return absl::InvalidArgumentError("prompt: no tokens");
  if (request.max_tokens < 1) return absl::InvalidArgumentError("max_tokens: must be at least 1");
  for (const std::string& stop : request.stop_strings) {
    if (stop.empty()) return absl::InvalidArgumentError("stop: empty stop string");
  }
  if (static_cast<int64_t>(request.prompt.size()) >= config.max_position_embeddings) {
    return absl::OutOfRangeError(absl::StrCat("prompt of ", request.prompt.size(),
                                              " tokens does not fit the context of ",
                                              config.max_position_embeddings));
  }
  std::vector<int32_t> stop_ids = request.stop_token_ids;
  if (!request.ignore_eos) {
    for (int32_t id : DefaultStopTokens(config, tokenizer)) stop_ids.push_back(id);
  }

  GenerationResult result;
  result.prompt_tokens = static_cast<int64_t>(request.prompt.size());
  auto cache = model.NewCache();
  ForwardResult forward;
  absl::Status status = model.Forward(request.prompt, cache.get(), {}, &forward);
  if (!status.ok()) return status;

  Sampler sampler(request.sampling);
  TokenHistory history;
  history.AddPrompt(request.prompt);
  IncrementalDecoder decoder(&tokenizer, /*skip_special_tokens=*/true);
  std::string text;        // everything decoded so far
  size_t emitted = 0;      // how much of `text` the callback has seen
  GenerationDelta pending;  // tokens and logprobs not yet handed out
  const size_t longest_stop = [&] {
    size_t n = 0;
    for (const auto& s : request.stop_strings) n = std::max(n, s.size());
    return n;
  }();

  auto emit = [&](size_t up_to) -> bool {
    if (up_to <= emitted && pending.token_ids.empty()) return true;
    pending.text = text.substr(emitted, up_to > emitted ? up_to - emitted : 0);
    emitted = std::max(emitted, up_to);
    bool go_on = !on_delta || on_delta(pending);
    pending = GenerationDelta();
    return go_on;
  };

  while (true) {
    if (request.cancelled != nullptr && request.cancelled->load()) {
      result.finish_reason = FinishReason::kCancelled;
      break;
    }
    std::span<float> logits(forward.logits.data(), config.vocab_size);
    std::vector<float> raw;
    if (request.logprobs > 0) raw.assign(logits.begin(), logits.end());
    const int32_t token = sampler.Sample(logits, history);
    if (result.tokens.empty()) result.time_to_first_token_ms = MillisecondsSince(start);
    result.tokens.push_back(token);
    history.AddOutput(token);
    pending.token_ids.push_back(token);
    if (request.logprobs > 0) {
      sampler.ApplyPenalties(raw, history);
      pending.logprobs.push_back(MakeChoice(raw, token, request.logprobs));
    }

    if (std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end()) {
      result.finish_reason = FinishReason::kStopToken;
      break;
    }
    text += decoder.Push(token);

    // A stop string can only end in the newly added text (plus what was held back).
    if (!request.stop_strings.empty()) {
      const size_t search_from = emitted > longest_stop ? emitted - longest_stop : 0;
      size_t best = std::string::npos;
      for (const std::string& stop : request.stop_strings) {
        size_t at = text.find(stop, search_from);
        if (at != std::string::npos && at < best) {
          best = at;
          result.matched_stop = stop;
        }
      }
      if (best != std::string::npos) {
        text.resize(best);
        result.finish_reason = FinishReason::kStopString;
        break;
      }
    }
    if (!emit(text.size() - HeldBackForStops(text, request.stop_strings))) {
      result.finish_reason = FinishReason::kCancelled;
      break;
    }
    if (static_cast<int>(result.tokens.size()) >= request.max_tokens) {
      result.finish_reason = FinishReason::kMaxTokens;
      break;
    }
    if (cache->length() + 1 >= config.max_position_embeddings) {
      result.finish_reason = FinishReason::kContextLength;
      break;
    }
    int32_t next = token;
    status = model.Forward(std::span(&next, 1), cache.get(), {}, &forward);
    if (!status.ok()) return status;
  }

  if (result.finish_reason != FinishReason::kStopString && result.finish_reason != FinishReason::kCancelled) {
    text += decoder.Flush();
  }
  if (emitted > text.size()) emitted = text.size();
  if (result.finish_reason != FinishReason::kCancelled) emit(text.size());
  result.text = text;
  result.completion_tokens = static_cast<int64_t>(result.tokens.size());
  result.total_ms = MillisecondsSince(start);
  return result;
}

}  // namespace engine
