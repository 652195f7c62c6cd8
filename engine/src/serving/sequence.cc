#include "serving/sequence.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace engine::serving {
namespace {

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
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

absl::StatusOr<std::unique_ptr<Sequence>> Sequence::Create(Model& model, const Tokenizer& tokenizer,
                                                           GenerationRequest request, GenerationCallback on_delta,
                                                           std::unique_ptr<KvCache> cache) {
  const ModelConfig& config = model.config();
  if (request.prompt.empty()) return absl::InvalidArgumentError("prompt: no tokens");
  if (request.encode_only) {
    if (static_cast<int64_t>(request.prompt.size()) > config.max_position_embeddings) {
      return absl::OutOfRangeError(absl::StrCat("text of ", request.prompt.size(), " tokens does not fit the context of ",
                                                config.max_position_embeddings));
    }
    // Nothing is sampled: whatever would steer sampling is dropped.
    request.speculation = {};
    request.constraint = nullptr;
    request.stop_strings.clear();
    request.max_tokens = 1;
  }
  if (request.max_tokens < 1) return absl::InvalidArgumentError("max_tokens: must be at least 1");
  for (const std::string& stop : request.stop_strings) {
    if (stop.empty()) return absl::InvalidArgumentError("stop: empty stop string");
  }
  if (!request.encode_only && static_cast<int64_t>(request.prompt.size()) >= config.max_position_embeddings) {
    return absl::OutOfRangeError(absl::StrCat("prompt of ", request.prompt.size(),
                                              " tokens does not fit the context of ",
                                              config.max_position_embeddings));
  }
  if (cache == nullptr || cache->length() != request.cached_prompt_tokens ||
      request.cached_prompt_tokens >= static_cast<int64_t>(request.prompt.size())) {
    return absl::InvalidArgumentError("the KV cache must hold exactly the cached prompt tokens, and fewer than all");
  }
  const SpeculationConfig& spec = request.speculation;
  if (spec.num_draft_tokens < 0 || spec.num_draft_tokens > 64) {
    return absl::InvalidArgumentError("speculation.num_draft_tokens: must be in [0, 64]");
  }
  if (spec.mode == SpeculationConfig::Mode::kMtp && !model.has_mtp()) {
    return absl::InvalidArgumentError("speculation.mode: MTP drafting needs a checkpoint with an MTP layer");
  }
  if (spec.mode == SpeculationConfig::Mode::kDraftModel) {
    if (spec.draft_model == nullptr) return absl::InvalidArgumentError("speculation.draft_model: required for draft-model mode");
    if (spec.draft_model->config().vocab_size != config.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("speculation.draft_model: vocabulary of ",
                                                     spec.draft_model->config().vocab_size, " tokens, the model has ",
                                                     config.vocab_size));
    }
  }
  std::unique_ptr<Sequence> sequence(
      new Sequence(model, tokenizer, std::move(request), std::move(on_delta), std::move(cache)));
  if (sequence->speculate_ && spec.mode == SpeculationConfig::Mode::kMtp) {
    sequence->mtp_cache_ = model.NewMtpCache();
    if (sequence->prefilled_ > 0) {
      // A prefix-cache hit: the MTP layer still has to see those positions.
      absl::StatusOr<std::vector<float>> hidden = model.CachedHidden(sequence->cache_.get(), 0, sequence->prefilled_);
      if (!hidden.ok()) return hidden.status();
      sequence->mtp_hidden_ = std::move(*hidden);
      sequence->mtp_fed_ = sequence->prefilled_;
    }
  }
  if (sequence->speculate_ && spec.mode == SpeculationConfig::Mode::kDraftModel) {
    sequence->draft_cache_ = spec.draft_model->NewCache();
  }
  return sequence;
}

