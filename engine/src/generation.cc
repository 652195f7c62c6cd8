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

std::vector<int32_t> ProposeNgramDraft(const std::vector<int32_t>& context, int k, int min_ngram, int max_ngram) {
  const int64_t n_total = static_cast<int64_t>(context.size());
  if (k <= 0) return {};
  for (int n = std::min<int64_t>(max_ngram, n_total - 1); n >= std::max(1, min_ngram); --n) {
    const int32_t* tail = context.data() + n_total - n;
    // The most recent earlier occurrence wins: recent text predicts best.
    for (int64_t j = n_total - n - 1; j >= 0; --j) {
      if (std::equal(tail, tail + n, context.data() + j)) {
        const int64_t from = j + n;
        const int64_t to = std::min(n_total, from + k);
        if (to > from) return std::vector<int32_t>(context.begin() + from, context.begin() + to);
      }
    }
  }
  return {};
}

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

  // One generated token (sampled, or a verified draft): bookkeeping, stop checks, streaming.
  // Returns false when generation ends; result.finish_reason then says why.
  auto accept_token = [&](int32_t token, std::span<const float> penalized_logits) -> bool {
    if (result.tokens.empty()) result.time_to_first_token_ms = MillisecondsSince(start);
    if (request.logprobs > 0) pending.logprobs.push_back(MakeChoice(penalized_logits, token, request.logprobs));
    result.tokens.push_back(token);
    history.AddOutput(token);
    pending.token_ids.push_back(token);
    if (std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end()) {
      result.finish_reason = FinishReason::kStopToken;
      return false;
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
        return false;
      }
    }
    if (!emit(text.size() - HeldBackForStops(text, request.stop_strings))) {
      result.finish_reason = FinishReason::kCancelled;
      return false;
    }
    if (static_cast<int>(result.tokens.size()) >= request.max_tokens) {
      result.finish_reason = FinishReason::kMaxTokens;
      return false;
    }
    if (static_cast<int64_t>(request.prompt.size() + result.tokens.size()) + 1 >= config.max_position_embeddings) {
      result.finish_reason = FinishReason::kContextLength;
      return false;
    }
    return true;
  };

  // Verification compares drafts with the model's argmax, which is exactly greedy decoding only
  // without penalties (they would change with every accepted token).
  const SamplingParams& sp = request.sampling;
  const bool speculate = request.constraint == nullptr && request.speculation.mode == SpeculationConfig::Mode::kNgram && sp.temperature <= 0 &&
                         (sp.repetition_penalty <= 0 || sp.repetition_penalty == 1.0f) && sp.frequency_penalty == 0 &&
                         sp.presence_penalty == 0 && request.speculation.num_draft_tokens > 0;
  result.speculated = speculate;
  std::vector<int32_t> context = request.prompt;
  const int64_t vocab = config.vocab_size;

  while (true) {
    if (request.cancelled != nullptr && request.cancelled->load()) {
      result.finish_reason = FinishReason::kCancelled;
      break;
    }
    std::span<float> logits(forward.logits.data(), vocab);
    if (request.constraint != nullptr) request.constraint->Mask(logits, stop_ids);
    const int32_t token = sampler.Sample(logits, history);  // applies the penalties to `logits`
    if (request.constraint != nullptr && std::find(stop_ids.begin(), stop_ids.end(), token) == stop_ids.end()) {
      status = request.constraint->Advance(token);
      if (!status.ok()) return status;
    }
    if (!accept_token(token, logits)) break;
    context.push_back(token);

    std::vector<int32_t> drafts;
    if (speculate) {
      const int room = std::min<int>(request.max_tokens - static_cast<int>(result.tokens.size()),
                                     static_cast<int>(config.max_position_embeddings - context.size() - 2));
      drafts = ProposeNgramDraft(context, std::min(request.speculation.num_draft_tokens, room),
                                 request.speculation.min_ngram, request.speculation.max_ngram);
    }
    if (drafts.empty()) {
      int32_t next = token;
      status = model.Forward(std::span(&next, 1), cache.get(), {}, &forward);
      if (!status.ok()) return status;
      continue;
    }
    // Run the sampled token and the drafts in one pass; row i holds the logits after position i.
    const int64_t before = cache->length();
    std::vector<int32_t> batch = {token};
    batch.insert(batch.end(), drafts.begin(), drafts.end());
    ForwardResult verify;
    status = model.Forward(batch, cache.get(), {.all_logits = true}, &verify);
    if (!status.ok()) return status;
    ++result.verify_steps;
    result.draft_tokens_proposed += static_cast<int64_t>(drafts.size());
    size_t accepted = 0;
    bool ended = false;
    while (accepted < drafts.size()) {
      std::span<const float> row(verify.logits.data() + accepted * vocab, vocab);
      const int32_t greedy = static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
      if (greedy != drafts[accepted]) break;
      ++result.draft_tokens_accepted;
      if (!accept_token(drafts[accepted], row)) {
        ended = true;
        break;
      }
      context.push_back(drafts[accepted]);
      ++accepted;
    }
    if (ended) break;
    // Keep the sampled token and the accepted drafts; the rejected drafts' keys go.
    cache->Truncate(before + 1 + static_cast<int64_t>(accepted));
    forward.logits.assign(verify.logits.begin() + accepted * vocab, verify.logits.begin() + (accepted + 1) * vocab);
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
