#include "generation_reactor.h"

namespace agentd::services {

GenerationReactor::GenerationReactor(Work work, StreamSlots::Slot slot) : slot_(std::move(slot)) {
  worker_ = std::thread([this, work = std::move(work)] {
    grpc::Status status = work([this](agentd::v1::GenerateResponse r) { Enqueue(std::move(r)); }, &cancelled_);
    Complete(status);
  });
}

void GenerationReactor::Enqueue(agentd::v1::GenerateResponse response) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cancelled_) return;
  queue_.push_back(std::move(response));
  PumpLocked();
}

void GenerationReactor::Complete(const grpc::Status& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  work_done_ = true;
  final_status_ = cancelled_ && status.ok() ? grpc::Status(grpc::StatusCode::CANCELLED, "cancelled") : status;
  PumpLocked();
}

void GenerationReactor::PumpLocked() {
  if (writing_ || finished_) return;
  if (!queue_.empty() && !cancelled_) {
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    StartWrite(&in_flight_);
    return;
  }
  if (work_done_) {
    finished_ = true;
    Finish(final_status_);
  }
}

void GenerationReactor::OnWriteDone(bool ok) {
  std::lock_guard<std::mutex> lock(mutex_);
  writing_ = false;
  if (!ok) {
    // The client is gone: stop generating, drop what is queued.
    cancelled_ = true;
    queue_.clear();
  }
  PumpLocked();
}

void GenerationReactor::OnDone() {
  // OnDone may in principle run on the worker itself (right after its Finish); it must not
  // wait for itself then.
  if (worker_.joinable()) {
    if (worker_.get_id() == std::this_thread::get_id()) {
      worker_.detach();
    } else {
      worker_.join();
    }
  }
  delete this;
}

}  // namespace agentd::services