Sequence::Sequence(Model& model, const Tokenizer& tokenizer, GenerationRequest request, GenerationCallback on_delta,
                   std::unique_ptr<KvCache> cache)
    : model_(model),
      request_(std::move(request)),
      on_delta_(std::move(on_delta)),
      cache_(std::move(cache)),
      start_(Clock::now()),
      sampler_(request_.sampling),
      decoder_(&tokenizer, /*skip_special_tokens=*/true) {
  stop_ids_ = request_.stop_token_ids;
  if (!request_.ignore_eos) {
    for (int32_t id : DefaultStopTokens(model.config(), tokenizer)) stop_ids_.push_back(id);
  }
  for (const auto& s : request_.stop_strings) longest_stop_ = std::max(longest_stop_, s.size());
  history_.AddPrompt(request_.prompt);
  context_ = request_.prompt;
  prefill_end_ = static_cast<int64_t>(context_.size());
  prefilled_ = request_.cached_prompt_tokens;
  speculate_ = request_.speculation.mode != SpeculationConfig::Mode::kNone &&
               request_.speculation.num_draft_tokens > 0;
  result_.prompt_tokens = static_cast<int64_t>(request_.prompt.size());
  result_.cached_prompt_tokens = request_.cached_prompt_tokens;
  result_.speculated = speculate_;
  result_.speculation_mode = speculate_ ? request_.speculation.mode : SpeculationConfig::Mode::kNone;
}

absl::StatusOr<Sequence::Step> Sequence::Plan(int64_t max_prefill_tokens) {
  Step step;
  if (request_.cancelled != nullptr && request_.cancelled->load()) {
    Abort(FinishReason::kCancelled);
    return step;
  }
  const bool mtp = speculate_ && request_.speculation.mode == SpeculationConfig::Mode::kMtp;
  step.options.return_hidden = mtp || request_.encode_only;
  if (prefilling()) {
    const int64_t n = std::clamp<int64_t>(max_prefill_tokens, 1, prompt_left());
    step.tokens.assign(context_.begin() + prefilled_, context_.begin() + prefilled_ + n);
    return step;
  }
  drafts_.clear();
  draft_probs_.clear();
  if (speculate_) {
    const int64_t room = std::min<int64_t>(
        request_.max_tokens - static_cast<int64_t>(result_.tokens.size()),
        model_.config().max_position_embeddings - static_cast<int64_t>(context_.size()) - 2);
    const int k = static_cast<int>(std::min<int64_t>(request_.speculation.num_draft_tokens, room));
    if (k > 0) {
      absl::StatusOr<std::vector<int32_t>> drafted;
      switch (request_.speculation.mode) {
        case SpeculationConfig::Mode::kNgram:
          drafted = ProposeNgramDraft(context_, k, request_.speculation.min_ngram, request_.speculation.max_ngram);
          break;
        case SpeculationConfig::Mode::kMtp: drafted = DraftWithMtp(k); break;
        case SpeculationConfig::Mode::kDraftModel: drafted = DraftWithModel(k); break;
        case SpeculationConfig::Mode::kNone: drafted = std::vector<int32_t>(); break;
      }
      if (!drafted.ok()) return drafted.status();
      drafts_ = std::move(*drafted);
    }
  }
  step.tokens.push_back(pending_token_);
  step.tokens.insert(step.tokens.end(), drafts_.begin(), drafts_.end());
  step.options.all_logits = !drafts_.empty();
  return step;
}

absl::Status Sequence::Consume(const ForwardResult& forward) {
  const int64_t vocab = model_.config().vocab_size;
  const bool mtp = speculate_ && request_.speculation.mode == SpeculationConfig::Mode::kMtp;
  if (prefilling()) {
    const int64_t start = prefilled_;
    const int64_t ran = std::min<int64_t>(prompt_left(), cache_->length() - prefilled_);
    prefilled_ += ran;
    if (mtp) FeedMtp(start, forward.hidden);
    if (request_.encode_only) return CollectHidden(start, forward.hidden);
    if (prefilling()) return absl::OkStatus();
    return SampleAndAccept(std::span(forward.logits).last(vocab));
  }
  if (drafts_.empty()) {
    if (mtp) FeedMtp(cache_->length() - 1, forward.hidden);
    return SampleAndAccept(std::span(forward.logits).last(vocab));
  }
  return Verify(forward);
}

