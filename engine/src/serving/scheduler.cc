#include "engine/scheduler.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "model/kv_cache.h"
#include "serving/prefix_cache.h"
#include "serving/sequence.h"

namespace engine {
namespace {

using Clock = std::chrono::steady_clock;

// One request from its caller's Generate to its result. The scheduler thread produces deltas
// and the result; the caller's thread consumes them.
struct Job {
  GenerationRequest request;  // request.cancelled points at `cancel`
  RequestOptions options;
  const std::atomic<bool>* caller_cancelled = nullptr;
  std::atomic<bool> cancel{false};
  bool wants_deltas = true;  // false: the caller waits for the result only
  // Taken from its queue by the scheduler (set under the scheduler's mutex): from then on a
  // cancellation is heard by its sequence, no longer by its waiting caller.
  std::atomic<bool> admitted{false};
  uint64_t admitted_order = 0;
  // When preempted: how many requests had finished by then (it resumes after the next one).
  uint64_t finished_when_preempted = 0;

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<GenerationDelta> deltas;
  bool finished = false;
  absl::StatusOr<GenerationResult> result = absl::UnknownError("not run");

  // Scheduler thread only.
  std::unique_ptr<serving::Sequence> sequence;

  // A cancellation from the caller's own flag becomes this job's; true when cancelled.
  bool Cancelled() {
    if (caller_cancelled != nullptr && caller_cancelled->load()) cancel.store(true);
    return cancel.load();
  }
  bool Expired() const { return options.deadline && std::chrono::steady_clock::now() >= *options.deadline; }

  void Deliver(absl::StatusOr<GenerationResult> outcome) {
    std::lock_guard<std::mutex> lock(mutex);
    result = std::move(outcome);
    finished = true;
    changed.notify_all();
  }
};

class BatchScheduler final : public Scheduler {
 public:
  BatchScheduler(Model& model, const Tokenizer& tokenizer, const SchedulerOptions& options, int64_t blocks)
      : model_(model), tokenizer_(tokenizer), options_(options) {
    pool_ = model_.NewBlockPool(
        {.block_size = options.block_size, .max_blocks = blocks, .store_hidden = model_.has_mtp()});
    prefix_ = std::make_unique<serving::PrefixCache>(pool_.get());
    thread_ = std::thread([this] { Loop(); });
  }

  ~BatchScheduler() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  // Sequences of one Encode call in the queue at a time.
  static constexpr size_t kEncodeSlice = 32;

  static std::shared_ptr<Job> NewJob(const GenerationRequest& request, const RequestOptions& options, bool wants_deltas) {
    auto job = std::make_shared<Job>();
    job->request = request;
    job->request.cached_prompt_tokens = 0;
    job->caller_cancelled = request.cancelled;
    job->request.cancelled = &job->cancel;
    job->options = options;
    job->wants_deltas = wants_deltas;
    return job;
  }

  // Queues jobs (all or none) unless the engine stops or the queue is already full.
  absl::Status Enqueue(std::span<const std::shared_ptr<Job>> jobs, const std::string& tenant) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return absl::UnavailableError("the engine is shutting down");
      // A full queue still takes a tenant that has fewer than its reserved places waiting, so
      // one tenant filling it cannot refuse the others (admission is round robin, so those few
      // are served in turn with the full tenant's).
      auto queue = queues_.find(tenant);
      const int mine = queue == queues_.end() ? 0 : static_cast<int>(queue->second.size());
      // (A tenant alone has all of waiting_, so for it this is the plain bound.)
      const int reserved = std::min(options_.waiting_reserved_per_tenant, options_.max_waiting);
      if (waiting_ >= options_.max_waiting && mine >= reserved) {
        ++stats_.rejected_queue_full;
        return absl::ResourceExhaustedError(absl::StrCat("the engine's queue is full (", waiting_,
                                                         " requests waiting, ", mine, " of them this tenant's); retry later"));
      }
      for (const auto& job : jobs) queues_[tenant].push_back(job);
      waiting_ += static_cast<int>(jobs.size());
      stats_.requests += static_cast<int64_t>(jobs.size());
    }
    wake_.notify_all();
    return absl::OkStatus();
  }

  // How often a caller whose request waits in the queue looks at its cancellation flag (set by
  // gRPC or HTTP from their own threads, with nothing to wake anyone).
  static constexpr std::chrono::milliseconds kQueuedCancelPoll{20};

