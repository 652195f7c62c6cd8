// The run viewer on the HTTP side: the browser page at GET / (static files built into the
// binary, viewer_assets.h) and the JSON API it reads, every call scoped to the caller's tenant:
//
//   GET  /api/whoami                      the tenant the token acts for, or why none (200 both)
//   GET  /api/collections                 the tenant's memory collections
//   GET  /api/runs?page_token=            the tenant's runs, newest first (proto3 JSON)
//   POST /api/runs                        {"topic", "collection", "style"}: starts a report run
//   GET  /api/runs/ID                     one run, its steps and report
//   POST /api/runs/ID/cancel              cancels it
//   GET  /api/runs/ID/events?after=N      its events after sequence N as server-sent events
//                                         (id: = the sequence), live until the run ends
//   GET  /api/passage?collection=&document_id=&start=&end=
//                                         the document around a cited passage (ReadPassage)
//
// The frontend owns the listener, authentication and the per-tenant request slots; the viewer
// adds its routes through AddRunViewerRoutes.
#ifndef AGENTD_HTTP_RUN_VIEWER_H_
#define AGENTD_HTTP_RUN_VIEWER_H_

#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agentd/daemon_options.h"
#include "memory/memory_store.h"
#include "runs/run_manager.h"

namespace agentd::http {

struct RunViewerOptions {
  // Both required; borrowed, they must outlive the server's requests.
  runs::RunManager* runs = nullptr;
  memory::MemoryStore* memory = nullptr;
  // What a started run's request must satisfy (as gRPC's StartRun).
  RequestLimits limits;
  // The caller's tenant, or UNAUTHENTICATED. Required.
  std::function<absl::StatusOr<std::string>(const httplib::Request&)> authenticate;
  // A slot among the tenant's requests in flight, held while a call is served (a live event
  // stream takes an event stream instead); null when the tenant has none left. Required.
  std::function<std::shared_ptr<void>(const std::string& tenant)> take_slot;
  // Live event streams open at once over all tenants (each holds a server thread while its run
  // goes on, for at most 5 minutes, then the page reconnects); a quarter of them per tenant.
  // One more is 429 and the page retries. Default 8.
  int max_event_streams = 8;
  // Set when the server stops: open event streams end within a second. Required.
  const std::atomic<bool>* stopping = nullptr;
  // Counts each API request by endpoint and HTTP status. Optional.
  std::function<void(const std::string& endpoint, int status)> count_request;
};

void AddRunViewerRoutes(httplib::Server& server, const RunViewerOptions& options);

}  // namespace agentd::http

#endif  // AGENTD_HTTP_RUN_VIEWER_H_