absl::Status Sequence::Verify(const ForwardResult& forward) {
  const int64_t vocab = model_.config().vocab_size;
  const int64_t hidden = model_.config().hidden_size;
  const int64_t k = static_cast<int64_t>(drafts_.size());
  const int64_t before = cache_->length() - (k + 1);  // where pending_token_ went
  ++result_.verify_steps;
  result_.draft_tokens_proposed += k;
  int64_t accepted = 0;
  bool replaced = false;  // a rejected draft's replacement (or a stop) ended the step
  for (; accepted < k && !done_; ++accepted) {
    // The target distribution at this position: the constraint and the penalties as they stand
    // after the drafts accepted so far (both only ever advance over accepted tokens).
    std::vector<float> row(forward.logits.begin() + accepted * vocab, forward.logits.begin() + (accepted + 1) * vocab);
    if (request_.constraint != nullptr) request_.constraint->Mask(row, stop_ids_);
    sampler_.ApplyPenalties(row, history_);
    const std::vector<float> p = sampler_.Distribution(row);
    const int32_t draft = drafts_[accepted];
    const bool sampled_draft = accepted < static_cast<int64_t>(draft_probs_.size()) && !draft_probs_[accepted].empty();
    const double q = sampled_draft ? draft_probs_[accepted][draft] : 1.0;
    if (q > 0 && sampler_.Uniform() * q < p[draft]) {
      ++result_.draft_tokens_accepted;
      absl::Status advanced = AdvanceConstraint(draft);
      if (!advanced.ok()) return advanced;
      AcceptToken(draft, row);
      continue;
    }
    // Rejected: the replacement comes from the part of p that q does not cover.
    std::vector<float> residual = p;
    if (sampled_draft) {
      for (int64_t i = 0; i < vocab; ++i) residual[i] = std::max(0.0f, p[i] - draft_probs_[accepted][i]);
    } else {
      residual[draft] = 0;
    }
    std::optional<int32_t> token = sampler_.Draw(residual);
    if (!token) token = sampler_.Draw(p);  // p and q agree to rounding: any draw from p will do
    if (!token) token = draft;
    absl::Status advanced = AdvanceConstraint(*token);
    if (!advanced.ok()) return advanced;
    AcceptToken(*token, row);
    replaced = true;
    break;
  }
  if (!done_ && !replaced) {
    // Every draft held: the row after the last one gives a token for free.
    absl::Status status = SampleAndAccept(std::span(forward.logits).subspan(k * vocab, vocab));
    if (!status.ok()) return status;
  }
  // The cache keeps pending_token_ and the accepted drafts; rejected drafts' keys go.
  cache_->Truncate(before + 1 + accepted);
  if (speculate_ && request_.speculation.mode == SpeculationConfig::Mode::kMtp) {
    FeedMtp(before, std::span(forward.hidden).first((accepted + 1) * hidden));
  }
  return absl::OkStatus();
}

absl::Status Sequence::CollectHidden(int64_t first_position, std::span<const float> rows) {
  const int64_t hidden = model_.config().hidden_size;
  const int64_t have = static_cast<int64_t>(result_.hidden.size()) / hidden;
  const int64_t count = static_cast<int64_t>(rows.size()) / hidden;
  if (first_position > have) return absl::InternalError("encoding skipped positions");
  // A prefill after a preemption runs positions again whose rows are already here.
  const int64_t skip = std::min(have - first_position, count);
  result_.hidden.insert(result_.hidden.end(), rows.begin() + skip * hidden, rows.end());
  if (!prefilling()) {
    result_.finish_reason = FinishReason::kMaxTokens;
    done_ = true;
  }
  return absl::OkStatus();
}

void Sequence::FeedMtp(int64_t first_position, std::span<const float> rows) {
  const int64_t hidden = model_.config().hidden_size;
  const int64_t count = static_cast<int64_t>(rows.size()) / hidden;
  const int64_t skip = std::clamp<int64_t>(mtp_fed_ - first_position, 0, count);
  mtp_hidden_.insert(mtp_hidden_.end(), rows.begin() + skip * hidden, rows.end());
  mtp_fed_ = std::max(mtp_fed_, first_position + count);
}

