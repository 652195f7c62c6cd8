#include "runs/run_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"

namespace agentd::runs {
namespace {

using agentd::internal::RunRecord;
using agentd::v1::RunEvent;

std::string RunKey(const std::string& tenant, const std::string& run_id) {
  return absl::StrCat(tenant, std::string(1, '\0'), run_id);
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

}  // namespace

absl::Status RunStore::FromRocks(const rocksdb::Status& status, const char* what) const {
  return state_->Error(status, absl::StrCat("run store: ", what));
}

RunStore::RunStore(StateStore* state) : state_(state) {}

absl::StatusOr<std::unique_ptr<RunStore>> RunStore::Create(StateStore* state) {
  for (const char* name : kColumnFamilies) {
    if (state->column_family(name) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("run store: column family ", name, " is not open"));
    }
  }
  return std::unique_ptr<RunStore>(new RunStore(state));
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

absl::Status RunStore::Put(const RunRecord& record, const std::string& idempotency_key) {
  rocksdb::WriteBatch batch;
  std::string value;
  record.SerializeToString(&value);
  batch.Put(state_->column_family("runs"), RunKey(record.run().tenant(), record.run().run_id()), value);
  if (!idempotency_key.empty()) {
    batch.Put(state_->column_family("run_keys"), RunKey(record.run().tenant(), idempotency_key), record.run().run_id());
  }
  return state_->Write(&batch, "run store: write run");
}

absl::StatusOr<RunRecord> RunStore::Get(const std::string& tenant, const std::string& run_id) const {
  std::string value;
  rocksdb::Status status = state_->db()->Get(rocksdb::ReadOptions(), state_->column_family("runs"), RunKey(tenant, run_id), &value);
  if (status.IsNotFound()) return absl::NotFoundError(absl::StrCat("run_id: no run ", run_id));
  if (!status.ok()) return FromRocks(status, "read run");
  RunRecord record;
  if (!record.ParseFromString(value)) return absl::DataLossError(absl::StrCat("run store: run ", run_id, " is unreadable"));
  return record;
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
  const std::string prefix = RunKey(query.tenant, "");
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(rocksdb::ReadOptions(), state_->column_family("runs")));
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
    RunRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
    const agentd::v1::Run& run = record.run();
    if (!query.states.empty() &&
        std::find(query.states.begin(), query.states.end(), run.state()) == query.states.end()) {
      continue;
    }
    if (!query.plan.empty() && run.plan() != query.plan) continue;
    if (page.runs.size() == query.page_size) {
      page.next_after_run_id = page.runs.back().run().run_id();
      break;
    }
    page.runs.push_back(std::move(record));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "list runs");
  return page;
}

absl::StatusOr<std::vector<RunRecord>> RunStore::Unfinished() const {
  std::vector<RunRecord> runs;
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(rocksdb::ReadOptions(), state_->column_family("runs")));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    RunRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
    const auto state = record.run().state();
    if (state == agentd::v1::RUN_STATE_PENDING || state == agentd::v1::RUN_STATE_RUNNING) runs.push_back(std::move(record));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scan runs");
  return runs;
}

absl::Status RunStore::AppendEvent(const RunEvent& event) {
  std::string value;
  event.SerializeToString(&value);
  rocksdb::WriteBatch batch;
  batch.Put(state_->column_family("run_events"), EventKey(event.run_id(), event.sequence()), value);
  return state_->Write(&batch, "run store: write event");
}

absl::StatusOr<std::vector<RunEvent>> RunStore::ReadEvents(const std::string& run_id, uint64_t after_sequence,
                                                           size_t limit, size_t max_bytes) const {
  std::vector<RunEvent> events;
  size_t bytes = 0;
  const std::string prefix = EventPrefix(run_id);
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(rocksdb::ReadOptions(), state_->column_family("run_events")));
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

absl::StatusOr<uint64_t> RunStore::LastSequence(const std::string& run_id) const {
  std::unique_ptr<rocksdb::Iterator> it(state_->db()->NewIterator(rocksdb::ReadOptions(), state_->column_family("run_events")));
  it->SeekForPrev(EventKey(run_id, ~uint64_t{0}));
  if (!it->status().ok()) return FromRocks(it->status(), "read events");
  if (!it->Valid() || !it->key().starts_with(EventPrefix(run_id))) return uint64_t{0};
  return SequenceOf(it->key());
}

}  // namespace agentd::runs
