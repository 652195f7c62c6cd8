#include "runs/run_store.h"

#include <rocksdb/db.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace agentd::runs {
namespace {

using agentd::internal::RunRecord;
using agentd::v1::Run;
using agentd::v1::RunEvent;
using agentd::v1::Step;

constexpr size_t kMagicSize = sizeof RunStore::kMagic - 1;

std::string RunKey(const std::string& tenant, const std::string& run_id) {
  return absl::StrCat(tenant, std::string(1, '\0'), run_id);
}

// A run's steps: its key, \0, then the step's index big-endian, so they sort in order.
std::string StepPrefix(const std::string& run_key) { return absl::StrCat(run_key, std::string(1, '\0')); }

std::string StepKey(const std::string& run_key, uint32_t index) {
  std::string key = StepPrefix(run_key);
  for (int shift = 24; shift >= 0; shift -= 8) key.push_back(static_cast<char>((index >> shift) & 0xff));
  return key;
}

uint32_t StepIndexOf(const rocksdb::Slice& key) {
  uint32_t index = 0;
  for (size_t i = key.size() - 4; i < key.size(); ++i) index = index << 8 | static_cast<uint8_t>(key[i]);
  return index;
}

std::string EventPrefix(const std::string& run_id) { return absl::StrCat(run_id, std::string(1, '\0')); }

std::string EventKey(const std::string& run_id, uint64_t sequence) {
  std::string key = EventPrefix(run_id);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((sequence >> shift) & 0xff));
  return key;
}

uint64_t SequenceOf(const rocksdb::Slice& key) {
  uint64_t sequence = 0;
  for (size_t i = key.size() - 8; i < key.size(); ++i) sequence = sequence << 8 | static_cast<uint8_t>(key[i]);
  return sequence;
}

// A RocksDB status as an absl one (a full disk is RESOURCE_EXHAUSTED naming the directory).
absl::Status FromRocks(const StateStore* state, const rocksdb::Status& status, const char* what) {
  return state->Error(status, absl::StrCat("run store: ", what));
}

// Marks a status as AppendSerialized's refusal (RunStore::IsValueTooLarge).
constexpr char kTooLargePayload[] = "agentd.run_store/value_too_large";

// Appends the message's serialisation to `out`. Checked: past 2 GiB protobuf fails, and the
// empty value written regardless used to overwrite the run it was meant to update.
absl::Status AppendSerialized(const google::protobuf::Message& message, size_t max_bytes, const std::string& what,
                              std::string* out) {
  const size_t size = message.ByteSizeLong();
  if (size > max_bytes) {
    absl::Status refused = absl::ResourceExhaustedError(
        absl::StrCat("run store: ", what, " is ", size, " bytes; a stored value holds at most ", max_bytes));
    refused.SetPayload(kTooLargePayload, absl::Cord(what));
    return refused;
  }
  if (!message.AppendToString(out)) {
    return absl::InternalError(absl::StrCat("run store: ", what, " could not be serialised"));
  }
  return absl::OkStatus();
}

// kMagic, the format version, then the message.
absl::StatusOr<std::string> Framed(const google::protobuf::Message& message, size_t max_bytes, const std::string& what) {
  std::string value(RunStore::kMagic, kMagicSize);
  value.push_back(RunStore::kFormatVersion);
  absl::Status status = AppendSerialized(message, max_bytes, what, &value);
  if (!status.ok()) return status;
  return value;
}

bool HasMagic(const rocksdb::Slice& value) {
  return value.size() > kMagicSize && std::memcmp(value.data(), RunStore::kMagic, kMagicSize) == 0;
}

// Parses a framed value into `message`.
absl::Status Unframe(const rocksdb::Slice& value, const std::string& what, google::protobuf::Message* message) {
  if (!HasMagic(value)) return absl::DataLossError(absl::StrCat("run store: ", what, " has no format stamp"));
  const char version = value[kMagicSize];
  if (version != RunStore::kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("run store: ", what, " is in format ", static_cast<int>(version),
                                                      "; this agentd reads formats 1 and ",
                                                      static_cast<int>(RunStore::kFormatVersion)));
  }
  if (!message->ParseFromArray(value.data() + kMagicSize + 1, static_cast<int>(value.size() - kMagicSize - 1))) {
    return absl::DataLossError(absl::StrCat("run store: ", what, " is unreadable"));
  }
  return absl::OkStatus();
}

