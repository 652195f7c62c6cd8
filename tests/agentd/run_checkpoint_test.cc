// A run's checkpoints through the run manager, in process, on a real state database: what a
// plan of many steps writes, what happens when the store refuses a checkpoint, how much step
// output a run may keep, and a run an earlier daemon left unfinished in the old format.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "memory/memory_store.h"
#include "rocksdb/db.h"
#include "rocksdb/transaction_log.h"
#include "runs/run_manager.h"
#include "runs/run_store.h"
#include "support/daemon_process.h"
#include "tools/tool_registry.h"

namespace agentd::runs {
namespace {

using agentd::internal::RunRecord;
using RunT = agentd::v1::Run;
using agentd::v1::Step;
using ::testing::HasSubstr;
using testing_support::TempDir;

// A plan of inputs.n trivial steps, one after another.
constexpr char kStepsPlan[] = R"lua(
plan{name = "steps", run = function(ctx, inputs)
  local total = 0
  for i = 1, inputs.n do total = total + ctx.step("step/" .. i, function() return i end) end
  return {media_type = "text/plain", content = tostring(total)}
end})lua";

bool Ended(agentd::v1::RunState state) {
  return state == agentd::v1::RUN_STATE_SUCCEEDED || state == agentd::v1::RUN_STATE_FAILED ||
         state == agentd::v1::RUN_STATE_CANCELLED;
}

// The daemon's run machinery over DIR/state and DIR/memory, without a model.
class Daemon {
 public:
  explicit Daemon(const TempDir& dir, RunStoreOptions store_options = {}) {
    StateStoreOptions state_options;
    state_options.path = dir.Join("state");
    for (const char* name : RunStore::kColumnFamilies) state_options.column_families.push_back(name);
    auto state = StateStore::Open(state_options);
    EXPECT_TRUE(state.ok()) << state.status();
    state_ = std::move(*state);
    auto runs = RunStore::Create(state_.get(), store_options);
    EXPECT_TRUE(runs.ok()) << runs.status();
    runs_ = std::move(*runs);
    memory::MemoryStoreOptions memory_options;
    memory_options.path = dir.Join("memory");
    auto memory = memory::MemoryStore::Open(memory_options);
    EXPECT_TRUE(memory.ok()) << memory.status();
    memory_ = std::move(*memory);
    auto tools = tools::ToolRegistry::Create(tools::ToolRegistryOptions());
    EXPECT_TRUE(tools.ok()) << tools.status();
    tools_ = std::move(*tools);
  }

  absl::Status Start() {
    RunManagerOptions options;
    options.store = runs_.get();
    options.memory = memory_.get();
    options.tools = tools_.get();
    options.workers = 1;
    auto manager = RunManager::Create(options);
    if (!manager.ok()) return manager.status();
    manager_ = std::move(*manager);
    return absl::OkStatus();
  }

  ~Daemon() {
    if (manager_) manager_->Shutdown();
    manager_.reset();
  }

  // Starts the plan and waits (up to two minutes) for the run to end.
  RunT RunToEnd(const std::string& source, const std::string& inputs_json) {
    agentd::v1::StartRunRequest request;
    request.set_plan("test");
    request.set_plan_source(source);
    request.set_inputs_json(inputs_json);
    bool existing = false;
    auto started = manager_->Start("acme", request, &existing);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return RunT();
    return WaitForEnd(started->run_id());
  }

