// libFuzzer target: the bytes of a request as a client sends them, parsed as each of the API's
// request messages and validated as the daemon does before any handler runs.
#include <cstdint>
#include <string>

#include "agentd/daemon_options.h"
#include "agentd/request_validator.h"
#include "agentd/v1/agent.pb.h"
#include "agentd/v1/memory.pb.h"
#include "agentd/v1/model.pb.h"
#include "agentd/v1/tool.pb.h"

namespace {

template <typename Message>
void ParseAndValidate(const uint8_t* data, size_t size, const agentd::RequestLimits& limits) {
  Message message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return;
  (void)agentd::ValidateRequest(message, limits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  agentd::RequestLimits limits;
  limits.max_field_bytes = 4096;
  limits.max_items = 64;
  ParseAndValidate<agentd::v1::StartRunRequest>(data, size, limits);
  ParseAndValidate<agentd::v1::IngestRequest>(data, size, limits);
  ParseAndValidate<agentd::v1::SearchRequest>(data, size, limits);
  ParseAndValidate<agentd::v1::CreateCollectionRequest>(data, size, limits);
  ParseAndValidate<agentd::v1::GenerateRequest>(data, size, limits);
  ParseAndValidate<agentd::v1::ChatRequest>(data, size, limits);
  ParseAndValidate<agentd::v1::InvokeToolRequest>(data, size, limits);
  return 0;
}
