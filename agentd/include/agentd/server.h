// The daemon: owns the data directory, the state store and the gRPC server with every agentd.v1
// service, grpc.health.v1 and server reflection.
//
//   auto server = agentd::Server::Start(options);   // lock data dir, open storage, listen
//   if (!server.ok()) { print(server.status()); return 1; }
//   ... wait for SIGTERM ...
//   (*server)->Shutdown();                           // drain calls, flush storage, unlock
#ifndef AGENTD_SERVER_H_
#define AGENTD_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "agentd/daemon_options.h"

namespace agentd {

class Server {
 public:
  // Validates the options, acquires the data dir, opens the state store and starts serving.
  // On success health reports SERVING and, when options.port_file is set, the bound port has
  // been written there.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const DaemonOptions& options);

  virtual ~Server() = default;

  // The TCP port actually bound (resolves port 0).
  virtual int port() const = 0;

  // Health turns NOT_SERVING, new calls are refused, in-flight calls and streams get up to
  // options.shutdown_grace_seconds to finish and are cancelled after that; then storage is
  // flushed and closed and the data dir unlocked. Idempotent.
  virtual absl::Status Shutdown() = 0;
};

}  // namespace agentd

#endif  // AGENTD_SERVER_H_
