// The daemon's implementation of scripting::ScriptServices: memory.* over the memory store and
// llm.* over the engine, for the tenant the script acts for.
#ifndef AGENTD_SCRIPT_SERVICES_H_
#define AGENTD_SCRIPT_SERVICES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "engine/engine.h"
#include "memory/memory_store.h"
#include "scripting/script_services.h"

namespace agentd {

// Generation settings from a script's request table: max_tokens (default 256, at most
// `context_length`), temperature, top_p, top_k, repetition_penalty, seed, stop = {...}.
engine::CompletionOptions CompletionFromJson(const nlohmann::json& request, int context_length);

// A script's search request, checked field by field (errors name `what` and the field):
// collection and query (non-empty strings), k (an integer 1..100, default 5), mode ("hybrid",
// "vector" or "lexical"; default hybrid), whole_sentences (a boolean, default false:
// memory::SearchQuery). The tenant is the caller's, never the script's.
absl::StatusOr<memory::SearchQuery> SearchQueryFromJson(const nlohmann::json& request, const char* what,
                                                        const std::string& tenant);

// A search hit as scripts see it: {text, score, document, offsets = {start, end}, title,
// source, chunk_id, collection, starts_sentence}.
nlohmann::json SearchHitJson(const memory::SearchHit& hit, const std::string& collection);

// `engine` may be null (no model: llm.* report it); both must outlive the returned callbacks.
scripting::ScriptServices MakeScriptServices(memory::MemoryStore* store, engine::Engine* engine, const std::string& tenant);

}  // namespace agentd

#endif  // AGENTD_SCRIPT_SERVICES_H_
