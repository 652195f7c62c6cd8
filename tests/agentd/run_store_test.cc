// The run store (agentd/src/runs/run_store.h): a run stored in parts reads back exactly as it was
// written, a checkpoint writes what changed and not what came before, runs that earlier daemons
// stored whole (format 1) read as before and move to parts at their next write, and a value too
// large to store is refused without touching the run.
#include "runs/run_store.h"

#include <google/protobuf/util/message_differencer.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rocksdb/db.h"
#include "rocksdb/transaction_log.h"
#include "support/daemon_process.h"

namespace agentd::runs {
namespace {

using agentd::internal::RunRecord;
using agentd::v1::Step;
using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
using testing_support::TempDir;

std::unique_ptr<StateStore> OpenState(const TempDir& dir) {
  StateStoreOptions options;
  options.path = dir.Join("state");
  for (const char* name : RunStore::kColumnFamilies) options.column_families.push_back(name);
  auto state = StateStore::Open(options);
  EXPECT_TRUE(state.ok()) << state.status();
  return std::move(*state);
}

std::unique_ptr<RunStore> OpenRuns(StateStore* state, RunStoreOptions options = {}) {
  auto runs = RunStore::Create(state, options);
  EXPECT_TRUE(runs.ok()) << runs.status();
  return std::move(*runs);
}

void AddStep(RunRecord* record, const std::string& name, const std::string& output) {
  Step* step = record->mutable_run()->add_steps();
  step->set_name(name);
  step->set_state(agentd::v1::STEP_STATE_SUCCEEDED);
  step->set_attempts(1);
  step->mutable_started_at()->set_seconds(1700000000 + record->run().steps_size());
  step->mutable_finished_at()->set_seconds(1700000001 + record->run().steps_size());
  step->set_output_json(output);
  step->mutable_usage()->set_prompt_tokens(7);
  agentd::v1::TranscriptEntry* entry = step->add_transcript();
  entry->set_kind(agentd::v1::TranscriptEntry::KIND_RETRIEVAL);
  entry->set_request("{\"query\": \"" + name + "\"}");
  entry->set_response("{\"hits\": []}");
}

// A run with every part set: inputs, plan source, labels, artifact and `steps` steps.
RunRecord MakeRun(const std::string& tenant, const std::string& run_id, int steps,
                  agentd::v1::RunState state = agentd::v1::RUN_STATE_RUNNING) {
  RunRecord record;
  agentd::v1::Run* run = record.mutable_run();
  run->set_run_id(run_id);
  run->set_tenant(tenant);
  run->set_plan("report");
  run->set_plan_sha256("ab12");
  run->set_state(state);
  run->set_inputs_json("{\"topic\": \"batteries\"}");
  run->mutable_limits()->set_deadline_seconds(60);
  (*run->mutable_labels())["team"] = "research";
  run->mutable_created_at()->set_seconds(1700000000);
  run->mutable_usage()->set_completion_tokens(12);
  run->set_tool_calls(2);
  if (state == agentd::v1::RUN_STATE_SUCCEEDED) {
    run->mutable_artifact()->set_media_type("text/markdown");
    run->mutable_artifact()->set_content("# Batteries\n");
  }
  record.set_plan_source("plan{name = 'report', run = function(ctx) end}");
  record.set_plan_chunk_name("report.lua");
  record.set_elapsed_seconds(1.5);
  record.set_idempotency_key("key-" + run_id);
  for (int i = 0; i < steps; ++i) AddStep(&record, "step/" + std::to_string(i), "{\"i\": " + std::to_string(i) + "}");
  return record;
}

// What a list shows of a run.
RunRecord ListView(RunRecord record) {
  record.clear_plan_source();
  for (Step& step : *record.mutable_run()->mutable_steps()) {
    step.clear_output_json();
    step.clear_transcript();
  }
  return record;
}

void ExpectSame(const RunRecord& actual, const RunRecord& expected) {
  std::string difference;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differencer.Compare(expected, actual)) << difference;
}

// How a daemon before format 2 stored a run: the whole record, bare, under "runs".
void PutFormat1(StateStore* state, const RunRecord& record) {
  std::string value;
  ASSERT_TRUE(record.SerializeToString(&value));
  ASSERT_TRUE(state->db()
                  ->Put(rocksdb::WriteOptions(), state->column_family("runs"),
                        record.run().tenant() + std::string(1, '\0') + record.run().run_id(), value)
                  .ok());
}

std::string StoredHeader(StateStore* state, const RunRecord& record) {
  std::string value;
  EXPECT_TRUE(state->db()
                  ->Get(rocksdb::ReadOptions(), state->column_family("runs"),
                        record.run().tenant() + std::string(1, '\0') + record.run().run_id(), &value)
                  .ok());
  return value;
}

// Bytes of the write batches the database took after sequence number `since`, as its WAL
// holds them: what the store wrote, whatever the key or column family.
uint64_t BytesWrittenSince(rocksdb::DB* db, rocksdb::SequenceNumber since) {
  std::unique_ptr<rocksdb::TransactionLogIterator> it;
  rocksdb::Status status = db->GetUpdatesSince(since + 1, &it);
  EXPECT_TRUE(status.ok()) << status.ToString();
  uint64_t bytes = 0;
  for (; it && it->Valid(); it->Next()) bytes += it->GetBatch().writeBatchPtr->GetDataSize();
  return bytes;
}

TEST(RunStoreTest, ARunReadsBackAsItWasWrittenAndCheckpointed) {
  TempDir dir;
  auto state = OpenState(dir);
  auto runs = OpenRuns(state.get());
  RunRecord record = MakeRun("acme", "run-0000000000001-00000001", 3);
  const RunRecord written = record;
  ASSERT_TRUE(runs->Put(&record, record.idempotency_key()).ok());
  ExpectSame(record, written);  // handed back as it was
  auto read = runs->Get("acme", record.run().run_id());
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSame(*read, written);
  auto found = runs->FindByIdempotencyKey("acme", record.idempotency_key());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->value_or(""), record.run().run_id());

