// One reactor per streaming generation RPC (Generate, Chat): the engine runs on a worker thread
// and hands over deltas, which the reactor writes to the client one at a time in order (gRPC
// allows a single outstanding write). A cancelled call (client gone, deadline, server shutdown)
// stops the engine at its next token.
#ifndef AGENTD_SERVICES_GENERATION_REACTOR_H_
#define AGENTD_SERVICES_GENERATION_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "agentd/v1/model.pb.h"
#include "stream_slots.h"

namespace agentd::services {

class GenerationReactor final : public grpc::ServerWriteReactor<agentd::v1::GenerateResponse> {
 public:
  // `work` runs on the worker thread; it calls `send` for each message and returns the status
  // the stream ends with. `cancelled` turns true when the call is cancelled.
  using Send = std::function<void(agentd::v1::GenerateResponse)>;
  using Work = std::function<grpc::Status(const Send& send, const std::atomic<bool>* cancelled)>;

  // `slot` is held until the call is done and the worker has ended.
  GenerationReactor(Work work, StreamSlots::Slot slot);

  void OnWriteDone(bool ok) override;
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override;

 private:
  void Enqueue(agentd::v1::GenerateResponse response);
  void Complete(const grpc::Status& status);
  // Starts the next write or the finish; requires mutex_.
  void PumpLocked();

  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::deque<agentd::v1::GenerateResponse> queue_;
  agentd::v1::GenerateResponse in_flight_;
  bool writing_ = false;
  bool work_done_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
  std::thread worker_;
  // Declared after worker_ only for clarity: OnDone joins the worker before `delete this`
  // gives the slot back.
  std::optional<StreamSlots::Slot> slot_;
};

}  // namespace agentd::services

#endif  // AGENTD_SERVICES_GENERATION_REACTOR_H_
