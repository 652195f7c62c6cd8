// The daemon's implementation of scripting::ScriptServices: memory.* over the memory store and
// llm.* over the engine, for the tenant the script acts for.
#ifndef AGENTD_SCRIPT_SERVICES_H_
#define AGENTD_SCRIPT_SERVICES_H_

#include <string>

#include "engine/engine.h"
#include "memory/memory_store.h"
#include "scripting/script_services.h"

namespace agentd {

// Generation settings from a script's request table: max_tokens (default 256, at most
// `context_length`), temperature, top_p, top_k, repetition_penalty, seed, stop = {...}.
engine::CompletionOptions CompletionFromJson(const nlohmann::json& request, int context_length);

// A search hit as scripts see it: {text, score, document, offsets = {start, end}, title,
// source, chunk_id, collection}.
nlohmann::json SearchHitJson(const memory::SearchHit& hit, const std::string& collection);

// `engine` may be null (no model: llm.* report it); both must outlive the returned callbacks.
scripting::ScriptServices MakeScriptServices(memory::MemoryStore* store, engine::Engine* engine, const std::string& tenant);

}  // namespace agentd

#endif  // AGENTD_SCRIPT_SERVICES_H_