  // A step changed, one added, the header changed.
  Step* changed = record.mutable_run()->mutable_steps(1);
  changed->set_attempts(2);
  changed->add_transcript()->set_request("again");
  AddStep(&record, "step/3", "[1, 2, 3]");
  record.mutable_run()->set_tool_calls(3);
  const RunRecord checkpointed = record;
  ASSERT_TRUE(runs->Checkpoint(&record, {1}).ok());
  ExpectSame(record, checkpointed);
  read = runs->Get("acme", record.run().run_id());
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSame(*read, checkpointed);

  // Another tenant's run of the same id is another run.
  EXPECT_EQ(runs->Get("other", record.run().run_id()).status().code(), absl::StatusCode::kNotFound);
  // Stored in format 2.
  EXPECT_EQ(StoredHeader(state.get(), record).substr(0, 11), std::string(RunStore::kMagic) + '\x02');
}

TEST(RunStoreTest, AListShowsRunsWithoutPlanSourcesAndStepOutputs) {
  TempDir dir;
  auto state = OpenState(dir);
  auto runs = OpenRuns(state.get());
  std::vector<RunRecord> written;
  for (int i = 0; i < 5; ++i) {
    RunRecord record = MakeRun("acme", "run-000000000000" + std::to_string(i) + "-00000001", i,
                               i % 2 ? agentd::v1::RUN_STATE_SUCCEEDED : agentd::v1::RUN_STATE_RUNNING);
    if (i == 3) record.mutable_run()->set_plan("brief");
    ASSERT_TRUE(runs->Put(&record).ok());
    written.push_back(record);
  }
  RunRecord other = MakeRun("other", "run-0000000000009-00000001", 1);
  ASSERT_TRUE(runs->Put(&other).ok());

  RunListQuery query;
  query.tenant = "acme";
  query.page_size = 2;
  auto page = runs->List(query);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->runs.size(), 2u);
  ExpectSame(page->runs[0], ListView(written[4]));
  ExpectSame(page->runs[1], ListView(written[3]));
  EXPECT_EQ(page->next_after_run_id, written[3].run().run_id());
  query.after_run_id = page->next_after_run_id;
  page = runs->List(query);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->runs.size(), 2u);
  ExpectSame(page->runs[0], ListView(written[2]));
  ExpectSame(page->runs[1], ListView(written[1]));

  query.after_run_id.clear();
  query.page_size = 50;
  query.states = {agentd::v1::RUN_STATE_SUCCEEDED};
  query.plan = "report";
  page = runs->List(query);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->runs.size(), 1u);
  ExpectSame(page->runs[0], ListView(written[1]));
  EXPECT_EQ(page->next_after_run_id, "");

  auto unfinished = runs->Unfinished();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 4u);  // acme's 0, 2 and 4, and other's, whole
  ExpectSame((*unfinished)[0], written[0]);
  ExpectSame((*unfinished)[3], other);
}