  // Takes a job that is still waiting out of its queue and gives it `outcome`; false when the
  // scheduler has taken it already (or shut down, answering it itself).
  bool Withdraw(const std::shared_ptr<Job>& job, absl::StatusOr<GenerationResult> outcome) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto queue = queues_.find(job->options.tenant);
      if (queue == queues_.end()) return false;
      auto it = std::find(queue->second.begin(), queue->second.end(), job);
      if (it == queue->second.end()) return false;
      queue->second.erase(it);
      if (queue->second.empty()) queues_.erase(queue);
      --waiting_;
      ++stats_.withdrawn_waiting;
    }
    job->Deliver(std::move(outcome));
    return true;
  }

  // Waits (job->mutex held by `lock`) until `ready`. A waiting request's cancellation used to
  // be heard only once the scheduler admitted it, so a cancelled call kept its queue place and
  // its caller (the daemon's stream slot, a call-pool thread) for as long as the batch stayed
  // full; while the job is queued its caller now looks at the flag itself and takes it out of
  // the queue, answered with `on_cancel`.
  template <typename Ready>
  void WaitHearingCancellation(const std::shared_ptr<Job>& job, std::unique_lock<std::mutex>& lock, Ready ready,
                               const absl::StatusOr<GenerationResult>& on_cancel) {
    while (!ready()) {
      if (job->admitted.load() || job->caller_cancelled == nullptr) {
        job->changed.wait(lock, ready);
        return;
      }
      if (job->changed.wait_for(lock, kQueuedCancelPoll, ready)) return;
      if (!job->Cancelled()) continue;
      lock.unlock();
      const bool withdrawn = Withdraw(job, on_cancel);
      lock.lock();
      if (!withdrawn) {
        job->changed.wait(lock, ready);  // admitted: its sequence ends at its next step
        return;
      }
    }
  }

  absl::StatusOr<std::vector<std::vector<float>>> Encode(std::span<const std::vector<int32_t>> sequences,
                                                         const RequestOptions& options) override {
    std::vector<std::shared_ptr<Job>> jobs;
    for (const auto& tokens : sequences) {
      GenerationRequest request;
      request.prompt = tokens;
      request.encode_only = true;
      request.cancelled = options.cancelled;
      jobs.push_back(NewJob(request, options, /*wants_deltas=*/false));
    }
    // A call's texts enter the queue a slice at a time, each once the slice before it has
    // finished: 2,048 texts entered at once took the queue's 256 places eight times over, and
    // every other tenant's request was refused until they drained (minutes). A slice (a small
    // document's chunks) still enters whole, and between slices the caller's cancellation is
    // heard (a server shutting down waited for all of them).
    std::vector<std::vector<float>> hidden(jobs.size());
    for (size_t first = 0; first < jobs.size(); first += kEncodeSlice) {
      if (options.cancelled != nullptr && options.cancelled->load()) return absl::CancelledError("encoding cancelled");
      const size_t count = std::min(kEncodeSlice, jobs.size() - first);
      absl::Status queued = Enqueue(std::span<const std::shared_ptr<Job>>(jobs).subspan(first, count), options.tenant);
      if (!queued.ok()) return queued;
      absl::Status first_error;
      for (size_t i = first; i < first + count; ++i) {
        Job& job = *jobs[i];
        std::unique_lock<std::mutex> lock(job.mutex);
        WaitHearingCancellation(jobs[i], lock, [&] { return job.finished; }, absl::CancelledError("encoding cancelled"));
        if (!job.result.ok()) {
          if (first_error.ok()) first_error = job.result.status();
          continue;
        }
        hidden[i] = std::move(job.result->hidden);
      }
      if (!first_error.ok()) return first_error;
    }
    return hidden;
  }

  absl::StatusOr<GenerationResult> Generate(const GenerationRequest& request, const RequestOptions& options,
                                            const GenerationCallback& on_delta) override {
    std::shared_ptr<Job> job = NewJob(request, options, static_cast<bool>(on_delta));
    absl::Status queued = Enqueue(std::span(&job, 1), options.tenant);
    if (!queued.ok()) return queued;

    // Deltas are handed to on_delta here, on the caller's thread. The scheduler may have run
    // ahead of a caller that cancels; the result then ends where the caller stopped reading.
    std::unique_lock<std::mutex> lock(job->mutex);
    bool caller_stopped = false;
    size_t seen_tokens = 0;
    std::string seen_text;
    // What a request cancelled before it ran gave when it was admitted only to end at once.
    GenerationResult cancelled_waiting;
    cancelled_waiting.finish_reason = FinishReason::kCancelled;
    cancelled_waiting.prompt_tokens = static_cast<int64_t>(job->request.prompt.size());
    while (true) {
      WaitHearingCancellation(job, lock, [&] { return job->finished || !job->deltas.empty(); }, cancelled_waiting);
      while (!job->deltas.empty()) {
        GenerationDelta delta = std::move(job->deltas.front());
        job->deltas.pop_front();
        if (caller_stopped) continue;
        seen_tokens += delta.token_ids.size();
        seen_text += delta.text;
        lock.unlock();
        const bool go_on = !on_delta || on_delta(delta);
        lock.lock();
        if (!go_on) {
          caller_stopped = true;
          job->cancel.store(true);
        }
      }
      if (job->finished && job->deltas.empty()) break;
    }
    if (caller_stopped && job->result.ok()) {
      GenerationResult& r = *job->result;
      if (r.tokens.size() > seen_tokens) r.tokens.resize(seen_tokens);
      r.completion_tokens = static_cast<int64_t>(r.tokens.size());
      r.text = std::move(seen_text);
      r.finish_reason = FinishReason::kCancelled;
      r.matched_stop.clear();
    }
    return std::move(job->result);
  }

  SchedulerStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    SchedulerStats s = stats_;
    s.waiting = waiting_;
    s.running = static_cast<int64_t>(running_.size());
    s.kv_blocks_total = pool_->max_blocks();
    s.kv_blocks_used = pool_->blocks_in_use();
    return s;
  }

 private:
  void Loop() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || waiting_ > 0 || !running_.empty() || !preempted_.empty(); });
        if (stop_) break;
      }
      Admit();
      Iterate();
    }
    // Shutdown: everyone still here gets an answer.
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& job : running_) job->Deliver(absl::UnavailableError("the engine is shutting down"));
    running_.clear();
    for (auto& job : preempted_) job->Deliver(absl::UnavailableError("the engine is shutting down"));
    preempted_.clear();
    for (auto& [tenant, queue] : queues_) {
      for (auto& job : queue) job->Deliver(absl::UnavailableError("the engine is shutting down"));
    }
    queues_.clear();
  }

  int64_t BlocksFor(int64_t positions) const { return (positions + pool_->block_size() - 1) / pool_->block_size(); }

  // Moves waiting requests into the batch, one tenant after another, while there is room.
  // Preempted requests come back first; while one waits, or while a running sequence found no
  // KV memory in the last pass, new requests wait too (they would take the memory the older
  // requests need to finish).
  void Admit() {
    if (!ResumePreempted() || kv_starved_) return;
    while (true) {
      std::shared_ptr<Job> job;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (waiting_ == 0 || static_cast<int>(running_.size()) >= options_.max_running) return;
        std::map<std::string, int> running_by_tenant;
        for (const auto& running : running_) ++running_by_tenant[running->options.tenant];
        const int per_tenant = options_.max_running_per_tenant > 0 ? options_.max_running_per_tenant
                                                                  : options_.max_running;
        // Round robin: the first non-empty queue after the tenant admitted last, of a tenant
        // that holds fewer than its share of the batch.
        auto it = queues_.upper_bound(last_tenant_);
        bool found = false;
        for (size_t tried = 0; tried <= queues_.size() && !found; ++tried) {
          if (it == queues_.end()) it = queues_.begin();
          if (it == queues_.end()) break;
          found = !it->second.empty() && running_by_tenant[it->first] < per_tenant;
          if (!found) ++it;
        }
        if (!found) return;
        job = it->second.front();
        job->admitted.store(true);
        const std::string tenant = it->first;
        it->second.pop_front();
        if (it->second.empty()) queues_.erase(it);
        last_tenant_ = tenant;
        --waiting_;
      }
      StartSequence(job);
    }
  }

  // Resumes preempted requests, oldest first, once a request has finished since they were
  // preempted (or nothing else runs) and their context fits in KV memory; true when none is
  // left waiting.
  bool ResumePreempted() {
    while (!preempted_.empty()) {
      std::shared_ptr<Job> job = preempted_.front();
      serving::Sequence& seq = *job->sequence;
      const bool expired = job->Expired();
      if (job->Cancelled() || expired) {
        PopPreempted();
        seq.Abort(FinishReason::kCancelled);
        Finish(job, expired ? absl::DeadlineExceededError("deadline passed while preempted") : absl::OkStatus());
        continue;
      }
      bool alone;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (static_cast<int>(running_.size()) >= options_.max_running) return false;
        alone = running_.empty();
      }
      if (!alone && finished_ == job->finished_when_preempted) return false;
      auto cache = model_.NewCache(pool_);
      // Encoding needs every position's hidden state, which cached blocks do not keep.
      if (options_.prefix_caching && !seq.request().encode_only) {
        std::vector<int32_t> shared = prefix_->Match(job->options.tenant, std::span(seq.context()).first(seq.prefill_end()),
                                                     /*keep_uncached=*/1);
        static_cast<model::PagedKvCache*>(cache.get())->AdoptPrefix(shared);
      }
      // Room for the whole recompute and the next token (a sequence alone goes ahead anyway:
      // if it cannot fit even then, the next pass fails it).
      const int64_t needed = BlocksFor(seq.prefill_end() + 1) - BlocksFor(cache->length()) + 1;
      if (pool_->free_blocks() < needed) {
        const int64_t evicted = prefix_->Evict(needed);
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.evicted_blocks += evicted;
      }
      if (pool_->free_blocks() < needed && !alone) return false;  // `cache` lets its prefix go
      PopPreempted();
      absl::Status resumed = seq.Resume(std::move(cache));
      if (!resumed.ok()) {
        seq.Abort(FinishReason::kCancelled);
        Finish(job, resumed);
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      running_.push_back(job);
    }
    return true;
  }

  void PopPreempted() {
    preempted_.pop_front();
    std::lock_guard<std::mutex> lock(mutex_);
    --stats_.preempted_waiting;
  }

  // Takes a running sequence's KV memory away so older ones can go on. Its full blocks go to
  // the prefix cache, so the resume recomputes only what eviction has taken meanwhile.
  void Preempt(const std::shared_ptr<Job>& job) {
    RememberPrefix(*job);
    job->sequence->Preempt().reset();
    job->finished_when_preempted = finished_;
    auto at = std::upper_bound(preempted_.begin(), preempted_.end(), job, [](const auto& a, const auto& b) {
      return a->admitted_order < b->admitted_order;
    });
    preempted_.insert(at, job);
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(std::remove(running_.begin(), running_.end(), job), running_.end());
    ++stats_.preemptions;
    ++stats_.preempted_waiting;
  }

  void StartSequence(const std::shared_ptr<Job>& job) {
    auto cache = model_.NewCache(pool_);
    std::vector<int32_t> shared;
    if (options_.prefix_caching && !job->request.prompt.empty() && !job->request.encode_only) {
      shared = prefix_->Match(job->options.tenant, job->request.prompt, /*keep_uncached=*/1);
      static_cast<model::PagedKvCache*>(cache.get())->AdoptPrefix(shared);
    }
    job->request.cached_prompt_tokens = cache->length();
    std::weak_ptr<Job> weak = job;
    GenerationCallback to_caller = [weak](const GenerationDelta& delta) {
      std::shared_ptr<Job> j = weak.lock();
      if (j == nullptr) return false;
      if (!j->wants_deltas) return !j->cancel.load();
      std::lock_guard<std::mutex> lock(j->mutex);
      j->deltas.push_back(delta);
      j->changed.notify_all();
      return !j->cancel.load();
    };
    absl::StatusOr<std::unique_ptr<serving::Sequence>> sequence =
        serving::Sequence::Create(model_, tokenizer_, job->request, std::move(to_caller), std::move(cache));
    if (!sequence.ok()) {
      job->Deliver(sequence.status());
      return;
    }
    job->sequence = std::move(*sequence);
    job->admitted_order = ++admitted_;
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.prefix_hit_tokens += job->request.cached_prompt_tokens;
    running_.push_back(job);
  }

  // One forward pass over every sequence that can make progress.
  void Iterate() {
    std::vector<std::shared_ptr<Job>> running;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running = running_;
    }
    kv_starved_ = false;
    if (running.empty()) return;
    // Decoding sequences first, so prompts never stall them; the rotation spreads the budget.
    std::stable_partition(running.begin(), running.end(), [](const auto& j) { return !j->sequence->prefilling(); });
    const size_t decoding = static_cast<size_t>(std::count_if(
        running.begin(), running.end(), [](const auto& j) { return !j->sequence->prefilling(); }));
    if (decoding > 0) std::rotate(running.begin(), running.begin() + (rotation_++ % decoding), running.begin() + decoding);

    std::vector<std::shared_ptr<Job>> batch_jobs;
    std::vector<serving::Sequence::Step> steps;
    int64_t budget = options_.max_batch_tokens;
    int64_t reserved_blocks = 0;
    bool starved = false;
    for (const auto& job : running) {
      serving::Sequence& seq = *job->sequence;
      job->Cancelled();  // the sequence sees it when it plans its step
      if (job->Expired()) {
        seq.Abort(FinishReason::kCancelled);
        Finish(job, absl::DeadlineExceededError(absl::StrCat("deadline passed after ", seq.context().size() -
                                                                                           seq.request().prompt.size(),
                                                             " generated tokens")));
        continue;
      }
      const bool prefill = seq.prefilling();
      const int64_t wanted = prefill ? std::min(seq.prompt_left(), budget)
                                     : 1 + (seq.request().speculation.mode != SpeculationConfig::Mode::kNone
                                                ? seq.request().speculation.num_draft_tokens
                                                : 0);
      if (wanted <= 0 || (wanted > budget && !batch_jobs.empty())) continue;
      // Blocks the step may take, plus one for a copy-on-write of a shared block.
      const int64_t length = seq.cache()->length();
      const int64_t blocks = BlocksFor(length + wanted) - BlocksFor(length) + 1;
      if (pool_->free_blocks() < reserved_blocks + blocks) {
        const int64_t evicted = prefix_->Evict(reserved_blocks + blocks);
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.evicted_blocks += evicted;
      }
      if (pool_->free_blocks() < reserved_blocks + blocks) {
        starved = true;
        continue;
      }
      absl::StatusOr<serving::Sequence::Step> step = seq.Plan(prefill ? wanted : budget);
      if (!step.ok()) {
        Finish(job, step.status());
        continue;
      }
      if (seq.done()) {
        Finish(job, absl::OkStatus());
        continue;
      }
      budget -= static_cast<int64_t>(step->tokens.size());
      reserved_blocks += blocks;
      batch_jobs.push_back(job);
      steps.push_back(std::move(*step));
    }
    kv_starved_ = starved;
    if (batch_jobs.empty()) {
      if (starved) {
        // Nothing fits in KV memory even after eviction: the newest sequence gives way. It is
        // preempted and recomputed later; one that cannot fit even alone fails.
        std::shared_ptr<Job> newest;
        int64_t live = 0;
        for (const auto& job : running) {
          if (job->sequence == nullptr) continue;
          ++live;
          if (newest == nullptr || job->admitted_order > newest->admitted_order) newest = job;
        }
        if (newest != nullptr && live > 1) {
          Preempt(newest);
        } else if (newest != nullptr) {
          newest->sequence->Abort(FinishReason::kCancelled);
          Finish(newest, absl::ResourceExhaustedError(absl::StrCat(
                             "KV cache memory is exhausted (", pool_->max_blocks(), " blocks of ",
                             pool_->block_size(), " positions) by one request; raise the engine's KV memory or "
                             "send a shorter request")));
        }
      }
      return;
    }

    std::vector<ForwardResult> results(batch_jobs.size());
    std::vector<BatchEntry> entries;
    int64_t tokens = 0;
    for (size_t i = 0; i < batch_jobs.size(); ++i) {
      entries.push_back({steps[i].tokens, batch_jobs[i]->sequence->cache(), steps[i].options, &results[i]});
      tokens += static_cast<int64_t>(steps[i].tokens.size());
    }
    absl::Status status = model_.ForwardBatch(entries);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.iterations;
      stats_.kv_blocks_cached = prefix_->cached_blocks();
      stats_.batched_sequences += static_cast<int64_t>(batch_jobs.size());
      stats_.batched_tokens += tokens;
      stats_.max_batch_sequences = std::max<int64_t>(stats_.max_batch_sequences, static_cast<int64_t>(batch_jobs.size()));
      for (size_t i = 0; i < batch_jobs.size(); ++i) {
        if (batch_jobs[i]->sequence->prefilling()) stats_.prefill_tokens += static_cast<int64_t>(steps[i].tokens.size());
      }
    }
    for (size_t i = 0; i < batch_jobs.size(); ++i) {
      const auto& job = batch_jobs[i];
      serving::Sequence& seq = *job->sequence;
      if (!status.ok()) {
        Finish(job, status);
        continue;
      }
      const bool was_prefilling = seq.prefilling();
      absl::Status consumed = seq.Consume(results[i]);
      if (!consumed.ok()) {
        Finish(job, consumed);
        continue;
      }
      // A finished prompt is worth sharing at once: the next plan step may already be waiting.
      if (was_prefilling && !seq.prefilling()) RememberPrefix(*job);
      if (seq.done()) Finish(job, absl::OkStatus());
    }
  }

  void RememberPrefix(Job& job) {
    serving::Sequence& seq = *job.sequence;
    // Encoded texts (documents for memory) are not worth keeping for later prompts.
    if (!options_.prefix_caching || seq.preempted() || seq.request().encode_only) return;
    auto* cache = static_cast<model::PagedKvCache*>(seq.cache());
    prefix_->Insert(job.options.tenant, std::span(seq.context()).first(cache->length()), cache->blocks());
  }

  // Ends a job: the result (or `error`), its blocks to the prefix cache, its slot freed.
  void Finish(const std::shared_ptr<Job>& job, const absl::Status& error) {
    if (job->sequence == nullptr) return;
    if (error.ok() || job->sequence->done()) RememberPrefix(*job);
    GenerationResult result = job->sequence->Finish();
    result.admission_order = job->admitted_order;
    job->sequence.reset();
    ++finished_;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_.erase(std::remove(running_.begin(), running_.end(), job), running_.end());
    }
    if (error.ok()) {
      job->Deliver(std::move(result));
    } else {
      job->Deliver(error);
    }
  }

  Model& model_;
  const Tokenizer& tokenizer_;
  const SchedulerOptions options_;
  std::shared_ptr<KvBlockPool> pool_;
  std::unique_ptr<serving::PrefixCache> prefix_;  // scheduler thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::map<std::string, std::deque<std::shared_ptr<Job>>> queues_;
  std::string last_tenant_;
  int waiting_ = 0;
  std::vector<std::shared_ptr<Job>> running_;
  SchedulerStats stats_;
  // Scheduler thread only: preempted requests by admission order, requests finished so far,
  // and whether the last pass left a sequence without KV memory.
  std::deque<std::shared_ptr<Job>> preempted_;
  uint64_t finished_ = 0;
  bool kv_starved_ = false;
  uint64_t admitted_ = 0;
  uint64_t rotation_ = 0;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(Model& model, const Tokenizer& tokenizer,
                                                             const SchedulerOptions& options) {
  if (options.max_running < 1) return absl::InvalidArgumentError("max_running: must be at least 1");
  if (options.max_batch_tokens < 1) return absl::InvalidArgumentError("max_batch_tokens: must be at least 1");
  if (options.max_running_per_tenant < 0 || options.max_running_per_tenant > options.max_running) {
    return absl::InvalidArgumentError("max_running_per_tenant: must be between 0 and max_running");
  }
  if (options.max_waiting < 0) return absl::InvalidArgumentError("max_waiting: must not be negative");
  if (options.waiting_reserved_per_tenant < 0) {
    return absl::InvalidArgumentError("waiting_reserved_per_tenant: must not be negative");
  }
  if (options.block_size < 1 || (options.block_size & (options.block_size - 1)) != 0) {
    return absl::InvalidArgumentError("block_size: must be a power of two");
  }
  const uint64_t block_bytes = model.NewBlockPool({.block_size = options.block_size, .max_blocks = 1,
                                                   .store_hidden = model.has_mtp()})
                                   ->block_bytes();
  const int64_t blocks = static_cast<int64_t>(options.kv_cache_bytes / block_bytes);
  // At least one sequence must fit a full context.
  const int64_t minimum = (model.config().max_position_embeddings + options.block_size - 1) / options.block_size + 2;
  if (blocks < std::min<int64_t>(minimum, 64)) {
    return absl::InvalidArgumentError(absl::StrCat("kv_cache_bytes: ", options.kv_cache_bytes, " bytes hold ", blocks,
                                                   " blocks of ", block_bytes, " bytes; at least ",
                                                   std::min<int64_t>(minimum, 64), " are needed"));
  }
  return std::unique_ptr<Scheduler>(new BatchScheduler(model, tokenizer, options, blocks));
}

}  // namespace engine
