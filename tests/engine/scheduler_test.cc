// The batching scheduler: concurrent requests give exactly what each gives alone (batching,
// chunked prefill and prefix caching change no token), prompts sharing a prefix skip its
// prefill, and the limits (queue, KV memory, deadlines, cancellation, tenant fairness) hold.
// Tests whose outcome depends on what the scheduler thread has done when a request arrives drive
// it pass by pass through a GatedModel: no sleep or spin decides what they check.
#include "engine/scheduler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/gated_model.h"
#include "engine/tiny_chat_model_test_base.h"

#include "engine/generation.h"
#include "engine/model.h"
#include "engine/tokenizer.h"

namespace engine {
namespace {

using Mode = SpeculationConfig::Mode;

// Waits until `done` holds; false after a minute (a failure, not a hang to the ctest timeout).
bool Eventually(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

class SchedulerTest : public TinyChatModelTestBase {
 protected:
  std::unique_ptr<Scheduler> MakeScheduler(const SchedulerOptions& options) { return MakeScheduler(*model_, options); }
  std::unique_ptr<Scheduler> MakeScheduler(Model& model, const SchedulerOptions& options) {
    auto scheduler = Scheduler::Create(model, *tokenizer_, options);
    EXPECT_TRUE(scheduler.ok()) << scheduler.status();
    return scheduler.ok() ? std::move(*scheduler) : nullptr;
  }

  GenerationRequest Request(const std::string& prompt, int max_tokens) {
    GenerationRequest request;
    request.prompt = tokenizer_->Encode(prompt);
    request.max_tokens = max_tokens;
    request.ignore_eos = true;
    return request;
  }

  // What the request gives run alone, without the scheduler.
  std::vector<int32_t> Alone(const GenerationRequest& request) {
    auto result = Generate(*model_, *tokenizer_, request, nullptr);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->tokens : std::vector<int32_t>{};
  }

};

TEST_F(SchedulerTest, ConcurrentRequestsMatchWhatEachGivesAlone) {
  GatedModel gated(*model_);
  auto scheduler = MakeScheduler(gated, {.max_batch_tokens = 24});
  std::vector<GenerationRequest> requests;
  const char* prompts[] = {"the theory of", "a station", "of the station of the theory of the station",
                           "theory", "the the the", "station of a theory of a station of a theory"};
  for (int i = 0; i < 12; ++i) {
    GenerationRequest r = Request(prompts[i % 6], 30 + 7 * i);
    r.sampling.repetition_penalty = i % 3 == 0 ? 1.2f : 1.0f;
    if (i % 4 == 1) r.speculation = {.mode = Mode::kMtp, .num_draft_tokens = 2};
    if (i % 4 == 2) r.speculation = {.mode = Mode::kNgram, .num_draft_tokens = 3};
    if (i % 5 == 4) {
      r.sampling.temperature = 0.8f;
      r.sampling.seed = 100 + i;
    }
    requests.push_back(r);
  }
  std::vector<std::vector<int32_t>> expected;
  for (const auto& r : requests) expected.push_back(Alone(r));

  std::vector<GenerationResult> got(requests.size());
  std::vector<std::string> streamed(requests.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i) {
    threads.emplace_back([&, i] {
      auto result = scheduler->Generate(requests[i], {.tenant = i % 2 ? "a" : "b"}, [&](const GenerationDelta& d) {
        streamed[i] += d.text;
        return true;
      });
      ASSERT_TRUE(result.ok()) << result.status();
      got[i] = *result;
    });
  }
  // All twelve are queued before the second pass, so they share batches from then on.
  EXPECT_TRUE(Eventually([&] { return scheduler->stats().requests == 12; }));
  gated.Open();
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(got[i].tokens, expected[i]) << "request " << i;
    EXPECT_EQ(streamed[i], got[i].text) << "request " << i;
  }
  const SchedulerStats stats = scheduler->stats();
  std::printf("%lld iterations, mean batch %.2f sequences, largest %lld, prefix hits %lld tokens\n",
              static_cast<long long>(stats.iterations),
              static_cast<double>(stats.batched_sequences) / static_cast<double>(stats.iterations),
              static_cast<long long>(stats.max_batch_sequences), static_cast<long long>(stats.prefix_hit_tokens));
  EXPECT_EQ(stats.requests, 12);
  EXPECT_GT(stats.max_batch_sequences, 1);
  EXPECT_EQ(stats.running, 0);
}

TEST_F(SchedulerTest, SharedPrefixesSkipTheirPrefillAndChangeNothing) {
  auto scheduler = MakeScheduler({.max_batch_tokens = 16, .block_size = 8});
  const std::string system = "the station of the theory of a station of the theory of the station of a theory of ";
  for (Mode mode : {Mode::kNone, Mode::kMtp}) {
    for (const std::string& question : std::vector<std::string>{"the theory", "a station of", "the theory"}) {
      GenerationRequest request = Request(system + question, 24);
      request.speculation = {.mode = mode, .num_draft_tokens = 2};
      const std::vector<int32_t> expected = Alone(request);
      auto result = scheduler->Generate(request, {}, nullptr);
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(result->tokens, expected) << question;
      EXPECT_EQ(result->prompt_tokens, static_cast<int64_t>(request.prompt.size()));
      // Every request after the first finds at least the shared part's full blocks.
      if (mode != Mode::kNone || question != "the theory" || result->cached_prompt_tokens > 0) {
        EXPECT_GE(result->cached_prompt_tokens, 8 * (static_cast<int64_t>(tokenizer_->Encode(system).size()) / 8))
            << question;
      }
      EXPECT_LT(result->cached_prompt_tokens, result->prompt_tokens);
    }
  }
  EXPECT_GT(scheduler->stats().prefix_hit_tokens, 0);
}

TEST_F(SchedulerTest, TheOnlyPrefixesSharedAreATenantsOwn) {
  // A request adopts cached blocks only from its own tenant's requests: another tenant's timing
  // must say nothing about what this one sent (the side channel of vLLM's CVE-2025-46570).
  auto scheduler = MakeScheduler({.max_batch_tokens = 16, .block_size = 8});
  const GenerationRequest request =
      Request("the station of the theory of a station of the theory of the station of a theory of the theory", 4);
  const std::vector<int32_t> expected = Alone(request);
  auto first = scheduler->Generate(request, {.tenant = "acme"}, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->cached_prompt_tokens, 0);
  auto other_tenant = scheduler->Generate(request, {.tenant = "globex"}, nullptr);
  ASSERT_TRUE(other_tenant.ok()) << other_tenant.status();
  EXPECT_EQ(other_tenant->cached_prompt_tokens, 0) << "globex adopted acme's cached prefix";
  EXPECT_EQ(other_tenant->tokens, expected);
  auto same_tenant = scheduler->Generate(request, {.tenant = "acme"}, nullptr);
  ASSERT_TRUE(same_tenant.ok()) << same_tenant.status();
  EXPECT_GT(same_tenant->cached_prompt_tokens, 0);
  EXPECT_EQ(same_tenant->tokens, expected);
}

TEST_F(SchedulerTest, LongPromptsArePrefilledInChunks) {
  auto scheduler = MakeScheduler({.max_batch_tokens = 5, .prefix_caching = false});
  GenerationRequest request = Request("the station of the theory of a station of the theory of the station", 10);
  ASSERT_GT(request.prompt.size(), 20u);
  auto result = scheduler->Generate(request, {}, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tokens, Alone(request));
  EXPECT_EQ(result->cached_prompt_tokens, 0);
  // ceil(prompt / 5) prefill passes, then one per further token.
  EXPECT_EQ(scheduler->stats().iterations, static_cast<int64_t>((request.prompt.size() + 4) / 5) + 9);
}

TEST_F(SchedulerTest, AFullQueueIsRefusedAndCancellationAndDeadlinesEndRequests) {
  GatedModel gated(*model_);
  auto scheduler = MakeScheduler(gated, {.max_running = 1, .max_waiting = 1});
  std::atomic<bool> stop_blocker{false};
  GenerationRequest blocker = Request("the theory of", 1900);
  blocker.cancelled = &stop_blocker;
  absl::StatusOr<GenerationResult> blocker_result;
  std::thread first([&] { blocker_result = scheduler->Generate(blocker, {}, nullptr); });
  // The blocker holds the only running slot (its first pass waits at the gate); one request may
  // wait; the next is refused.
  gated.WaitUntilHeldAfter(0);
  absl::StatusOr<GenerationResult> waiting_result;
  std::thread second([&] {
    waiting_result = scheduler->Generate(Request("a station", 5), {.deadline = std::chrono::steady_clock::now()}, nullptr);
  });
  EXPECT_TRUE(Eventually([&] { return scheduler->stats().waiting == 1; }));
  auto refused = scheduler->Generate(Request("theory", 5), {}, nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(scheduler->stats().rejected_queue_full, 1);
  // Ten passes (ten tokens), then the caller's flag cancels the blocker.
  gated.Allow(10);
  gated.WaitUntilHeldAfter(10);
  stop_blocker = true;
  gated.Open();
  first.join();
  second.join();
  ASSERT_TRUE(blocker_result.ok()) << blocker_result.status();
  EXPECT_EQ(blocker_result->finish_reason, FinishReason::kCancelled);
  EXPECT_GE(blocker_result->completion_tokens, 10);
  EXPECT_LE(blocker_result->completion_tokens, 11);  // the pass held when the flag was set may still run
  EXPECT_EQ(waiting_result.status().code(), absl::StatusCode::kDeadlineExceeded);

  // A callback returning false ends the request where the caller stopped reading.
  int calls = 0;
  auto cancelled = scheduler->Generate(Request("the theory of", 200), {}, [&](const GenerationDelta&) { return ++calls < 3; });
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(cancelled->completion_tokens, 3);
}

// A request cancelled while it waited kept its queue place — and its caller: the daemon's
// stream slot and thread — until the scheduler admitted it only to end it, which with the batch
// full of long generations could be minutes. Its caller now takes it out of the queue, while
// the scheduler thread is still held inside a pass.
TEST_F(SchedulerTest, ARequestCancelledWhileWaitingLeavesTheQueueWithoutTheScheduler) {
  GatedModel gated(*model_);
  auto scheduler = MakeScheduler(gated, {.max_running = 1, .max_waiting = 1, .waiting_reserved_per_tenant = 0});
  std::atomic<bool> stop_blocker{false};
  GenerationRequest blocker = Request("the theory of", 1900);
  blocker.cancelled = &stop_blocker;
  std::thread first([&] { (void)scheduler->Generate(blocker, {}, nullptr); });
  gated.WaitUntilHeldAfter(0);  // the scheduler thread waits inside the blocker's first pass

  std::atomic<bool> cancel_waiting{false};
  std::atomic<bool> returned{false};
  absl::StatusOr<GenerationResult> waiting_result = absl::UnknownError("not run");
  GenerationRequest waiting = Request("a station", 5);
  waiting.cancelled = &cancel_waiting;
  std::thread second([&] {
    waiting_result = scheduler->Generate(waiting, {}, nullptr);
    returned = true;
  });
  EXPECT_TRUE(Eventually([&] { return scheduler->stats().waiting == 1; }));
  EXPECT_EQ(scheduler->Generate(Request("theory", 3), {}, nullptr).status().code(), absl::StatusCode::kResourceExhausted);

  cancel_waiting = true;
  EXPECT_TRUE(Eventually([&] { return returned.load(); })) << "the cancelled request is still waiting";
  // Answered and out of the queue, the scheduler not having moved.
  EXPECT_EQ(gated.completed(), 0);
  EXPECT_EQ(scheduler->stats().waiting, 0);
  EXPECT_EQ(scheduler->stats().withdrawn_waiting, 1);
  // Its place is free for the next request.
  absl::StatusOr<GenerationResult> next_result = absl::UnknownError("not run");
  std::thread third([&] { next_result = scheduler->Generate(Request("theory", 3), {}, nullptr); });
  EXPECT_TRUE(Eventually([&] { return scheduler->stats().waiting == 1; }));
  EXPECT_EQ(scheduler->stats().rejected_queue_full, 1);

  stop_blocker = true;
  gated.Open();
  first.join();
  second.join();
  third.join();
  ASSERT_TRUE(waiting_result.ok()) << waiting_result.status();
  EXPECT_EQ(waiting_result->finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(waiting_result->completion_tokens, 0);
  EXPECT_EQ(waiting_result->prompt_tokens, static_cast<int64_t>(waiting.prompt.size()));
  EXPECT_EQ(waiting_result->admission_order, 0u);  // never admitted
  ASSERT_TRUE(next_result.ok()) << next_result.status();
  EXPECT_EQ(next_result->completion_tokens, 3);
}

TEST_F(SchedulerTest, TenantsAreAdmittedRoundRobin) {
  GatedModel gated(*model_);
  auto scheduler = MakeScheduler(gated, {.max_running = 1});
  std::atomic<bool> stop_blocker{false};
  GenerationRequest blocker = Request("the theory of", 1900);
  blocker.cancelled = &stop_blocker;
  std::thread first([&] { (void)scheduler->Generate(blocker, {}, nullptr); });
  gated.WaitUntilHeldAfter(0);
  // With one running slot the requests run one after another, in the order the scheduler
  // admits them (which each result reports).
  std::vector<uint64_t> admitted(4);
  std::vector<std::thread> threads;
  const std::vector<std::pair<std::string, std::string>> submitted = {{"a", "a1"}, {"a", "a2"}, {"a", "a3"}, {"b", "b1"}};
  for (size_t i = 0; i < submitted.size(); ++i) {
    threads.emplace_back([&, i] {
      auto result = scheduler->Generate(Request("a station", 60), {.tenant = submitted[i].first}, nullptr);
      ASSERT_TRUE(result.ok()) << result.status();
      admitted[i] = result->admission_order;
    });
    EXPECT_TRUE(Eventually([&] { return scheduler->stats().waiting == static_cast<int64_t>(i + 1); }));
  }
  stop_blocker = true;
  gated.Open();
  first.join();
  for (auto& t : threads) t.join();
  std::vector<size_t> order = {0, 1, 2, 3};
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return admitted[a] < admitted[b]; });
  std::vector<std::string> finished;
  for (size_t i : order) finished.push_back(submitted[i].second);
  EXPECT_EQ(finished, (std::vector<std::string>{"a1", "b1", "a2", "a3"}));
}

// One tenant filling the queue refused every other tenant's requests until its own drained (a
// tenant's streams, runs and embedding slices all wait here). Every tenant now keeps a few
// places however full the queue is, and is admitted in turn with the one that filled it.
TEST_F(SchedulerTest, ATenantFillingTheQueueLeavesOthersTheirReservedPlaces) {
  GatedModel gated(*model_);
  auto scheduler = MakeScheduler(gated, {.max_running = 1, .max_waiting = 4, .waiting_reserved_per_tenant = 2});
  std::atomic<bool> stop_blocker{false};
  GenerationRequest blocker = Request("the theory of", 1900);
  blocker.cancelled = &stop_blocker;
  std::thread first([&] { (void)scheduler->Generate(blocker, {.tenant = "acme"}, nullptr); });
  gated.WaitUntilHeldAfter(0);
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<GenerationResult>> results(6, absl::UnknownError("not run"));
  auto submit = [&](size_t i, const std::string& tenant) {
    threads.emplace_back([&, i, tenant] { results[i] = scheduler->Generate(Request("a station", 4), {.tenant = tenant}, nullptr); });
    EXPECT_TRUE(Eventually([&] { return scheduler->stats().waiting == static_cast<int64_t>(i + 1); }));
  };
  for (size_t i = 0; i < 4; ++i) submit(i, "acme");
  // Acme has filled the queue: one more of its requests is refused, naming how many are its own.
  auto refused = scheduler->Generate(Request("theory", 4), {.tenant = "acme"}, nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("4 of them this tenant's"));
  // Globex still has its two places, and no more.
  submit(4, "globex");
  submit(5, "globex");
  auto beyond = scheduler->Generate(Request("theory", 4), {.tenant = "globex"}, nullptr);
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(scheduler->stats().rejected_queue_full, 2);

  stop_blocker = true;
  gated.Open();
  first.join();
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < results.size(); ++i) ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status();
  // Round robin: globex's first is admitted right after acme's first, not after all four.
  EXPECT_LT(results[4]->admission_order, results[1]->admission_order);
}

// A request holds its place in the batch until it ends: a tenant that filled the batch with
// long generations made every other tenant wait for the first of them to end (86 s for 8 tokens
// behind sixteen of 1,000 on the shipped model). A tenant now holds at most its share of the
// batch, and another tenant's request takes a place left over at the next pass.
TEST_F(SchedulerTest, ATenantHoldsAtMostItsShareOfTheBatch) {
  GatedModel gated(*model_);
  auto scheduler = MakeScheduler(gated, {.max_running = 3, .max_running_per_tenant = 2});
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<GenerationResult>> results(4, absl::UnknownError("not run"));
  auto submit = [&](size_t i, const std::string& tenant) {
    threads.emplace_back([&, i, tenant] {
      GenerationRequest request = Request("the theory of", 1900);
      request.cancelled = &stop;
      results[i] = scheduler->Generate(request, {.tenant = tenant}, nullptr);
    });
  };
  submit(0, "acme");
  gated.WaitUntilHeldAfter(0);  // acme's first runs
  submit(1, "acme");
  submit(2, "acme");
  EXPECT_TRUE(Eventually([&] { return scheduler->stats().waiting == 2; }));
  gated.Allow(1);
  gated.WaitUntilHeldAfter(1);
  // Acme's second joined; its third waits although a place is free.
  EXPECT_EQ(scheduler->stats().running, 2);
  EXPECT_EQ(scheduler->stats().waiting, 1);
  submit(3, "globex");
  EXPECT_TRUE(Eventually([&] { return scheduler->stats().waiting == 2; }));
  gated.Allow(1);
  gated.WaitUntilHeldAfter(2);
  // Globex took the free place at once; acme's third still waits.
  EXPECT_EQ(scheduler->stats().running, 3);
  EXPECT_EQ(scheduler->stats().waiting, 1);
  stop = true;
  gated.Open();
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < results.size(); ++i) EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].status();
}

