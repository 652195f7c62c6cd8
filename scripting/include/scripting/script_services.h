// What scripts reach beyond the sandbox — memory, the model, other tools — as callbacks the
// daemon provides, so scripting depends on the other components only through this struct.
// Requests and results are JSON objects (shapes below); an empty callback makes the matching
// module function raise "<name> is not available".
#ifndef AGENTD_SCRIPTING_SCRIPT_SERVICES_H_
#define AGENTD_SCRIPTING_SCRIPT_SERVICES_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace scripting {

using JsonCall = std::function<absl::StatusOr<nlohmann::json>(const nlohmann::json& request)>;

struct ScriptServices {
  // memory.search{collection, query, k = 5, mode = "hybrid"|"vector"|"lexical"}
  //   → {hits = {{text, score, document, offsets = {start, end}, title, source, chunk_id}, ...}}
  JsonCall memory_search;
  // memory.ingest{collection, documents = {{text, id?, title?, source?, date?, metadata?}, ...}}
  //   → {results = {{document_id, outcome, chunk_count}, ...}}
  JsonCall memory_ingest;
  // llm.generate{prompt, max_tokens = 256, temperature = 0, top_p, seed, stop = {...}}
  //   → {text, finish_reason, prompt_tokens, completion_tokens}
  JsonCall llm_generate;
  // llm.chat{messages = {{role, content}, ...}, max_tokens, temperature, ...} → as generate,
  //   plus tool_calls = {{name, arguments}, ...} when the model called tools
  JsonCall llm_chat;
  // tools.call(name, args) → the tool's result
  std::function<absl::StatusOr<nlohmann::json>(const std::string& name, const nlohmann::json& args)> tool_call;
};

}  // namespace scripting

#endif  // AGENTD_SCRIPTING_SCRIPT_SERVICES_H_