// The value under "runs", either format.
struct Header {
  RunRecord record;
  // Format 2: the steps, inputs and plan source are stored apart. Format 1: all in `record`.
  bool parts = false;
  uint32_t step_count = 0;
};

// A run stored before its size was kept (RunRecord.stored_bytes 0) counts as its header's stored
// bytes, wherever it is read, so that what the tenant's count added at start is what a resume
// or a DeleteRun takes off.
void CountAtLeastItsHeader(RunRecord* record, size_t header_bytes) {
  if (record->stored_bytes() == 0) record->set_stored_bytes(header_bytes);
}

absl::StatusOr<Header> ParseHeader(const rocksdb::Slice& value, const std::string& run_id) {
  Header header;
  if (!HasMagic(value)) {
    if (!header.record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(absl::StrCat("run store: run ", run_id, " is unreadable"));
    }
    return header;
  }
  absl::Status status = Unframe(value, absl::StrCat("run ", run_id), &header.record);
  if (!status.ok()) return status;
  header.parts = true;
  header.step_count = header.record.stored_step_count();
  header.record.clear_stored_step_count();
  return header;
}

// What a list leaves out of a record read whole (format 1).
void StripToListView(RunRecord* record) {
  record->clear_plan_source();
  for (Step& step : *record->mutable_run()->mutable_steps()) {
    step.clear_output_json();
    step.clear_transcript();
  }
}

// The run whose header was read, with its parts as of `snapshot`: with `whole` also the plan
// source and the steps' outputs and transcripts.
absl::StatusOr<RunRecord> Assemble(StateStore* state, const rocksdb::Snapshot* snapshot, const std::string& tenant,
                                   const std::string& run_id, Header header, bool whole) {
  RunRecord& record = header.record;
  if (!header.parts) {
    if (!whole) StripToListView(&record);
    return std::move(record);
  }
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  rocksdb::DB* db = state->db();
  const std::string key = RunKey(tenant, run_id);

  std::string part;
  rocksdb::Status status = db->Get(read, state->column_family("run_inputs"), key, &part);
  if (status.IsNotFound()) return absl::DataLossError(absl::StrCat("run store: the inputs of run ", run_id, " are missing"));
  if (!status.ok()) return FromRocks(state, status, "read run inputs");
  Run inputs;
  absl::Status parsed = Unframe(part, absl::StrCat("the inputs of run ", run_id), &inputs);
  if (!parsed.ok()) return parsed;
  record.mutable_run()->mutable_inputs_json()->swap(*inputs.mutable_inputs_json());
  if (whole) {
    status = db->Get(read, state->column_family("run_plans"), key, &part);
    if (status.IsNotFound()) {
      return absl::DataLossError(absl::StrCat("run store: the plan source of run ", run_id, " is missing"));
    }
    if (!status.ok()) return FromRocks(state, status, "read run plan");
    RunRecord plan;
    parsed = Unframe(part, absl::StrCat("the plan source of run ", run_id), &plan);
    if (!parsed.ok()) return parsed;
    record.mutable_plan_source()->swap(*plan.mutable_plan_source());
  }

  // Steps 0 .. step_count - 1, each exactly once: the header and the steps it counts are
  // written in one batch.
  const std::string prefix = StepPrefix(key);
  const uint32_t count = header.step_count;
  std::vector<std::string> families = {"run_steps"};
  if (whole) families.push_back("run_step_outputs");
  for (const std::string& family : families) {
    const bool outputs = family == "run_step_outputs";
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read, state->column_family(family)));
    uint32_t next = 0;
    for (it->Seek(StepKey(key, 0)); next < count && it->Valid() && it->key().starts_with(prefix); it->Next(), ++next) {
      const std::string what = absl::StrCat(outputs ? "the output of step " : "step ", next, " of run ", run_id);
      if (it->key().size() != prefix.size() + 4 || StepIndexOf(it->key()) != next) {
        return absl::DataLossError(absl::StrCat("run store: ", what, " is missing"));
      }
      if (!outputs) {
        parsed = Unframe(it->value(), what, record.mutable_run()->add_steps());
        if (!parsed.ok()) return parsed;
        continue;
      }
      Step bulk;
      parsed = Unframe(it->value(), what, &bulk);
      if (!parsed.ok()) return parsed;
      Step* step = record.mutable_run()->mutable_steps(static_cast<int>(next));
      step->mutable_output_json()->swap(*bulk.mutable_output_json());
      step->mutable_transcript()->Swap(bulk.mutable_transcript());
    }
    if (!it->status().ok()) return FromRocks(state, it->status(), "read steps");
    if (next < count) {
      return absl::DataLossError(absl::StrCat("run store: ", outputs ? "the output of step " : "step ", next, " of run ",
                                              run_id, " is missing"));
    }
  }
  return std::move(record);
}

}  // namespace

