// What the run manager and the host of one executing plan share: the live state of a run
// (ActiveRun) and the journal the host writes through (RunJournal: events, checkpoints and the
// wake-up of a run's subscribers), which RunManager implements.
#ifndef AGENTD_RUNS_ACTIVE_RUN_H_
#define AGENTD_RUNS_ACTIVE_RUN_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "agentd/internal/run_record.pb.h"
#include "agentd/v1/agent.pb.h"
#include "runs/run_manager.h"

namespace agentd::runs {

struct ActiveRun {
  std::mutex mutex;
  agentd::internal::RunRecord record;
  uint64_t last_sequence = 0;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> interrupted{false};
  // cancelled || interrupted, for the sandbox to poll.
  std::atomic<bool> stop_requested{false};
  // Bytes of events IsBoundedEvent counts stored in this execution, and whether some were
  // dropped (kMaxRunEventBytes); guarded by mutex.
  size_t bounded_event_bytes = 0;
  bool events_dropped = false;
  bool resumed = false;
  bool queued = false;
  // Steps changed since the last checkpoint (indices into record.run().steps()): the next
  // checkpoint writes these and the run's header, not the whole run. Every change to a stored
  // step goes through ChangeStep; a new step is written without being named here.
  std::set<int> changed_steps;

  // The step named `name`, marked changed; nullptr when the run has none. The caller holds mutex.
  agentd::v1::Step* ChangeStep(const std::string& name) {
    auto* steps = record.mutable_run()->mutable_steps();
    for (int i = 0; i < steps->size(); ++i) {
      if ((*steps)[i].name() == name) {
        changed_steps.insert(i);
        return steps->Mutable(i);
      }
    }
    return nullptr;
  }
  // Set while a worker executes the run.
  std::atomic<bool> executing{false};
  // The run has ended, but its final record could not be stored (a full disk): it stays among
  // the active runs, as its clients see it, until RunManager stores it — at the next write that
  // succeeds (a start, a resume), when a worker finishes a run, or at shutdown. Should the
  // daemon stop before, the store still says RUNNING and the next start resumes it from its
  // last checkpoint. `unsaved_error` (guarded by mutex) is why.
  std::atomic<bool> unsaved{false};
  absl::Status unsaved_error;
  // Whether the run's RunEnded event was stored; guarded by mutex.
  bool ended_event_stored = false;
  // Events this execution could not store since the last one it could; guarded by mutex.
  uint64_t events_not_stored = 0;
  // What the run adds to its tenant's stored bytes (runs.max_stored_bytes_per_tenant): as of its
  // last write, and of that its events'. From the stored record for a run read back; guarded by
  // mutex.
  uint64_t counted_bytes = 0;
  uint64_t event_bytes = 0;
};

class RunJournal {
 public:
  virtual ~RunJournal() = default;
  virtual const RunManagerOptions& options() const = 0;
  // Appends an event with the next sequence number; the caller holds run.mutex. False when it
  // could not be stored: it is dropped, and its sequence number goes to the next event, so no
  // stream waits for an event that does not exist.
  virtual bool Emit(ActiveRun& run, agentd::v1::RunEvent event) = 0;
  // Stores the run's checkpoint: its header and the steps changed since the last one. The
  // caller holds run.mutex.
  virtual absl::Status Persist(ActiveRun& run) = 0;
  // Wakes the run's event subscribers.
  virtual void Notify(const std::string& run_id) = 0;
};

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_ACTIVE_RUN_H_