TEST(RunStoreTest, RunsStoredWholeByEarlierDaemonsReadAsBeforeAndMoveToPartsWhenWritten) {
  TempDir dir;
  auto state = OpenState(dir);
  auto runs = OpenRuns(state.get());
  RunRecord running = MakeRun("acme", "run-0000000000001-00000001", 3);
  RunRecord finished = MakeRun("acme", "run-0000000000002-00000001", 2, agentd::v1::RUN_STATE_SUCCEEDED);
  PutFormat1(state.get(), running);
  PutFormat1(state.get(), finished);

  auto read = runs->Get("acme", running.run().run_id());
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSame(*read, running);
  RunListQuery query;
  query.tenant = "acme";
  auto page = runs->List(query);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->runs.size(), 2u);
  ExpectSame(page->runs[0], ListView(finished));
  ExpectSame(page->runs[1], ListView(running));
  auto unfinished = runs->Unfinished();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 1u);
  ExpectSame((*unfinished)[0], running);

  // A checkpoint naming only the step it changed still keeps every step the old record held.
  running.mutable_run()->mutable_steps(2)->set_state(agentd::v1::STEP_STATE_RUNNING);
  AddStep(&running, "step/3", "null");
  ASSERT_TRUE(runs->Checkpoint(&running, {2}).ok());
  EXPECT_EQ(StoredHeader(state.get(), running).substr(0, 10), RunStore::kMagic);
  read = runs->Get("acme", running.run().run_id());
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSame(*read, running);
  // The finished run was not touched and still reads the same.
  read = runs->Get("acme", finished.run().run_id());
  ASSERT_TRUE(read.ok());
  ExpectSame(*read, finished);
}

TEST(RunStoreTest, ACheckpointWritesWhatChangedNotTheStepsBeforeIt) {
  // Written whole at every step's start and end, a run of N trivial steps wrote in proportion
  // to N²: 5,000 steps wrote 957 MB.
  TempDir dir;
  auto state = OpenState(dir);
  auto runs = OpenRuns(state.get());
  RunRecord record = MakeRun("acme", "run-0000000000001-00000001", 0);
  ASSERT_TRUE(runs->Put(&record).ok());
  std::vector<uint64_t> per_step;
  for (int i = 0; i < 600; ++i) {
    const rocksdb::SequenceNumber before = state->db()->GetLatestSequenceNumber();
    AddStep(&record, "step/" + std::to_string(i), "{\"value\": " + std::to_string(100000 + i) + "}");
    ASSERT_TRUE(runs->Checkpoint(&record, {}).ok());
    record.mutable_run()->mutable_steps(i)->set_attempts(2);
    ASSERT_TRUE(runs->Checkpoint(&record, {i}).ok());
    per_step.push_back(BytesWrittenSince(state->db(), before));
  }
  EXPECT_GT(per_step[10], 0u);
  // The same bytes for the 600th step as for the 11th (a few more digits in a step's name).
  EXPECT_LE(per_step[599], per_step[10] + 16) << per_step[10];
  // And a header with nothing but the run's own fields beside the step.
  EXPECT_LT(per_step[599], 2000u);
  auto read = runs->Get("acme", record.run().run_id());
  ASSERT_TRUE(read.ok());
  ExpectSame(*read, record);
}