RunStore::RunStore(StateStore* state, const RunStoreOptions& options) : state_(state), options_(options) {}

absl::Status RunStore::FromRocks(const rocksdb::Status& status, const char* what) const {
  return runs::FromRocks(state_, status, what);
}

bool RunStore::IsValueTooLarge(const absl::Status& status) {
  return absl::IsResourceExhausted(status) && status.GetPayload(kTooLargePayload).has_value();
}

absl::StatusOr<std::unique_ptr<RunStore>> RunStore::Create(StateStore* state, const RunStoreOptions& options) {
  for (const char* name : kColumnFamilies) {
    if (state->column_family(name) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("run store: column family ", name, " is not open"));
    }
  }
  return std::unique_ptr<RunStore>(new RunStore(state, options));
}

std::string RunStore::NewRunId() {
  const uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  std::random_device device;
  char id[40];
  std::snprintf(id, sizeof id, "run-%013llx-%08x", static_cast<unsigned long long>(ms), static_cast<unsigned>(device()));
  return id;
}

absl::Status RunStore::Write(RunRecord* record, const std::vector<int>& steps, bool whole,
                             const std::string& idempotency_key) {
  Run* run = record->mutable_run();
  const std::string key = RunKey(run->tenant(), run->run_id());
  const size_t max = options_.max_value_bytes;
  rocksdb::WriteBatch batch;
  for (int index : steps) {
    Step& step = *run->mutable_steps(index);
    const std::string what = absl::StrCat("step '", step.name(), "' of run ", run->run_id());
    // The output and transcript are moved aside (and back) rather than copied.
    Step bulk;
    bulk.mutable_output_json()->swap(*step.mutable_output_json());
    bulk.mutable_transcript()->Swap(step.mutable_transcript());
    absl::StatusOr<std::string> meta = Framed(step, max, what);
    absl::StatusOr<std::string> output = Framed(bulk, max, absl::StrCat("the output and transcript of ", what));
    step.mutable_output_json()->swap(*bulk.mutable_output_json());
    step.mutable_transcript()->Swap(bulk.mutable_transcript());
    if (!meta.ok()) return meta.status();
    if (!output.ok()) return output.status();
    batch.Put(state_->column_family("run_steps"), StepKey(key, static_cast<uint32_t>(index)), *meta);
    batch.Put(state_->column_family("run_step_outputs"), StepKey(key, static_cast<uint32_t>(index)), *output);
  }

  // The header is the record less what is stored apart, moved aside (and back) likewise.
  Run inputs;
  inputs.mutable_inputs_json()->swap(*run->mutable_inputs_json());
  RunRecord plan;
  plan.mutable_plan_source()->swap(*record->mutable_plan_source());
  google::protobuf::RepeatedPtrField<Step> held;
  held.Swap(run->mutable_steps());
  record->set_stored_step_count(static_cast<uint32_t>(held.size()));
  absl::StatusOr<std::string> header = Framed(*record, max, absl::StrCat("run ", run->run_id()));
  absl::StatusOr<std::string> inputs_value = std::string();
  absl::StatusOr<std::string> plan_value = std::string();
  if (whole) {
    inputs_value = Framed(inputs, max, absl::StrCat("the inputs of run ", run->run_id()));
    plan_value = Framed(plan, max, absl::StrCat("the plan source of run ", run->run_id()));
  }
  record->clear_stored_step_count();
  held.Swap(run->mutable_steps());
  record->mutable_plan_source()->swap(*plan.mutable_plan_source());
  run->mutable_inputs_json()->swap(*inputs.mutable_inputs_json());
  for (const absl::StatusOr<std::string>* value : {&header, &inputs_value, &plan_value}) {
    if (!value->ok()) return value->status();
  }

  batch.Put(state_->column_family("runs"), key, *header);
  if (whole) {
    batch.Put(state_->column_family("run_inputs"), key, *inputs_value);
    batch.Put(state_->column_family("run_plans"), key, *plan_value);
  }
  if (!idempotency_key.empty()) {
    batch.Put(state_->column_family("run_keys"), RunKey(run->tenant(), idempotency_key), run->run_id());
  }
  return state_->Write(&batch, "run store: write run");
}