TEST_F(SchedulerTest, KvMemoryIsBoundedEvictedAndExhaustedCleanly) {
  // 64 blocks of 16 positions: prompts' cached prefixes are evicted to make room, and a request
  // that cannot fit at all fails with RESOURCE_EXHAUSTED instead of stalling the engine.
  const uint64_t block_bytes = model_->NewBlockPool({.block_size = 16, .store_hidden = true})->block_bytes();
  auto scheduler = MakeScheduler({.kv_cache_bytes = 64 * block_bytes, .block_size = 16});
  for (int i = 0; i < 12; ++i) {
    std::string prompt;
    for (int j = 0; j < 12; ++j) prompt += (j + i) % 3 == 0 ? "the theory " : (j % 2 ? "of a station " : "station ");
    prompt += std::to_string(i);
    GenerationRequest request = Request(prompt, 90);
    auto result = scheduler->Generate(request, {}, nullptr);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->tokens, Alone(request));
  }
  SchedulerStats stats = scheduler->stats();
  EXPECT_GT(stats.evicted_blocks, 0);
  EXPECT_LE(stats.kv_blocks_used, 64);
  auto too_long = scheduler->Generate(Request("the theory of", 1500), {}, nullptr);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kResourceExhausted);
  // The engine is still fine afterwards.
  GenerationRequest after = Request("a station", 10);
  auto result = scheduler->Generate(after, {}, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tokens, Alone(after));
}

