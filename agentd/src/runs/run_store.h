// Runs and their events in the daemon's state database.
//
// Column families: "runs" (key tenant \0 run_id → RunRecord), "run_events" (key run_id \0
// big-endian sequence → RunEvent) and "run_keys" (tenant \0 idempotency key → run_id). Run ids
// start with the creation time in hex, so a tenant's runs sort oldest to newest. Every write is
// synced before it returns: a checkpoint or event the daemon acknowledged survives a crash.
#ifndef AGENTD_RUNS_RUN_STORE_H_
#define AGENTD_RUNS_RUN_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agentd/internal/run_record.pb.h"
#include "agentd/state_store.h"
#include "agentd/v1/agent.pb.h"

namespace rocksdb {
class Status;
}  // namespace rocksdb

namespace agentd::runs {

struct RunListQuery {
  std::string tenant;
  // 1..1000.
  uint32_t page_size = 50;
  // Run id of the last run of the previous page; empty for the first page.
  std::string after_run_id;
  // Empty: every state.
  std::vector<agentd::v1::RunState> states;
  // Empty: every plan.
  std::string plan;
};

struct RunListPage {
  std::vector<agentd::internal::RunRecord> runs;  // newest first
  std::string next_after_run_id;                    // empty on the last page
};

class RunStore {
 public:
  static constexpr const char* kColumnFamilies[] = {"runs", "run_events", "run_keys"};

  // `state` must have been opened with kColumnFamilies; it outlives the RunStore.
  static absl::StatusOr<std::unique_ptr<RunStore>> Create(StateStore* state);

  // "run-<13 hex digits of ms since the epoch>-<8 random hex digits>".
  static std::string NewRunId();

  // Writes the record; with `idempotency_key` also maps the key to it, in the same batch.
  absl::Status Put(const agentd::internal::RunRecord& record, const std::string& idempotency_key = "");
  // NOT_FOUND when the tenant has no such run.
  absl::StatusOr<agentd::internal::RunRecord> Get(const std::string& tenant, const std::string& run_id) const;
  absl::StatusOr<std::optional<std::string>> FindByIdempotencyKey(const std::string& tenant,
                                                                  const std::string& key) const;
  absl::StatusOr<RunListPage> List(const RunListQuery& query) const;
  // Every run, of every tenant, that is PENDING or RUNNING (the ones a restart must resume).
  absl::StatusOr<std::vector<agentd::internal::RunRecord>> Unfinished() const;

  absl::Status AppendEvent(const agentd::v1::RunEvent& event);
  // Events with sequence > after_sequence, in order: at most `limit`, and past the first at
  // most `max_bytes` of them as stored (a reader holds the batch in memory).
  absl::StatusOr<std::vector<agentd::v1::RunEvent>> ReadEvents(const std::string& run_id, uint64_t after_sequence,
                                                               size_t limit, size_t max_bytes) const;
  // 0 when the run has no events.
  absl::StatusOr<uint64_t> LastSequence(const std::string& run_id) const;

 private:
  explicit RunStore(StateStore* state);
  absl::Status FromRocks(const rocksdb::Status& status, const char* what) const;
  StateStore* state_;
};

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_RUN_STORE_H_