absl::Status RunStore::Put(RunRecord* record, const std::string& idempotency_key) {
  std::vector<int> steps(static_cast<size_t>(record->run().steps_size()));
  for (size_t i = 0; i < steps.size(); ++i) steps[i] = static_cast<int>(i);
  return Write(record, steps, /*whole=*/true, idempotency_key);
}

absl::Status RunStore::Checkpoint(RunRecord* record, const std::set<int>& changed_steps) {
  // What the store holds decides what must be written: a run it does not hold in parts yet is
  // written whole, and steps it does not have yet are written whether or not the caller named
  // them. (Checkpoints of one run are serialised by its caller.)
  std::string stored;
  rocksdb::Status status = state_->db()->Get(rocksdb::ReadOptions(), state_->column_family("runs"),
                                             RunKey(record->run().tenant(), record->run().run_id()), &stored);
  if (!status.ok() && !status.IsNotFound()) return FromRocks(status, "read run");
  if (status.IsNotFound() || !HasMagic(stored)) return Put(record);
  absl::StatusOr<Header> header = ParseHeader(stored, record->run().run_id());
  if (!header.ok()) return header.status();
  const int count = record->run().steps_size();
  const int stored_count = static_cast<int>(std::min<uint32_t>(header->step_count, static_cast<uint32_t>(count)));
  std::vector<int> steps;
  for (int index : changed_steps) {
    if (index >= 0 && index < stored_count) steps.push_back(index);
  }
  for (int index = stored_count; index < count; ++index) steps.push_back(index);
  return Write(record, steps, /*whole=*/false, "");
}

absl::StatusOr<RunRecord> RunStore::Get(const std::string& tenant, const std::string& run_id) const {
  rocksdb::ManagedSnapshot snapshot(state_->db());
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  std::string value;
  rocksdb::Status status = state_->db()->Get(read, state_->column_family("runs"), RunKey(tenant, run_id), &value);
  if (status.IsNotFound()) return absl::NotFoundError(absl::StrCat("run_id: no run ", run_id));
  if (!status.ok()) return FromRocks(status, "read run");
  absl::StatusOr<Header> header = ParseHeader(value, run_id);
  if (!header.ok()) return header.status();
  return Assemble(state_, snapshot.snapshot(), tenant, run_id, std::move(*header), /*whole=*/true);
}