// Eight requests that together need twice the KV memory there is, each fitting alone: the
// newest give their memory up and are recomputed later, and every one still gives exactly what
// it gives alone (greedy, sampled, penalised, speculating), with its stream intact.
void RunUnderMemoryPressure(Model& model, const Tokenizer& tokenizer, bool prefix_caching) {
  const uint64_t block_bytes = model.NewBlockPool({.block_size = 16, .store_hidden = true})->block_bytes();
  GatedModel gated(model);
  auto scheduler = Scheduler::Create(gated, tokenizer,
                                     {.max_batch_tokens = 64, .kv_cache_bytes = 64 * block_bytes, .block_size = 16,
                                      .prefix_caching = prefix_caching});
  ASSERT_TRUE(scheduler.ok()) << scheduler.status();
  const char* prompts[] = {"the theory of a station", "a station of the theory", "of the station of the theory",
                           "theory of the the station"};
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < 8; ++i) {
    GenerationRequest r;
    r.prompt = tokenizer.Encode(prompts[i % 4]);
    r.max_tokens = 200 + 5 * i;
    r.ignore_eos = true;
    if (i % 4 == 1) r.speculation = {.mode = Mode::kMtp, .num_draft_tokens = 2};
    if (i % 4 == 2) r.speculation = {.mode = Mode::kNgram, .num_draft_tokens = 3};
    if (i % 3 == 0) r.sampling.repetition_penalty = 1.2f;
    if (i % 4 == 3) {
      r.sampling.temperature = 0.9f;
      r.sampling.seed = 7 + i;
    }
    requests.push_back(r);
  }
  std::vector<std::vector<int32_t>> expected;
  for (const auto& r : requests) {
    auto alone = Generate(model, tokenizer, r, nullptr);
    ASSERT_TRUE(alone.ok()) << alone.status();
    expected.push_back(alone->tokens);
  }
  std::vector<absl::StatusOr<GenerationResult>> got(requests.size(), absl::UnknownError("not run"));
  std::vector<std::string> streamed(requests.size());
  std::vector<std::thread> threads;
  // Request i joins the batch at pass i + 1, so they are admitted in this order and the last ones
  // are the newest: the ones that give way.
  for (size_t i = 0; i < requests.size(); ++i) {
    threads.emplace_back([&, i] {
      got[i] = (*scheduler)->Generate(requests[i], {}, [&](const GenerationDelta& d) {
        streamed[i] += d.text;
        return true;
      });
    });
    EXPECT_TRUE(Eventually([&] { return (*scheduler)->stats().requests == static_cast<int64_t>(i + 1); }));
    if (i > 0) gated.Allow(1);  // the held pass runs; the next one admits request i first
    gated.WaitUntilHeldAfter(static_cast<int64_t>(i));
  }
  gated.Open();
  for (auto& t : threads) t.join();
  std::vector<size_t> preempted;
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(got[i].ok()) << "request " << i << ": " << got[i].status();
    EXPECT_EQ(got[i]->tokens, expected[i]) << "request " << i;
    EXPECT_EQ(streamed[i], got[i]->text) << "request " << i;
    EXPECT_EQ(got[i]->admission_order, i + 1);
    if (got[i]->preemptions > 0) preempted.push_back(i);
  }
  const SchedulerStats stats = (*scheduler)->stats();
  std::printf("prefix caching %d: %lld preemptions, %lld prefill tokens, %lld evicted blocks; preempted:",
              prefix_caching, static_cast<long long>(stats.preemptions), static_cast<long long>(stats.prefill_tokens),
              static_cast<long long>(stats.evicted_blocks));
  for (size_t i : preempted) std::printf(" %zu", i);
  std::printf("\n");
  // Joining one pass apart, the four newest give way (sampled #7 and MTP-drafting #5 among
  // them, recomputed in the middle of their output) and the four oldest never do.
  EXPECT_EQ(preempted, (std::vector<size_t>{4, 5, 6, 7}));
  EXPECT_GE(stats.preemptions, 4);
  EXPECT_EQ(stats.preempted_waiting, 0);
  EXPECT_EQ(stats.running, 0);
  EXPECT_LE(stats.kv_blocks_used, 64);
}