TEST(RunStoreTest, AValueTooLargeToStoreIsRefusedAndTheStoredRunKeptAsItWas) {
  // protobuf serialises at most 2 GiB; the failure went unchecked, and the empty value written
  // in its place replaced the run (which then read back as an empty record).
  TempDir dir;
  auto state = OpenState(dir);
  auto runs = OpenRuns(state.get());
  RunRecord record = MakeRun("acme", "run-0000000000001-00000001", 2);
  ASSERT_TRUE(runs->Put(&record).ok());
  const RunRecord stored = record;
  {
    std::string huge(size_t{1} << 31, 'x');
    AddStep(&record, "huge", "");
    record.mutable_run()->mutable_steps(2)->mutable_output_json()->swap(huge);
  }
  absl::Status put = runs->Put(&record);
  EXPECT_EQ(put.code(), absl::StatusCode::kResourceExhausted) << put;
  EXPECT_THAT(put.message(), HasSubstr("step 'huge'"));
  EXPECT_EQ(record.run().steps(2).output_json().size(), size_t{1} << 31);  // handed back
  record.mutable_run()->mutable_steps(2)->clear_output_json();
  record.mutable_run()->mutable_steps(2)->mutable_output_json()->shrink_to_fit();
  auto read = runs->Get("acme", record.run().run_id());
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSame(*read, stored);
}

TEST(RunStoreTest, EachKindOfValueIsCheckedAgainstTheLimit) {
  TempDir dir;
  auto state = OpenState(dir);
  RunStoreOptions options;
  options.max_value_bytes = 4096;
  auto runs = OpenRuns(state.get(), options);
  RunRecord record = MakeRun("acme", "run-0000000000001-00000001", 1);
  ASSERT_TRUE(runs->Put(&record).ok());
  const RunRecord stored = record;

  RunRecord big_step = record;
  AddStep(&big_step, "big", std::string(5000, 'x'));
  absl::Status refused = runs->Checkpoint(&big_step, {});
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("step 'big'"));

  RunRecord big_header = record;
  big_header.mutable_run()->set_error(std::string(5000, 'e'));
  refused = runs->Checkpoint(&big_header, {});
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("run run-0000000000001-00000001"));

  RunRecord big_source = record;
  big_source.set_plan_source(std::string(5000, '-'));
  refused = runs->Put(&big_source);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("plan source"));

  agentd::v1::RunEvent event;
  event.set_run_id(record.run().run_id());
  event.set_sequence(1);
  event.mutable_warning()->set_message(std::string(5000, 'w'));
  refused = runs->AppendEvent(event);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  auto last = runs->LastSequence(record.run().run_id());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 0u);

  auto read = runs->Get("acme", record.run().run_id());
  ASSERT_TRUE(read.ok());
  ExpectSame(*read, stored);
}

TEST(RunStoreTest, MissingOrForeignPartsAreReportedNotGuessed) {
  TempDir dir;
  auto state = OpenState(dir);
  auto runs = OpenRuns(state.get());
  RunRecord record = MakeRun("acme", "run-0000000000001-00000001", 3);
  ASSERT_TRUE(runs->Put(&record).ok());
  const std::string key = std::string("acme") + '\0' + record.run().run_id();
  const std::string step1 = key + '\0' + std::string("\0\0\0\x01", 4);
  ASSERT_TRUE(state->db()->Delete(rocksdb::WriteOptions(), state->column_family("run_step_outputs"), step1).ok());
  auto read = runs->Get("acme", record.run().run_id());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr("the output of step 1"));

  // A value of a format this agentd does not know is refused, naming the format.
  std::string header = StoredHeader(state.get(), record);
  header[10] = '\x03';
  ASSERT_TRUE(state->db()->Put(rocksdb::WriteOptions(), state->column_family("runs"), key, header).ok());
  read = runs->Get("acme", record.run().run_id());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(read.status().message(), HasSubstr("format 3"));
}

}  // namespace
}  // namespace agentd::runs