absl::StatusOr<std::optional<std::string>> RunStore::FindByIdempotencyKey(const std::string& tenant,
                                                                         const std::string& key) const {
  std::string value;
  rocksdb::Status status = state_->db()->Get(rocksdb::ReadOptions(), state_->column_family("run_keys"), RunKey(tenant, key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return FromRocks(status, "read idempotency key");
  return std::optional<std::string>(value);
}

absl::StatusOr<RunListPage> RunStore::List(const RunListQuery& query) const {
  RunListPage page;
  rocksdb::ManagedSnapshot snapshot(state_->db());
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  const std::string prefix = RunKey(query.tenant, "");
  // Bounded to the tenant's keys: unbounded, a walk past the tenant's first run stepped over every
  // deleted run of the tenant before it (DeleteRun leaves a marker until compaction), so one
  // tenant deleting runs in a loop slowed every other tenant's ListRuns.
  const std::string past_prefix = absl::StrCat(query.tenant, std::string(1, '\1'));
  rocksdb::Slice lower(prefix), upper(past_prefix);
  read.iterate_lower_bound = &lower;
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(read, state_->column_family("runs")));
  if (query.after_run_id.empty()) {
    // Past the tenant's last key: the prefix with its separator bumped.
    std::string end = query.tenant;
    end.push_back('\x01');
    it->SeekForPrev(end);
  } else {
    it->SeekForPrev(RunKey(query.tenant, query.after_run_id));
    if (it->Valid() && it->key().ToString() == RunKey(query.tenant, query.after_run_id)) it->Prev();
  }
  for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    const std::string run_id = it->key().ToString().substr(prefix.size());
    // The filters need the header alone; the rest is read for the runs on the page.
    absl::StatusOr<Header> header = ParseHeader(it->value(), run_id);
    if (!header.ok()) continue;
    const agentd::v1::Run& run = header->record.run();
    if (!query.states.empty() &&
        std::find(query.states.begin(), query.states.end(), run.state()) == query.states.end()) {
      continue;
    }
    if (!query.plan.empty() && run.plan() != query.plan) continue;
    if (page.runs.size() == query.page_size) {
      page.next_after_run_id = page.runs.back().run().run_id();
      break;
    }
    absl::StatusOr<RunRecord> record =
        Assemble(state_, snapshot.snapshot(), query.tenant, run_id, std::move(*header), /*whole=*/false);
    if (!record.ok()) continue;
    page.runs.push_back(std::move(*record));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "list runs");
  return page;
}

absl::StatusOr<std::vector<RunRecord>> RunStore::Unfinished() const {
  std::vector<RunRecord> runs;
  rocksdb::ManagedSnapshot snapshot(state_->db());
  rocksdb::ReadOptions read;
  read.snapshot = snapshot.snapshot();
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(read, state_->column_family("runs")));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    const size_t separator = key.find('\0');
    if (separator == std::string::npos) continue;
    const std::string tenant = key.substr(0, separator);
    const std::string run_id = key.substr(separator + 1);
    absl::StatusOr<Header> header = ParseHeader(it->value(), run_id);
    if (!header.ok()) continue;
    const auto state = header->record.run().state();
    if (state != agentd::v1::RUN_STATE_PENDING && state != agentd::v1::RUN_STATE_RUNNING) continue;
    absl::StatusOr<RunRecord> record = Assemble(state_, snapshot.snapshot(), tenant, run_id, std::move(*header), /*whole=*/true);
    if (!record.ok()) continue;
    runs.push_back(std::move(*record));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scan runs");
  return runs;
}

absl::Status RunStore::AppendEvent(const RunEvent& event) {
  std::string value;
  absl::Status serialized =
      AppendSerialized(event, options_.max_value_bytes, absl::StrCat("event ", event.sequence(), " of ", event.run_id()), &value);
  if (!serialized.ok()) return serialized;
  rocksdb::WriteBatch batch;
  batch.Put(state_->column_family("run_events"), EventKey(event.run_id(), event.sequence()), value);
  return state_->Write(&batch, "run store: write event");
}

absl::StatusOr<std::vector<RunEvent>> RunStore::ReadEvents(const std::string& run_id, uint64_t after_sequence,
                                                           size_t limit, size_t max_bytes) const {
  std::vector<RunEvent> events;
  size_t bytes = 0;
  const std::string prefix = EventPrefix(run_id), past_prefix = absl::StrCat(run_id, std::string(1, '\1'));
  // Bounded to the run's events, past which deleted runs' markers may lie (List above).
  rocksdb::ReadOptions read;
  rocksdb::Slice upper(past_prefix);
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(read, state_->column_family("run_events")));
  for (it->Seek(EventKey(run_id, after_sequence + 1)); it->Valid() && it->key().starts_with(prefix) && events.size() < limit;
       it->Next()) {
    bytes += it->value().size();
    if (!events.empty() && bytes > max_bytes) break;
    RunEvent event;
    if (!event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("run store: event ", SequenceOf(it->key()), " of ", run_id, " is unreadable"));
    }
    events.push_back(std::move(event));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read events");
  return events;
}

absl::StatusOr<std::string> RunStore::StoredHeader(const std::string& tenant, const std::string& run_id) const {
  std::string header;
  rocksdb::Status found = state_->db()->Get(rocksdb::ReadOptions(), state_->column_family("runs"), RunKey(tenant, run_id), &header);
  if (found.IsNotFound()) return absl::NotFoundError(absl::StrCat("run_id: no run ", run_id));
  if (!found.ok()) return FromRocks(found, "read run");
  return header;
}

