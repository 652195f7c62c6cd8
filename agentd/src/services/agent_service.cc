#include "agent_service.h"

#include <deque>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace agentd::services {
namespace {

using namespace agentd::v1;

// Streams one run's events: the stored backlog after the client's sequence, then new events as
// the run appends them (a subscription wakes the reactor), until the run has ended and every
// event was written. One write in flight at a time, as gRPC requires.
//
// What a stream holds does not grow with the run or with a client that reads slowly or never:
// at most kStreamReadBytes of events read ahead (and the one being written), as they were
// stored. Reading 64 events at a time whatever their size, eight streams that read nothing on
// a run of 64 one-MiB warnings held 420 MB.
constexpr size_t kStreamReadBytes = 256 * 1024;

class RunEventReactor final : public grpc::ServerWriteReactor<RunEvent> {
 public:
  RunEventReactor(runs::RunManager* runs, std::string tenant, const StreamRunRequest& request,
                  std::shared_ptr<void> stream_ticket)
      : runs_(runs), tenant_(std::move(tenant)), run_id_(request.run_id()), cursor_(request.after_sequence()),
        include_tokens_(request.include_tokens()), stream_ticket_(std::move(stream_ticket)),
        shared_(std::make_shared<Shared>()) {
    shared_->reactor = this;
    std::weak_ptr<Shared> weak = shared_;
    subscription_ = runs_->Subscribe(run_id_, [weak] {
      if (auto shared = weak.lock()) {
        std::lock_guard<std::mutex> lock(shared->mutex);
        if (shared->reactor != nullptr) shared->reactor->PumpLocked();
      }
    });
    std::lock_guard<std::mutex> lock(shared_->mutex);
    PumpLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped reading"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    cancelled_ = true;
    if (!writing_) FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    {
      std::lock_guard<std::mutex> lock(shared_->mutex);
      shared_->reactor = nullptr;
    }
    runs_->Unsubscribe(run_id_, subscription_);
    delete this;
  }

 private:
  struct Shared {
    std::mutex mutex;
    RunEventReactor* reactor = nullptr;
  };

  void FinishLocked(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  // Requires shared_->mutex.
  void PumpLocked() {
    if (writing_ || finished_) return;
    if (cancelled_) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return;
    }
    bool ended = false, interrupted = false;
    while (pending_.empty()) {
      absl::StatusOr<runs::RunManager::EventBatch> batch = runs_->ReadEvents(tenant_, run_id_, cursor_, 64, kStreamReadBytes);
      if (!batch.ok()) {
        FinishLocked(ToGrpcStatus(batch.status()));
        return;
      }
      for (RunEvent& event : batch->events) {
        cursor_ = event.sequence();
        if (!include_tokens_ && event.has_token_delta()) continue;
        pending_.push_back(std::move(event));
      }
      ended = batch->ended;
      interrupted = batch->interrupted;
      if (batch->events.empty()) break;
    }
    if (!pending_.empty()) {
      in_flight_ = std::move(pending_.front());
      pending_.pop_front();
      writing_ = true;
      StartWrite(&in_flight_);
      return;
    }
    if (ended) FinishLocked(grpc::Status::OK);
    if (interrupted) {
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                absl::StrCat("the daemon is shutting down; the run resumes at its next start: follow it "
                                             "again after sequence ", cursor_)));
    }
  }

  runs::RunManager* runs_;
  const std::string tenant_;
  const std::string run_id_;
  uint64_t cursor_;
  const bool include_tokens_;
  // The stream's place among its tenant's (AgentServiceOptions::max_streams_per_tenant), given
  // back when the reactor is deleted.
  std::shared_ptr<void> stream_ticket_;
  std::shared_ptr<Shared> shared_;
  uint64_t subscription_ = 0;
  std::deque<RunEvent> pending_;
  RunEvent in_flight_;
  bool writing_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
};

}  // namespace

grpc::ServerUnaryReactor* AgentServiceImpl::StartRun(grpc::CallbackServerContext* context,
                                                     const StartRunRequest* request,
                                                     StartRunResponse* response) {
  return HandleSlowUnary(context, env_, "AgentService.StartRun", *request,
                         [this, request, response](const std::string& tenant) {
    bool existing = false;
    absl::StatusOr<Run> run = runs_->Start(tenant, *request, &existing);
    if (!run.ok()) return ToGrpcStatus(run.status());
    response->set_run_id(run->run_id());
    *response->mutable_run() = std::move(*run);
    return grpc::Status::OK;
  });
}