std::unique_ptr<KvCache> Sequence::Preempt() {
  ++result_.preemptions;
  // Before any output the prompt is simply prefilled again. After it, the whole context is:
  // its last token (sampled, never run) then gives the next token's logits as a decode would.
  prefill_end_ = static_cast<int64_t>(result_.tokens.empty() ? request_.prompt.size() : context_.size());
  prefilled_ = 0;
  drafts_.clear();
  draft_probs_.clear();
  return std::move(cache_);
}

absl::Status Sequence::Resume(std::unique_ptr<KvCache> cache) {
  if (cache == nullptr || cache->length() >= prefill_end_) {
    return absl::InternalError("a resumed sequence's cache must leave at least one token to run");
  }
  cache_ = std::move(cache);
  prefilled_ = cache_->length();
  if (speculate_ && request_.speculation.mode == SpeculationConfig::Mode::kMtp && prefilled_ > mtp_fed_) {
    // The prefix cache held positions this sequence never ran (another request's prompt).
    absl::StatusOr<std::vector<float>> hidden = model_.CachedHidden(cache_.get(), mtp_fed_, prefilled_);
    if (!hidden.ok()) return hidden.status();
    FeedMtp(mtp_fed_, *hidden);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> Sequence::DraftWithMtp(int k) {
  const int64_t hidden = model_.config().hidden_size;
  // Rows the MTP layer has not seen: the hidden state at each position p with the token at
  // p + 1 (the last of them is pending_token_).
  const int64_t seen = mtp_cache_->length();
  const int64_t rows = static_cast<int64_t>(mtp_hidden_.size()) / hidden;
  std::vector<int32_t> next(context_.begin() + seen + 1, context_.begin() + seen + 1 + rows);
  ForwardResult out;
  absl::Status status = model_.ForwardMtp(mtp_hidden_, next, mtp_cache_.get(), {}, &out);
  if (!status.ok()) return status;
  mtp_hidden_.clear();
  const int64_t vocab = model_.config().vocab_size;
  std::vector<int32_t> drafts;
  drafts.push_back(DrawDraft(std::vector<float>(out.logits.end() - vocab, out.logits.end())));
  // Chaining (the same layer again, on its own output and its own draft) for k > 1; those
  // rows are speculative and leave the MTP cache once drafting is over.
  const int64_t committed = mtp_cache_->length();
  std::vector<float> previous(out.hidden.end() - hidden, out.hidden.end());
  while (static_cast<int>(drafts.size()) < k) {
    const int32_t last = drafts.back();
    status = model_.ForwardMtp(previous, std::span(&last, 1), mtp_cache_.get(), {}, &out);
    if (!status.ok()) return status;
    previous = out.hidden;
    drafts.push_back(DrawDraft(out.logits));
  }
  mtp_cache_->Truncate(committed);
  return drafts;
}

absl::StatusOr<std::vector<int32_t>> Sequence::DraftWithModel(int k) {
  Model& drafter = *request_.speculation.draft_model;
  // The drafter's cache keeps the longest prefix of the context it ran that is still right.
  int64_t valid = 0;
  while (valid < draft_cache_->length() && valid < static_cast<int64_t>(draft_fed_.size()) &&
         valid < static_cast<int64_t>(context_.size()) && draft_fed_[valid] == context_[valid]) {
    ++valid;
  }
  draft_cache_->Truncate(valid);
  draft_fed_.resize(valid);
  std::vector<int32_t> feed(context_.begin() + valid, context_.end());
  std::vector<int32_t> drafts;
  ForwardResult out;
  while (static_cast<int>(drafts.size()) < k) {
    absl::Status status = drafter.Forward(feed, draft_cache_.get(), {}, &out);
    if (!status.ok()) return status;
    draft_fed_.insert(draft_fed_.end(), feed.begin(), feed.end());
    drafts.push_back(DrawDraft(out.logits));
    feed = {drafts.back()};
  }
  return drafts;
}

int32_t Sequence::DrawDraft(std::vector<float> logits) {
  sampler_.ApplyPenalties(logits, history_);
  std::vector<float> q = sampler_.Distribution(logits);
  const int32_t token = sampler_.Draw(q).value_or(0);
  draft_probs_.push_back(std::move(q));
  return token;
}

absl::Status Sequence::SampleAndAccept(std::span<const float> row) {
  std::vector<float> logits(row.begin(), row.end());
  if (request_.constraint != nullptr) request_.constraint->Mask(logits, stop_ids_);
  const int32_t token = sampler_.Sample(logits, history_);  // applies the penalties to `logits`
  absl::Status advanced = AdvanceConstraint(token);
  if (!advanced.ok()) return advanced;
  AcceptToken(token, logits);
  return absl::OkStatus();
}

absl::Status Sequence::AdvanceConstraint(int32_t token) {
  if (request_.constraint == nullptr || std::find(stop_ids_.begin(), stop_ids_.end(), token) != stop_ids_.end()) {
    return absl::OkStatus();
  }
  return request_.constraint->Advance(token);
}

bool Sequence::Emit(size_t up_to) {
  if (up_to <= emitted_ && pending_.token_ids.empty()) return true;
  pending_.text = text_.substr(emitted_, up_to > emitted_ ? up_to - emitted_ : 0);
  emitted_ = std::max(emitted_, up_to);
  const bool go_on = !on_delta_ || on_delta_(pending_);
  pending_ = GenerationDelta();
  return go_on;
}

bool Sequence::AcceptToken(int32_t token, std::span<const float> penalized_logits) {
  if (result_.tokens.empty()) result_.time_to_first_token_ms = MillisecondsSince(start_);
  if (request_.logprobs > 0) pending_.logprobs.push_back(MakeChoice(penalized_logits, token, request_.logprobs));
  result_.tokens.push_back(token);
  history_.AddOutput(token);
  context_.push_back(token);
  pending_token_ = token;
  pending_.token_ids.push_back(token);
  auto end = [&](FinishReason reason) {
    result_.finish_reason = reason;
    done_ = true;
    return false;
  };
  if (std::find(stop_ids_.begin(), stop_ids_.end(), token) != stop_ids_.end()) return end(FinishReason::kStopToken);
  text_ += decoder_.Push(token);
  // A stop string can only end in the newly added text (plus what was held back).
  if (!request_.stop_strings.empty()) {
    const size_t search_from = emitted_ > longest_stop_ ? emitted_ - longest_stop_ : 0;
    size_t best = std::string::npos;
    for (const std::string& stop : request_.stop_strings) {
      const size_t at = text_.find(stop, search_from);
      if (at != std::string::npos && at < best) {
        best = at;
        result_.matched_stop = stop;
      }
    }
    if (best != std::string::npos) {
      text_.resize(best);
      return end(FinishReason::kStopString);
    }
  }
  if (!Emit(text_.size() - HeldBackForStops(text_, request_.stop_strings))) return end(FinishReason::kCancelled);
  if (static_cast<int>(result_.tokens.size()) >= request_.max_tokens) return end(FinishReason::kMaxTokens);
  if (static_cast<int64_t>(context_.size()) + 1 >= model_.config().max_position_embeddings) {
    return end(FinishReason::kContextLength);
  }
  return true;
}

void Sequence::Abort(FinishReason reason) {
  if (done_) return;
  result_.finish_reason = reason;
  done_ = true;
}

GenerationResult Sequence::Finish() {
  const FinishReason reason = result_.finish_reason;
  if (reason != FinishReason::kStopString && reason != FinishReason::kCancelled) text_ += decoder_.Flush();
  if (emitted_ > text_.size()) emitted_ = text_.size();
  if (reason != FinishReason::kCancelled) Emit(text_.size());
  result_.text = text_;
  result_.completion_tokens = static_cast<int64_t>(result_.tokens.size());
  result_.total_ms = MillisecondsSince(start_);
  return std::move(result_);
}

}  // namespace engine::serving
