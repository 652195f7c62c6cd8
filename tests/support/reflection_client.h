// Lists the services a server announces through gRPC server reflection
// (grpc.reflection.{v1alpha,v1}.ServerReflection/ServerReflectionInfo), speaking the protocol with a
// generic stub and hand-encoded messages so the tests need no copy of reflection.proto.
#ifndef AGENTD_TESTS_SUPPORT_REFLECTION_CLIENT_H_
#define AGENTD_TESTS_SUPPORT_REFLECTION_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace testing_support {

// `version`: "v1alpha" or "v1".
absl::StatusOr<std::vector<std::string>> ListServicesByReflection(const std::string& address,
                                                                   const std::string& version = "v1alpha");

}  // namespace testing_support

#endif  // AGENTD_TESTS_SUPPORT_REFLECTION_CLIENT_H_