  RunT WaitForEnd(const std::string& run_id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (std::chrono::steady_clock::now() < deadline) {
      auto run = manager_->Get("acme", run_id, /*include_transcripts=*/true);
      EXPECT_TRUE(run.ok()) << run.status();
      if (!run.ok() || Ended(run->state())) return run.ok() ? *run : RunT();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "run " << run_id << " did not end";
    return RunT();
  }

  StateStore* state() { return state_.get(); }
  RunStore* runs() { return runs_.get(); }
  RunManager* manager() { return manager_.get(); }

 private:
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<RunStore> runs_;
  std::unique_ptr<memory::MemoryStore> memory_;
  std::unique_ptr<tools::ToolRegistry> tools_;
  std::unique_ptr<RunManager> manager_;
};

// Bytes of the write batches the database took after sequence number `since` (its WAL).
uint64_t BytesWrittenSince(rocksdb::DB* db, rocksdb::SequenceNumber since) {
  std::unique_ptr<rocksdb::TransactionLogIterator> it;
  rocksdb::Status status = db->GetUpdatesSince(since + 1, &it);
  EXPECT_TRUE(status.ok()) << status.ToString();
  uint64_t bytes = 0;
  for (; it && it->Valid(); it->Next()) bytes += it->GetBatch().writeBatchPtr->GetDataSize();
  return bytes;
}

const Step* FindStep(const RunT& run, const std::string& name) {
  for (const Step& step : run.steps()) {
    if (step.name() == name) return &step;
  }
  return nullptr;
}

TEST(RunCheckpointTest, WhatAStepWritesDoesNotGrowWithTheStepsBeforeIt) {
  // Each step's start and end wrote the whole run, so N steps wrote in proportion to N²: 5,000
  // trivial steps took 33 s and wrote 957 MB.
  TempDir dir;
  Daemon daemon(dir);
  ASSERT_TRUE(daemon.Start().ok());
  std::map<int, double> bytes_per_step;
  for (int n : {50, 400}) {
    const rocksdb::SequenceNumber before = daemon.state()->db()->GetLatestSequenceNumber();
    RunT run = daemon.RunToEnd(kStepsPlan, "{\"n\": " + std::to_string(n) + "}");
    ASSERT_EQ(run.state(), agentd::v1::RUN_STATE_SUCCEEDED) << run.error();
    ASSERT_EQ(run.steps_size(), n);
    EXPECT_EQ(run.artifact().content(), std::to_string(n * (n + 1) / 2));
    bytes_per_step[n] = static_cast<double>(BytesWrittenSince(daemon.state()->db(), before)) / n;
  }
  // The same per step at 400 steps as at 50 (with the old whole-record writes: 8 times as much).
  EXPECT_LT(bytes_per_step[400], 1.2 * bytes_per_step[50]) << bytes_per_step[50];
}

TEST(RunCheckpointTest, WhatTheStoreRefusesFailsTheRunAndTheFailureIsStored) {
  // RunStore::Put ignored a failed serialisation and stored an empty value in the run's place.
  // Now the store refuses (and writes nothing); the run must then end FAILED in the store too,
  // not stay RUNNING at its last checkpoint, to be resumed into the same refusal at each start.
  TempDir dir;
  RunStoreOptions small;
  small.max_value_bytes = 64 << 10;
  std::string big_step, big_artifact;
  {
    Daemon daemon(dir, small);
    ASSERT_TRUE(daemon.Start().ok());
    RunT run = daemon.RunToEnd(R"lua(
plan{name = "big", run = function(ctx, inputs)
  ctx.step("small", function() return "fits" end)
  ctx.step("big", function() return string.rep("x", 100000) end)
  return {media_type = "text/plain", content = "unreachable"}
end})lua",
                              "{}");
    big_step = run.run_id();
    EXPECT_EQ(run.state(), agentd::v1::RUN_STATE_FAILED);
    EXPECT_THAT(run.error(), HasSubstr("step 'big'"));
    run = daemon.RunToEnd(R"lua(
plan{name = "big", run = function(ctx, inputs)
  ctx.step("small", function() return "fits" end)
  return {media_type = "text/plain", content = string.rep("y", 100000)}
end})lua",
                          "{}");
    big_artifact = run.run_id();
    EXPECT_EQ(run.state(), agentd::v1::RUN_STATE_FAILED);
    EXPECT_THAT(run.error(), HasSubstr("could not be stored"));
  }
  // What the store holds, read by the next daemon.
  Daemon next(dir);
  auto stored = next.runs()->Get("acme", big_step);
  ASSERT_TRUE(stored.ok()) << stored.status();
  const RunT& run = stored->run();
  EXPECT_EQ(run.state(), agentd::v1::RUN_STATE_FAILED);
  EXPECT_THAT(run.error(), HasSubstr("step 'big'"));
  EXPECT_THAT(run.error(), HasSubstr("a stored value holds at most 65536"));
  ASSERT_EQ(run.steps_size(), 2);
  EXPECT_EQ(run.steps(0).state(), agentd::v1::STEP_STATE_SUCCEEDED);
  EXPECT_EQ(run.steps(0).output_json(), "\"fits\"");
  EXPECT_EQ(run.steps(1).state(), agentd::v1::STEP_STATE_FAILED);
  EXPECT_EQ(run.steps(1).output_json(), "");
  EXPECT_THAT(run.steps(1).error(), HasSubstr("a stored value holds at most"));

