#include "engine/generation.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "serving/sequence.h"

namespace engine {

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

const char* SpeculationModeName(SpeculationConfig::Mode mode) {
  switch (mode) {
    case SpeculationConfig::Mode::kNone: return "none";
    case SpeculationConfig::Mode::kNgram: return "ngram";
    case SpeculationConfig::Mode::kMtp: return "mtp";
    case SpeculationConfig::Mode::kDraftModel: return "draft_model";
  }
  return "?";
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
  GenerationRequest alone = request;
  alone.cached_prompt_tokens = 0;
  absl::StatusOr<std::unique_ptr<serving::Sequence>> sequence =
      serving::Sequence::Create(model, tokenizer, std::move(alone), on_delta, model.NewCache());
  if (!sequence.ok()) return sequence.status();
  serving::Sequence& s = **sequence;
  while (!s.done()) {
    absl::StatusOr<serving::Sequence::Step> step = s.Plan(std::numeric_limits<int64_t>::max());
    if (!step.ok()) return step.status();
    if (s.done()) break;
    ForwardResult forward;
    absl::Status status = model.Forward(step->tokens, s.cache(), step->options, &forward);
    if (!status.ok()) return status;
    status = s.Consume(forward);
    if (!status.ok()) return status;
  }
  return s.Finish();
}

}  // namespace engine
