// One generation request as a state machine a driver steps through forward passes: Generate
// drives one alone, the batching scheduler drives many in shared passes. Each round the driver
// asks for the next step (a prompt chunk, or the last token plus drafts), runs it through the
// model (alone or batched with other sequences) into the sequence's KV cache, and hands the
// result back; the sequence samples, verifies drafts, checks stop conditions and streams text.
#ifndef AGENTD_ENGINE_SERVING_SEQUENCE_H_
#define AGENTD_ENGINE_SERVING_SEQUENCE_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/generation.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

namespace engine::serving {

class Sequence {
 public:
  // `cache` holds request.cached_prompt_tokens prompt positions already (0 for an empty cache);
  // at least one prompt token must be left to run. The request's borrowed pointers (constraint,
  // cancelled, draft model) must outlive the sequence.
  static absl::StatusOr<std::unique_ptr<Sequence>> Create(Model& model, const Tokenizer& tokenizer,
                                                          GenerationRequest request, GenerationCallback on_delta,
                                                          std::unique_ptr<KvCache> cache);

  // The next forward pass's work for this sequence.
  struct Step {
    std::vector<int32_t> tokens;
    ForwardOptions options;
  };
  // Plans the next step: up to `max_prefill_tokens` prompt tokens while prefilling (≥ 1), else
  // the last sampled token and its drafts (drafting runs here, on the MTP layer or draft model).
  // Call only when !done().
  absl::StatusOr<Step> Plan(int64_t max_prefill_tokens);
  // Takes the forward result of the planned step (its tokens are now in the cache).
  absl::Status Consume(const ForwardResult& forward);
  // Ends the sequence now (cancellation, deadline, shutdown).
  void Abort(FinishReason reason);

  // Preemption by recompute: gives up the KV cache (the caller releases its blocks, or leaves
  // them to the prefix cache) and keeps everything else — output so far, sampler state,
  // constraint, penalties' history. Resume hands it a new cache holding a prefix of context()
  // (empty, or what the prefix cache still has); the rest is prefilled again, then decoding
  // goes on exactly where it stopped. Call between steps, only when !done().
  std::unique_ptr<KvCache> Preempt();
  absl::Status Resume(std::unique_ptr<KvCache> cache);
  bool preempted() const { return cache_ == nullptr; }

  bool done() const { return done_; }
  // Prefilling: the prompt, or after a preemption the context again.
  bool prefilling() const { return prefilled_ < prefill_end_; }
  // Tokens to prefill before the next token is sampled (all of the prompt, or of the context
  // after a preemption), and how many of them are not run yet.
  int64_t prefill_end() const { return prefill_end_; }
  int64_t prompt_left() const { return prefill_end_ - prefilled_; }
  KvCache* cache() { return cache_.get(); }
  const std::vector<int32_t>& context() const { return context_; }
  const GenerationRequest& request() const { return request_; }
  // Flushes the last text and returns the result; call once, when done().
  GenerationResult Finish();

 private:
  using Clock = std::chrono::steady_clock;
  Sequence(Model& model, const Tokenizer& tokenizer, GenerationRequest request, GenerationCallback on_delta,
           std::unique_ptr<KvCache> cache);

  // Samples from one row of logits (penalties, constraint) and accepts the token.
  absl::Status SampleAndAccept(std::span<const float> row);
  // Bookkeeping, stop checks and streaming for one new token; false when generation ends.
  bool AcceptToken(int32_t token, std::span<const float> penalized_logits);
  bool Emit(size_t up_to);
  // Moves the constraint (if any) past an accepted token; stop tokens end it instead.
  absl::Status AdvanceConstraint(int32_t token);
  // Verifies the drafts against rows 0..k of `forward` by rejection sampling.
  absl::Status Verify(const ForwardResult& forward);
  // Queues the MTP layer's rows for positions first_position, first_position + 1, ... (hidden
  // states of the target model), skipping positions it was already given.
  void FeedMtp(int64_t first_position, std::span<const float> rows);
  // encode_only: keeps the rows of positions first_position, ... not collected yet; done once
  // the whole prompt has run.
  absl::Status CollectHidden(int64_t first_position, std::span<const float> rows);

  // Drafters. Each returns up to `k` drafts and, in draft_probs_, the distribution each came
  // from (empty: the draft was proposed deterministically, q is one-hot).
  absl::StatusOr<std::vector<int32_t>> DraftWithMtp(int k);
  absl::StatusOr<std::vector<int32_t>> DraftWithModel(int k);
  // Draws a draft from drafter logits with the request's sampling; records q.
  int32_t DrawDraft(std::vector<float> logits);

  Model& model_;
  const GenerationRequest request_;
  const GenerationCallback on_delta_;
  std::unique_ptr<KvCache> cache_;
  const Clock::time_point start_;

  std::vector<int32_t> stop_ids_;
  Sampler sampler_;
  TokenHistory history_;
  IncrementalDecoder decoder_;
  size_t longest_stop_ = 0;
  bool speculate_ = false;

  std::vector<int32_t> context_;  // prompt and accepted output
  int64_t prefill_end_ = 0;       // context_[0, prefill_end_) is run before sampling
  int64_t prefilled_ = 0;         // of those, the ones in the cache
  // Positions whose hidden states the MTP layer already has (or has queued in mtp_hidden_):
  // a prefill after a preemption recomputes them and must not hand them over twice.
  int64_t mtp_fed_ = 0;
  int32_t pending_token_ = -1;    // sampled, not yet run through the model
  std::vector<int32_t> drafts_;   // proposed after pending_token_, being verified
  std::vector<std::vector<float>> draft_probs_;

  // MTP: the MTP layer's cache, and the rows it has not seen yet (hidden state at position p
  // with the token at p + 1), which the next drafting call runs first.
  std::unique_ptr<KvCache> mtp_cache_;
  std::vector<float> mtp_hidden_;
  std::vector<int32_t> mtp_tokens_;
  // Draft model: its cache, and the tokens it has run.
  std::unique_ptr<KvCache> draft_cache_;
  std::vector<int32_t> draft_fed_;

  std::string text_;
  size_t emitted_ = 0;
  GenerationDelta pending_;
  GenerationResult result_;
  bool done_ = false;
};

}  // namespace engine::serving

#endif  // AGENTD_ENGINE_SERVING_SEQUENCE_H_