  stored = next.runs()->Get("acme", big_artifact);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->run().state(), agentd::v1::RUN_STATE_FAILED);
  EXPECT_THAT(stored->run().error(), HasSubstr("could not be stored"));
  EXPECT_EQ(stored->run().artifact().content(), "");
  ASSERT_EQ(stored->run().steps_size(), 1);
  EXPECT_EQ(stored->run().steps(0).output_json(), "\"fits\"");

  auto unfinished = next.runs()->Unfinished();
  ASSERT_TRUE(unfinished.ok());
  EXPECT_TRUE(unfinished->empty());
}

TEST(RunCheckpointTest, ARunsStepOutputsAreBounded) {
  // Nothing bounded what steps returned but the plan's Lua memory per step: a run of many steps
  // could keep any amount in the daemon's memory, its store and one GetRun answer.
  TempDir dir;
  Daemon daemon(dir);
  ASSERT_TRUE(daemon.Start().ok());
  RunT run = daemon.RunToEnd(R"lua(
plan{name = "outputs", run = function(ctx, inputs)
  local chunk = string.rep("x", 30 << 20)
  for i = 1, 3 do ctx.step("s" .. i, function() return chunk end) end
  return {media_type = "text/plain", content = "unreachable"}
end})lua",
                            "{}");
  ASSERT_EQ(run.state(), agentd::v1::RUN_STATE_FAILED);
  EXPECT_THAT(run.error(), HasSubstr("step 's3'"));
  EXPECT_THAT(run.error(), HasSubstr("64 MiB"));
  const Step* kept = FindStep(run, "s2");
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->state(), agentd::v1::STEP_STATE_SUCCEEDED);
  EXPECT_EQ(kept->output_json().size(), (30u << 20) + 2);
  const Step* refused = FindStep(run, "s3");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->state(), agentd::v1::STEP_STATE_FAILED);
  EXPECT_EQ(refused->output_json(), "");
  EXPECT_THAT(refused->error(), HasSubstr("64 MiB"));
}

TEST(RunCheckpointTest, ARunAnEarlierDaemonLeftUnfinishedResumesFromItsSteps) {
  // Stored whole, as daemons before format 2 stored runs: RUNNING, its first step done.
  TempDir dir;
  RunRecord record;
  RunT* run = record.mutable_run();
  run->set_run_id("run-0000000000001-00000001");
  run->set_tenant("acme");
  run->set_plan("steps");
  run->set_state(agentd::v1::RUN_STATE_RUNNING);
  run->set_inputs_json("{\"n\": 3}");
  run->mutable_limits()->set_deadline_seconds(60);
  run->mutable_limits()->set_max_tokens(100);
  run->mutable_limits()->set_max_tool_calls(10);
  record.set_plan_source(kStepsPlan);
  record.set_plan_chunk_name("steps.lua");
  record.set_unclean_starts(1);
  Step* done = run->add_steps();
  done->set_name("step/1");
  done->set_state(agentd::v1::STEP_STATE_SUCCEEDED);
  done->set_attempts(1);
  done->set_output_json("100");  // not what the step would return now: it must not run again
  {
    Daemon daemon(dir);
    std::string value;
    ASSERT_TRUE(record.SerializeToString(&value));
    ASSERT_TRUE(daemon.state()
                    ->db()
                    ->Put(rocksdb::WriteOptions(), daemon.state()->column_family("runs"),
                          std::string("acme") + '\0' + run->run_id(), value)
                    .ok());
    ASSERT_TRUE(daemon.Start().ok());
    RunT ended = daemon.WaitForEnd(run->run_id());
    ASSERT_EQ(ended.state(), agentd::v1::RUN_STATE_SUCCEEDED) << ended.error();
    EXPECT_EQ(ended.artifact().content(), "105");
  }
  Daemon next(dir);
  auto stored = next.runs()->Get("acme", run->run_id());
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->run().steps_size(), 3);
  EXPECT_EQ(stored->run().steps(0).output_json(), "100");
  EXPECT_EQ(stored->run().steps(0).attempts(), 1u);
  EXPECT_EQ(stored->run().steps(2).output_json(), "3");
  EXPECT_EQ(stored->plan_source(), kStepsPlan);
  EXPECT_EQ(stored->run().inputs_json(), "{\"n\": 3}");
}

}  // namespace
}  // namespace agentd::runs
