// Early returns on error values for the engine's own code (absl has no public macros for this):
//   RETURN_IF_ERROR(ReadThing(...));            // an absl::Status
//   ASSIGN_OR_RETURN(auto_or_lhs, Load(...));   // an absl::StatusOr<T>, moved into lhs
// Private to engine/src; include only from .cc files.
#ifndef AGENTD_ENGINE_STATUS_MACROS_H_
#define AGENTD_ENGINE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status _status = (expr);     \
    if (!_status.ok()) return _status; \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr)                 \
  do {                                              \
    auto _result = (expr);                          \
    if (!_result.ok()) return _result.status();     \
    lhs = std::move(*_result);                      \
  } while (false)

#endif  // AGENTD_ENGINE_STATUS_MACROS_H_
