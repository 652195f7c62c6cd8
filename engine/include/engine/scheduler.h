// Continuous batching: one scheduler thread owns the model's forward passes and runs every
// active request in them. Requests from any number of callers join the running batch at the
// next iteration and leave it when they finish, so a long generation never holds up a short
// one. Each iteration the decoding sequences contribute their next token (plus drafts when they
// speculate) and prefilling ones a chunk of their prompt within a token budget (chunked
// prefill), all in one Model::ForwardBatch. KV memory is a bounded pool of blocks; prompts
// that start like an earlier one reuse its blocks (prefix caching) and skip that prefill.
//
//   auto scheduler = engine::Scheduler::Create(model, tokenizer, {});
//   auto result = (*scheduler)->Generate(request, {.tenant = "acme"}, on_delta);  // blocks
//
// Generate blocks its caller; on_delta runs on the caller's thread (a slow consumer never
// stalls the batch), and returning false cancels that request alone. Admission is fair across
// tenants (round robin over per-tenant queues), and a full queue answers RESOURCE_EXHAUSTED.
// When KV memory runs out, the newest running request gives its memory up (preemption) and is
// recomputed once an older one has finished: its output is the same, it only takes longer.
#ifndef AGENTD_ENGINE_SCHEDULER_H_
#define AGENTD_ENGINE_SCHEDULER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/generation.h"
#include "engine/model.h"
#include "engine/tokenizer.h"

namespace engine {

struct SchedulerOptions {
  // Sequences in the running batch at once. Default 16.
  int max_running = 16;
  // Of those, the most one tenant's requests may hold. A request keeps its place until it ends,
  // so a tenant whose requests filled the batch with long generations kept every other tenant
  // waiting for the first of them to end (an 8-token request waited 86 s behind sixteen of
  // 1,000 tokens on the shipped model; with a long context, hours). Below max_running, the
  // places left over are the other tenants' whenever they ask. 0 (the default): max_running.
  int max_running_per_tenant = 0;
  // Tokens per forward pass; prompts longer than what is left of it are prefilled in chunks
  // over several passes. Default 256.
  int64_t max_batch_tokens = 256;
  // Requests waiting to join the batch; one more is refused with RESOURCE_EXHAUSTED, unless
  // its tenant has fewer than waiting_reserved_per_tenant waiting. Default 256.
  int max_waiting = 256;
  // Places every tenant has in the queue however full others have made it: without them one
  // tenant's requests (streams, runs and embedding slices together) filled the queue and every
  // other tenant was refused until they drained. The queue then holds at most max_waiting plus
  // this (plus one Encode slice) per tenant; tenants are the daemon's configured ones. A request
  // (or Encode slice) is refused only when the queue is full and its tenant already has this
  // many waiting. Default 32; 0: none.
  int waiting_reserved_per_tenant = 32;
  // KV memory: the pool's size in bytes (rounded down to whole blocks). Default 2 GiB.
  uint64_t kv_cache_bytes = 2ull << 30;
  // Positions per KV block (a power of two). Default 16.
  int block_size = 16;
  // Reuse the KV blocks of earlier prompts' prefixes. Default true.
  bool prefix_caching = true;
};

struct RequestOptions {
  // Fairness key: waiting requests are admitted round robin across keys. Default "".
  std::string tenant;
  // When set, the request ends with DEADLINE_EXCEEDED once this passes.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Encode only: when set and it becomes true, the sequences not yet run are not, and Encode
  // returns CANCELLED (Generate takes GenerationRequest::cancelled). Default none.
  const std::atomic<bool>* cancelled = nullptr;
};

struct SchedulerStats {
  int64_t requests = 0;
  int64_t iterations = 0;
  // Sequences and tokens summed over iterations (their mean is the batch size).
  int64_t batched_sequences = 0;
  int64_t batched_tokens = 0;
  int64_t max_batch_sequences = 0;
  // Prompt tokens served from the prefix cache, and prompt tokens run.
  int64_t prefix_hit_tokens = 0;
  int64_t prefill_tokens = 0;
  int64_t evicted_blocks = 0;
  // Sequences whose KV memory went to older ones (recomputed later), and how many of them wait
  // to resume now.
  int64_t preemptions = 0;
  int64_t preempted_waiting = 0;
  int64_t rejected_queue_full = 0;
  // Requests their callers cancelled while they waited, taken out of the queue unrun.
  int64_t withdrawn_waiting = 0;
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;
  int64_t kv_blocks_cached = 0;  // as of the last forward pass
};

class Scheduler {
 public:
  // `model` and `tokenizer` are borrowed and must outlive the scheduler.
  static absl::StatusOr<std::unique_ptr<Scheduler>> Create(Model& model, const Tokenizer& tokenizer,
                                                           const SchedulerOptions& options);
  virtual ~Scheduler() = default;

  // Runs one request to the end. The request's borrowed pointers (constraint, cancelled, draft
  // model) must stay valid until it returns. request.cached_prompt_tokens is ignored (the
  // prefix cache decides).
  virtual absl::StatusOr<GenerationResult> Generate(const GenerationRequest& request, const RequestOptions& options,
                                                    const GenerationCallback& on_delta) = 0;
  // Runs each token sequence for its final hidden states ([tokens, hidden_size] each), in the
  // same batched passes as generation (as prefills, within the token budget). Blocks until all
  // are done; the first failure is the answer. The sequences take the queue a slice of 32 at a
  // time, so a call of thousands neither fills it for other callers nor outlives
  // options.cancelled by more than a slice. Embeddings use it.
  virtual absl::StatusOr<std::vector<std::vector<float>>> Encode(std::span<const std::vector<int32_t>> sequences,
                                                                 const RequestOptions& options) = 0;
  virtual SchedulerStats stats() const = 0;
};

}  // namespace engine

#endif  // AGENTD_ENGINE_SCHEDULER_H_
