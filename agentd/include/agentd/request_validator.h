// Checks any request message against the rules annotated in the .proto files (agentd.v1.required,
// max_bytes, max_items — see proto/agentd/v1/options.proto) and the daemon's RequestLimits, using
// protobuf reflection, so every RPC rejects bad input the same way before its handler runs:
//
//   absl::Status status = ValidateRequest(request, limits);
//   if (!status.ok()) return ToGrpcStatus(status);   // INVALID_ARGUMENT naming the field
//
// Field paths in messages look like `documents[2].text`, `labels["team"]`, `sampling.top_k`.
// Also rejected: enum values the schema does not define (proto3 keeps them as numbers).
#ifndef AGENTD_REQUEST_VALIDATOR_H_
#define AGENTD_REQUEST_VALIDATOR_H_

#include "absl/status/status.h"
#include "agentd/daemon_options.h"

namespace google::protobuf {
class Message;
}

namespace agentd {

absl::Status ValidateRequest(const google::protobuf::Message& request, const RequestLimits& limits);

}  // namespace agentd

#endif  // AGENTD_REQUEST_VALIDATOR_H_
