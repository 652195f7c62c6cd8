// Parsing and checking of the daemon's listen address ("host:port").
#ifndef AGENTD_LISTEN_ADDRESS_H_
#define AGENTD_LISTEN_ADDRESS_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace agentd {

struct ListenAddress {
  // As written, without brackets for IPv6.
  std::string host;
  // 0 means "any free port".
  uint16_t port = 0;
  // The form gRPC expects: "127.0.0.1:7700", "[::1]:7700".
  std::string ToGrpcTarget() const;
};

// Accepts IPv4 literals ("127.0.0.1:7700"), bracketed IPv6 ("[::1]:7700"), "localhost:PORT" and
// "0.0.0.0:PORT"; rejects anything else with a message naming the problem. Host names other
// than localhost are refused: a daemon binds to addresses, and resolving names at start hides
// mistakes.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text);

}  // namespace agentd

#endif  // AGENTD_LISTEN_ADDRESS_H_