absl::StatusOr<RunRecord> RunStore::ReadHeader(const std::string& tenant, const std::string& run_id) const {
  absl::StatusOr<std::string> header = StoredHeader(tenant, run_id);
  if (!header.ok()) return header.status();
  absl::StatusOr<Header> parsed = ParseHeader(*header, run_id);
  if (!parsed.ok()) return parsed.status();
  CountAtLeastItsHeader(&parsed->record, header->size());
  // A format-1 record is whole: its header is the record less what a format-2 header leaves out.
  parsed->record.mutable_run()->clear_steps();
  parsed->record.mutable_run()->clear_inputs_json();
  parsed->record.clear_plan_source();
  return std::move(parsed->record);
}

absl::Status RunStore::Delete(const std::string& tenant, const std::string& run_id) {
  const std::string key = RunKey(tenant, run_id);
  absl::StatusOr<std::string> header = StoredHeader(tenant, run_id);
  if (!header.ok()) return header.status();
  // The run's idempotency key, which its header names, goes with it (a StartRun with that key
  // starts a new run); a header too damaged to read leaves its key, which StartRun then treats
  // as unused.
  absl::StatusOr<Header> parsed = ParseHeader(*header, run_id);
  rocksdb::WriteBatch batch;
  if (parsed.ok() && !parsed->record.idempotency_key().empty()) {
    const std::string& idempotency_key = parsed->record.idempotency_key();
    absl::StatusOr<std::optional<std::string>> keyed = FindByIdempotencyKey(tenant, idempotency_key);
    if (keyed.ok() && keyed->has_value() && **keyed == run_id) {
      batch.Delete(state_->column_family("run_keys"), RunKey(tenant, idempotency_key));
    }
  }
  // Events are keyed by the run id alone: the header found above says the id is this tenant's.
  const std::string steps = StepPrefix(key), events = EventPrefix(run_id);
  for (const char* family : {"run_steps", "run_step_outputs"}) {
    batch.DeleteRange(state_->column_family(family), steps, absl::StrCat(key, std::string(1, '\1')));
  }
  batch.DeleteRange(state_->column_family("run_events"), events, absl::StrCat(run_id, std::string(1, '\1')));
  for (const char* family : {"runs", "run_inputs", "run_plans"}) batch.Delete(state_->column_family(family), key);
  return state_->Write(&batch, "run store: delete run");
}

absl::StatusOr<std::map<std::string, RunStore::TenantRuns>> RunStore::CountByTenant() const {
  std::map<std::string, TenantRuns> counts;
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(rocksdb::ReadOptions(), state_->column_family("runs")));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    const void* end = std::memchr(key.data(), '\0', key.size());
    if (end == nullptr) continue;
    TenantRuns& tenant = counts[std::string(key.data(), static_cast<const char*>(end) - key.data())];
    ++tenant.runs;
    // A header that cannot be read counts what it holds.
    const char* id = static_cast<const char*>(end) + 1;
    absl::StatusOr<Header> header = ParseHeader(it->value(), std::string(id, key.data() + key.size() - id));
    if (header.ok()) CountAtLeastItsHeader(&header->record, it->value().size());
    tenant.bytes += header.ok() ? header->record.stored_bytes() : it->value().size();
  }
  if (!it->status().ok()) return FromRocks(it->status(), "count runs");
  return counts;
}

absl::StatusOr<uint64_t> RunStore::LastSequence(const std::string& run_id) const {
  // Bounded to the run's events: a run without any stepped back over earlier deleted runs' markers.
  const std::string prefix = EventPrefix(run_id);
  rocksdb::ReadOptions read;
  rocksdb::Slice lower(prefix);
  read.iterate_lower_bound = &lower;
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(read, state_->column_family("run_events")));
  it->SeekForPrev(EventKey(run_id, ~uint64_t{0}));
  if (!it->status().ok()) return FromRocks(it->status(), "read events");
  if (!it->Valid() || !it->key().starts_with(EventPrefix(run_id))) return uint64_t{0};
  return SequenceOf(it->key());
}

}  // namespace agentd::runs
