// Runs and their events in the daemon's state database.
//
// A run is stored in parts, so that a checkpoint writes what changed and not the whole run
// (format 2; writing the whole record at every step's start and end made a plan of 5,000
// trivial steps write 957 MB and take 33 s). Key K = tenant \0 run_id; step keys are K \0
// big-endian u32 step index. Column families:
//   "runs"             K → the header: the RunRecord without its steps, inputs_json and
//                      plan_source, with stored_step_count
//   "run_steps"        K \0 index → the step without its output and transcript (what ListRuns shows)
//   "run_step_outputs" K \0 index → the step's output_json and transcript only
//   "run_inputs"       K → a Run holding only inputs_json (written once)
//   "run_plans"        K → a RunRecord holding only plan_source (written once)
//   "run_events"       run_id \0 big-endian sequence → RunEvent
//   "run_keys"         tenant \0 idempotency key → run_id
// Every value of the first five starts with kMagic and a format version byte. Format 1, which
// earlier daemons wrote, is the whole RunRecord as a bare protobuf under "runs" (no magic: such
// a record starts with the tag of field 1, 0x0A, never with 'A'); it is read as before, and the
// first write of such a run stores it whole in format 2. Events and idempotency keys kept their
// format.
//
// Run ids start with the creation time in hex, so a tenant's runs sort oldest to newest. Every
// write is synced before it returns: a checkpoint or event the daemon acknowledged survives a
// crash. Reads of a run's parts see one snapshot of the database.
#ifndef AGENTD_RUNS_RUN_STORE_H_
#define AGENTD_RUNS_RUN_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
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
  // Newest first; without plan_source and without the steps' output_json and transcript (a
  // list shows neither, and they are most of what a run holds).
  std::vector<agentd::internal::RunRecord> runs;
  std::string next_after_run_id;  // empty on the last page
};

struct RunStoreOptions {
  // The most bytes one stored value may hold: protobuf serialises at most 2 GiB - 1. Lower
  // only in tests, to reach the refusal without gigabytes of data.
  size_t max_value_bytes = 0x7fffffff;
};

class RunStore {
 public:
  static constexpr const char* kColumnFamilies[] = {"runs",     "run_events", "run_keys", "run_steps",
                                                    "run_step_outputs", "run_inputs", "run_plans"};
  // Starts every value of format 2, followed by the version byte.
  static constexpr char kMagic[] = "AGENTD-RUN";
  static constexpr char kFormatVersion = 2;

  // `state` must have been opened with kColumnFamilies; it outlives the RunStore.
  static absl::StatusOr<std::unique_ptr<RunStore>> Create(StateStore* state, const RunStoreOptions& options = {});

  // "run-<13 hex digits of ms since the epoch>-<8 random hex digits>".
  static std::string NewRunId();

  // Whether `status` is a write refused because a value (a run part, an event) would pass
  // max_value_bytes — as opposed to a full disk, which is RESOURCE_EXHAUSTED too but passes.
  static bool IsValueTooLarge(const absl::Status& status);

  // Writes the whole run: header, inputs, plan source and every step; with `idempotency_key`
  // also maps the key to it, in the same batch.
  //
  // The writes here borrow `record` to serialise its parts without copying them (a run's steps
  // may hold tens of MiB) and hand it back as it was; the caller must hold whatever guards it.
  // RESOURCE_EXHAUSTED when a part would exceed max_value_bytes (protobuf cannot serialise
  // 2 GiB): then nothing was written and the stored run is as it was.
  absl::Status Put(agentd::internal::RunRecord* record, const std::string& idempotency_key = "");
  // A checkpoint: writes the run's header and the steps at `changed_steps` (indices into
  // run.steps), and any step the stored run does not have yet. A run stored in format 1, or
  // not at all, is written whole (Put). Errors as Put's.
  absl::Status Checkpoint(agentd::internal::RunRecord* record, const std::set<int>& changed_steps);
  // NOT_FOUND when the tenant has no such run.
  absl::StatusOr<agentd::internal::RunRecord> Get(const std::string& tenant, const std::string& run_id) const;
  absl::StatusOr<std::optional<std::string>> FindByIdempotencyKey(const std::string& tenant,
                                                                  const std::string& key) const;
  // Reads the steps (without outputs) only of the runs on the page.
  absl::StatusOr<RunListPage> List(const RunListQuery& query) const;
  // Every run, of every tenant, that is PENDING or RUNNING (the ones a restart must resume),
  // whole. Reads the other runs' headers only.
  absl::StatusOr<std::vector<agentd::internal::RunRecord>> Unfinished() const;

  // Removes the run with its steps, inputs, plan source, events and idempotency key, in one
  // batch. NOT_FOUND when the tenant has no such run. Whether the run may go (it has ended) is
  // the caller's to decide.
  absl::Status Delete(const std::string& tenant, const std::string& run_id);
  // The run's header alone: the record without its steps, inputs and plan source (which may be
  // large and are not read). NOT_FOUND when the tenant has no such run; DATA_LOSS when the
  // header cannot be read.
  absl::StatusOr<agentd::internal::RunRecord> ReadHeader(const std::string& tenant, const std::string& run_id) const;
  // What each tenant has stored: its runs and their bytes (RunRecord.stored_bytes), from the run
  // headers.
  struct TenantRuns {
    uint64_t runs = 0;
    uint64_t bytes = 0;
  };
  absl::StatusOr<std::map<std::string, TenantRuns>> CountByTenant() const;

  // RESOURCE_EXHAUSTED (nothing written) for an event past max_value_bytes.
  absl::Status AppendEvent(const agentd::v1::RunEvent& event);
  // Events with sequence > after_sequence, in order: at most `limit`, and past the first at
  // most `max_bytes` of them as stored (a reader holds the batch in memory).
  absl::StatusOr<std::vector<agentd::v1::RunEvent>> ReadEvents(const std::string& run_id, uint64_t after_sequence,
                                                               size_t limit, size_t max_bytes) const;
  // 0 when the run has no events.
  absl::StatusOr<uint64_t> LastSequence(const std::string& run_id) const;

 private:
  RunStore(StateStore* state, const RunStoreOptions& options);
  // Writes the header and the steps at `steps` (all of them when null), and with `whole` also
  // the inputs and plan source.
  absl::Status Write(agentd::internal::RunRecord* record, const std::vector<int>& steps, bool whole,
                     const std::string& idempotency_key);
  absl::Status FromRocks(const rocksdb::Status& status, const char* what) const;
  // The stored header of the tenant's run, as written; NOT_FOUND naming run_id.
  absl::StatusOr<std::string> StoredHeader(const std::string& tenant, const std::string& run_id) const;

  StateStore* state_;
  RunStoreOptions options_;
};

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_RUN_STORE_H_
