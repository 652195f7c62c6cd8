// The daemon's HTTP listener (--http-listen, off by default): the OpenAI-compatible API
// (POST /v1/chat/completions, /v1/completions, /v1/embeddings; GET /v1/models), GET /metrics
// in the Prometheus text format, and the run viewer (GET /, run_viewer.h). Served by cpp-httplib on its own threads, with the gRPC
// side's API tokens (Authorization: Bearer) and TLS certificate; every generation goes through
// the same engine scheduler as gRPC requests and plan steps.
//
//   auto frontend = HttpFrontend::Start(options);
//   if (!frontend.ok()) ...;
//   int port = (*frontend)->port();
//   (*frontend)->Stop();   // also on destruction
#ifndef AGENTD_HTTP_HTTP_FRONTEND_H_
#define AGENTD_HTTP_HTTP_FRONTEND_H_

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "agentd/daemon_options.h"
#include "engine/engine.h"
#include "http/serving_metrics.h"
#include "memory/memory_store.h"
#include "runs/run_manager.h"
#include "services/stream_slots.h"

namespace agentd::http {

struct HttpFrontendOptions {
  // HOST:PORT; port 0 picks a free one (see HttpFrontend::port). Required.
  std::string listen;
  // PEM files; both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // API token → tenant, as for gRPC. Empty: no authentication, every caller is "default".
  std::map<std::string, std::string> api_tokens;
  // The tokens that may read /metrics when authentication is on.
  std::set<std::string> admin_tokens;
  // The generating engine and the embedding one (may be the same, or null when not loaded).
  // Borrowed: they must outlive the frontend.
  engine::Engine* engine = nullptr;
  engine::Engine* embedding_engine = nullptr;
  // Largest request body accepted. Default 4 MiB.
  uint64_t max_request_bytes = 4ull << 20;
  // Threads serving requests (each streaming request holds one while it generates). Default 16.
  int threads = 16;
  // The daemon's budget of generations that hold a thread (engine.max_streams), shared with
  // gRPC's streams: a generation without a slot is 429. Null: no shared budget.
  services::StreamSlots* stream_slots = nullptr;
  // What /metrics shows; the frontend counts its own requests into it. Required; borrowed.
  ServingMetrics* metrics = nullptr;
  // The runs and memory the run viewer (GET /, /api/...) shows; both null: no viewer. Borrowed.
  runs::RunManager* runs = nullptr;
  memory::MemoryStore* memory = nullptr;
  // What a run started from the viewer must satisfy, as gRPC's StartRun.
  RequestLimits limits;
};

class HttpFrontend {
 public:
  // Binds and starts serving; UNAVAILABLE naming the address when it cannot bind.
  static absl::StatusOr<std::unique_ptr<HttpFrontend>> Start(const HttpFrontendOptions& options);
  virtual ~HttpFrontend() = default;
  virtual int port() const = 0;
  // Stops accepting, waits for the requests being served. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace agentd::http

#endif  // AGENTD_HTTP_HTTP_FRONTEND_H_