grpc::ServerWriteReactor<RunEvent>* AgentServiceImpl::StreamRun(grpc::CallbackServerContext* context,
                                                                const StreamRunRequest* request) {
  std::string tenant;
  if (auto* rejected = RejectInvalidStream<RunEvent>(context, env_, "AgentService.StreamRun", *request, &tenant)) {
    return rejected;
  }
  absl::StatusOr<Run> run = runs_->Get(tenant, request->run_id(), false);
  if (!run.ok()) {
    grpc::Status status = ToGrpcStatus(run.status());
    LogRefusedCall("AgentService.StreamRun", status);
    return new FinishedWriteReactor<RunEvent>(status);
  }
  std::shared_ptr<void> ticket = TakeStream(tenant);
  if (ticket == nullptr) {
    grpc::Status status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("tenant ", tenant, " already has ", options_.max_streams_per_tenant,
                                     " StreamRun calls open (the limit); close one first"));
    LogRefusedCall("AgentService.StreamRun", status);
    return new FinishedWriteReactor<RunEvent>(status);
  }
  return new RunEventReactor(runs_, tenant, *request, std::move(ticket));
}

std::shared_ptr<void> AgentServiceImpl::TakeStream(const std::string& tenant) {
  {
    std::lock_guard<std::mutex> lock(streams_->mutex);
    int& mine = streams_->open[tenant];
    if (mine >= options_.max_streams_per_tenant) {
      if (mine == 0) streams_->open.erase(tenant);
      return nullptr;
    }
    ++mine;
  }
  class Ticket {
   public:
    Ticket(std::shared_ptr<StreamCounts> streams, std::string tenant)
        : streams_(std::move(streams)), tenant_(std::move(tenant)) {}
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() {
      std::lock_guard<std::mutex> lock(streams_->mutex);
      if (--streams_->open[tenant_] <= 0) streams_->open.erase(tenant_);
    }

   private:
    std::shared_ptr<StreamCounts> streams_;
    std::string tenant_;
  };
  return std::make_shared<Ticket>(streams_, tenant);
}

grpc::ServerUnaryReactor* AgentServiceImpl::GetRun(grpc::CallbackServerContext* context,
                                                   const GetRunRequest* request, Run* response) {
  return HandleUnary(context, env_, "AgentService.GetRun", *request, [&](const std::string& tenant) {
    absl::StatusOr<Run> run = runs_->Get(tenant, request->run_id(), request->include_transcripts());
    if (!run.ok()) return ToGrpcStatus(run.status());
    *response = std::move(*run);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AgentServiceImpl::ListRuns(grpc::CallbackServerContext* context,
                                                     const ListRunsRequest* request,
                                                     ListRunsResponse* response) {
  return HandleUnary(context, env_, "AgentService.ListRuns", *request, [&](const std::string& tenant) {
    if (request->page_size() > 1000) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size: at most 1000");
    }
    absl::StatusOr<ListRunsResponse> page = runs_->List(tenant, *request);
    if (!page.ok()) return ToGrpcStatus(page.status());
    *response = std::move(*page);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AgentServiceImpl::CancelRun(grpc::CallbackServerContext* context,
                                                      const CancelRunRequest* request,
                                                      Run* response) {
  return HandleUnary(context, env_, "AgentService.CancelRun", *request, [&](const std::string& tenant) {
    absl::StatusOr<Run> run = runs_->Cancel(tenant, request->run_id(), request->reason());
    if (!run.ok()) return ToGrpcStatus(run.status());
    *response = std::move(*run);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AgentServiceImpl::DeleteRun(grpc::CallbackServerContext* context,
                                                      const DeleteRunRequest* request, DeleteRunResponse*) {
  return HandleUnary(context, env_, "AgentService.DeleteRun", *request, [&](const std::string& tenant) {
    return ToGrpcStatus(runs_->Delete(tenant, request->run_id()));
  });
}

grpc::ServerUnaryReactor* AgentServiceImpl::ResumeRun(grpc::CallbackServerContext* context,
                                                      const ResumeRunRequest* request,
                                                      Run* response) {
  return HandleUnary(context, env_, "AgentService.ResumeRun", *request, [&](const std::string& tenant) {
    absl::StatusOr<Run> run = runs_->Resume(tenant, request->run_id());
    if (!run.ok()) return ToGrpcStatus(run.status());
    *response = std::move(*run);
    return grpc::Status::OK;
  });
}

}  // namespace agentd::services