TEST_F(SchedulerTest, PreemptedRequestsAreRecomputedAndGiveWhatTheyGiveAlone) {
  RunUnderMemoryPressure(*model_, *tokenizer_, /*prefix_caching=*/true);
}

TEST_F(SchedulerTest, PreemptionWorksWithoutThePrefixCache) {
  RunUnderMemoryPressure(*model_, *tokenizer_, /*prefix_caching=*/false);
}

// Encoding (embeddings) runs in the generation batches: each text's hidden states equal a plain
// forward pass over it, long texts are prefilled in chunks, and the generations running beside
// them give what they give alone — with ample KV memory and with a pool so small that requests
// are preempted.
TEST_F(SchedulerTest, EncodingJoinsTheBatchesAndMatchesAPlainForwardPass) {
  const uint64_t block_bytes = model_->NewBlockPool({.block_size = 16, .store_hidden = true})->block_bytes();
  const int64_t hidden = model_->config().hidden_size;
  std::vector<std::vector<int32_t>> texts;
  const char* words[] = {"the theory ", "of a station ", "station ", "a ", "theory of the "};
  for (int i = 0; i < 10; ++i) {
    std::string text;
    for (int j = 0; j < 3 + 9 * i; ++j) text += words[(i + j) % 5];
    texts.push_back(tokenizer_->Encode(text));
  }
  std::vector<std::vector<float>> expected;
  for (const auto& tokens : texts) {
    ForwardResult out;
    auto cache = model_->NewCache();
    ASSERT_TRUE(model_->Forward(tokens, cache.get(), {.return_hidden = true}, &out).ok());
    expected.push_back(out.hidden);
  }
  for (uint64_t kv_bytes : {uint64_t{2} << 30, 64 * block_bytes}) {
    SCOPED_TRACE(kv_bytes);
    GatedModel gated(*model_);
    auto scheduler = MakeScheduler(gated, {.max_batch_tokens = 48, .kv_cache_bytes = kv_bytes, .block_size = 16});
    std::vector<GenerationRequest> requests;
    for (int i = 0; i < 4; ++i) {
      // With the small pool, these four alone come close to filling it.
      GenerationRequest r = Request(i % 2 ? "the theory of" : "a station of", 230);
      if (i == 3) r.speculation = {.mode = Mode::kMtp, .num_draft_tokens = 2};
      requests.push_back(r);
    }
    std::vector<std::vector<int32_t>> generated(requests.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < requests.size(); ++i) {
      threads.emplace_back([&, i] {
        auto result = scheduler->Generate(requests[i], {}, nullptr);
        ASSERT_TRUE(result.ok()) << result.status();
        generated[i] = result->tokens;
      });
    }
    // The texts arrive while the generations are well under way and hold most of the memory:
    // the passes run one by one until 36 of the small pool's 64 blocks are taken.
    EXPECT_TRUE(Eventually([&] { return scheduler->stats().requests == static_cast<int64_t>(requests.size()); }));
    int64_t passes = 0;
    gated.WaitUntilHeldAfter(0);
    while (scheduler->stats().kv_blocks_used < 36 && passes < 300 && !HasFailure()) {
      gated.Allow(1);
      gated.WaitUntilHeldAfter(++passes);
    }
    std::printf("texts arrive after %lld passes, with %lld KV blocks in use\n", static_cast<long long>(passes),
                static_cast<long long>(scheduler->stats().kv_blocks_used));
    absl::StatusOr<std::vector<std::vector<float>>> encoded = absl::UnknownError("not run");
    std::thread encoder([&] { encoded = scheduler->Encode(texts, {}); });
    EXPECT_TRUE(Eventually([&] {
      return scheduler->stats().requests == static_cast<int64_t>(requests.size() + texts.size());
    }));
    gated.Open();
    encoder.join();
    for (auto& t : threads) t.join();
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    ASSERT_EQ(encoded->size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      ASSERT_EQ((*encoded)[i].size(), texts[i].size() * hidden) << "text " << i;
      double worst = 0;
      for (size_t k = 0; k < expected[i].size(); ++k) {
        worst = std::max(worst, std::abs(double{(*encoded)[i][k]} - expected[i][k]) / (std::abs(expected[i][k]) + 1e-3));
      }
      EXPECT_LT(worst, 1e-3) << "text " << i;
    }
    for (size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(generated[i], Alone(requests[i])) << "request " << i;
    const SchedulerStats stats = scheduler->stats();
    std::printf("KV %llu bytes: %lld iterations, largest batch %lld, %lld preemptions\n",
                static_cast<unsigned long long>(kv_bytes), static_cast<long long>(stats.iterations),
                static_cast<long long>(stats.max_batch_sequences), static_cast<long long>(stats.preemptions));
    EXPECT_EQ(stats.requests, static_cast<int64_t>(texts.size() + requests.size()));
    EXPECT_GT(stats.max_batch_sequences, 1);
    if (kv_bytes < (1u << 20)) {
      EXPECT_GT(stats.preemptions, 0);  // the newest (texts) gave way
    }
  }
}

TEST_F(SchedulerTest, AThousandTextsToEncodeNeitherFillTheQueueNorOutliveTheirCancellation) {
  // One call of 100 texts, its first pass held at the gate: it holds a slice of the queue, not
  // 100 places, so another tenant's request is queued, not refused. (Entered whole, a call of
  // 2,048 embeddings had every other tenant refused for minutes.)
  GatedModel gated(*model_);
  auto scheduler = MakeScheduler(gated, {.max_running = 1, .max_waiting = 40});
  std::vector<std::vector<int32_t>> texts(100, tokenizer_->Encode("a station on the line"));
  absl::StatusOr<std::vector<std::vector<float>>> encoded;
  std::thread encoder([&] { encoded = scheduler->Encode(texts, {.tenant = "a"}); });
  gated.WaitUntilHeldAfter(0);
  EXPECT_LE(scheduler->stats().waiting, 32);
  absl::StatusOr<GenerationResult> other;
  std::thread generator([&] { other = scheduler->Generate(Request("theory", 2), {.tenant = "b"}, nullptr); });
  // Queued behind the slice's 31: 32 waiting (never more while a pass is held).
  EXPECT_TRUE(Eventually([&] { return scheduler->stats().waiting == 32; }));
  gated.Open();
  encoder.join();
  generator.join();
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->size(), texts.size());
  EXPECT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(scheduler->stats().rejected_queue_full, 0);

  // The caller's flag, set while the first slice runs, ends the call after that slice: the
  // other 68 texts never run.
  GatedModel held(*model_);
  auto second = MakeScheduler(held, {.max_running = 1});
  std::atomic<bool> cancelled{false};
  std::thread cancelled_encoder([&] { encoded = second->Encode(texts, {.cancelled = &cancelled}); });
  held.WaitUntilHeldAfter(0);
  cancelled = true;
  held.Open();
  cancelled_encoder.join();
  EXPECT_EQ(encoded.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LE(second->stats().requests, 32);
  // Already cancelled: nothing runs.
  EXPECT_EQ(second->Encode(texts, {.cancelled = &cancelled}).status().code(), absl::StatusCode::kCancelled);
}

TEST_F(SchedulerTest, EncodingRefusesTextsThatCannotRun) {
  auto scheduler = MakeScheduler({});
  std::vector<std::vector<int32_t>> texts = {tokenizer_->Encode("a station"), {}};
  EXPECT_EQ(scheduler->Encode(texts, {}).status().code(), absl::StatusCode::kInvalidArgument);
  texts = {std::vector<int32_t>(model_->config().max_position_embeddings + 1, texts[0][0])};
  EXPECT_EQ(scheduler->Encode(texts, {}).status().code(), absl::StatusCode::kOutOfRange);
  texts = {std::vector<int32_t>(model_->config().max_position_embeddings, texts[0][0])};
  auto whole_context = scheduler->Encode(texts, {});
  ASSERT_TRUE(whole_context.ok()) << whole_context.status();
  EXPECT_EQ((*whole_context)[0].size(), texts[0].size() * model_->config().hidden_size);
  EXPECT_TRUE(scheduler->Encode({}, {})->empty());
}

TEST_F(SchedulerTest, BadOptionsAndRequestsAreRefused) {
  EXPECT_FALSE(Scheduler::Create(*model_, *tokenizer_, {.max_running = 0}).ok());
  EXPECT_FALSE(Scheduler::Create(*model_, *tokenizer_, {.block_size = 12}).ok());
  EXPECT_FALSE(Scheduler::Create(*model_, *tokenizer_, {.max_running = 4, .max_running_per_tenant = 5}).ok());
  EXPECT_FALSE(Scheduler::Create(*model_, *tokenizer_, {.waiting_reserved_per_tenant = -1}).ok());
  EXPECT_FALSE(Scheduler::Create(*model_, *tokenizer_, {.kv_cache_bytes = 1000}).ok());
  auto scheduler = MakeScheduler({});
  GenerationRequest empty;
  EXPECT_EQ(scheduler->Generate(empty, {}, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  GenerationRequest bad = Request("the", 0);
  EXPECT_EQ(scheduler->Generate(bad, {}, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace engine
