#include "script_services.h"

#include "absl/strings/str_cat.h"
#include "memory/document_issuer.h"

namespace agentd {
namespace {

using Json = nlohmann::json;

absl::Status Missing(const char* field) { return absl::InvalidArgumentError(absl::StrCat(field, ": is required")); }

Json GenerationJson(const engine::GenerationResult& g, const std::string& text) {
  return Json{{"text", text},
              {"finish_reason", engine::FinishReasonName(g.finish_reason)},
              {"prompt_tokens", g.prompt_tokens},
              {"completion_tokens", g.completion_tokens}};
}

}  // namespace

engine::CompletionOptions CompletionFromJson(const Json& r, int context_length) {
  engine::CompletionOptions options;
  options.max_tokens = std::min(r.value("max_tokens", 256), context_length);
  options.sampling.temperature = r.value("temperature", 0.0f);
  options.sampling.top_p = r.value("top_p", 1.0f);
  options.sampling.top_k = r.value("top_k", 0);
  options.sampling.repetition_penalty = r.value("repetition_penalty", 1.0f);
  options.sampling.seed = r.value("seed", uint64_t{0});
  if (r.contains("stop") && r["stop"].is_array()) {
    for (const Json& s : r["stop"]) {
      if (s.is_string() && !s.get<std::string>().empty()) options.stop_strings.push_back(s.get<std::string>());
    }
  }
  return options;
}

absl::StatusOr<memory::SearchQuery> SearchQueryFromJson(const Json& r, const char* what, const std::string& tenant) {
  auto bad = [&](const char* field, const char* rule) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", field, " ", rule));
  };
  if (!r.is_object()) return absl::InvalidArgumentError(absl::StrCat(what, ": the request must be a table"));
  for (const char* field : {"collection", "query"}) {
    if (!r.contains(field) || !r[field].is_string() || r[field].get_ref<const std::string&>().empty()) {
      return bad(field, "is required (a non-empty string)");
    }
  }
  memory::SearchQuery query;
  query.tenant = tenant;
  query.collection = r["collection"].get<std::string>();
  query.query = r["query"].get<std::string>();
  if (r.contains("k")) {
    const Json& k = r["k"];
    if (!k.is_number_integer() || k.get<int64_t>() < 1 || k.get<int64_t>() > 100) return bad("k", "must be an integer from 1 to 100");
    query.k = static_cast<int>(k.get<int64_t>());
  } else {
    query.k = 5;
  }
  if (r.contains("mode")) {
    const Json& mode = r["mode"];
    if (mode == "vector") {
      query.mode = memory::SearchMode::kVector;
    } else if (mode == "lexical") {
      query.mode = memory::SearchMode::kLexical;
    } else if (mode != "hybrid") {
      return bad("mode", "must be \"hybrid\", \"vector\" or \"lexical\"");
    }
  }
  if (r.contains("whole_sentences")) {
    if (!r["whole_sentences"].is_boolean()) return bad("whole_sentences", "must be a boolean");
    query.whole_sentences = r["whole_sentences"].get<bool>();
  }
  // Only these documents (the gRPC filter's limits: 1024 ids of at most 256 bytes).
  if (r.contains("documents")) {
    const Json& documents = r["documents"];
    if (!documents.is_array() || documents.empty() || documents.size() > 1024) {
      return bad("documents", "must be a list of 1 to 1024 document ids");
    }
    for (const Json& id : documents) {
      if (!id.is_string() || id.get_ref<const std::string&>().empty() || id.get_ref<const std::string&>().size() > 256) {
        return bad("documents", "must hold document ids (non-empty strings of at most 256 bytes)");
      }
      query.filter.document_ids.push_back(id.get<std::string>());
    }
  }
  return query;
}

Json SearchHitJson(const memory::SearchHit& h, const std::string& collection) {
  return Json{{"text", h.text},         {"score", h.score},   {"document", h.document_id},
              {"offsets", {h.start, h.end}}, {"title", h.title}, {"source", h.source},
              {"chunk_id", std::to_string(h.chunk_id)}, {"collection", collection},
              {"starts_sentence", h.starts_sentence}, {"issuer", h.issuer},
              {"issuer_name", std::string(memory::IssuerName(h.issuer))}};
}

scripting::ScriptServices MakeScriptServices(memory::MemoryStore* store, engine::Engine* engine, const std::string& tenant) {
  scripting::ScriptServices services;
  services.memory_search = [store, tenant](const Json& r) -> absl::StatusOr<Json> {
    absl::StatusOr<memory::SearchQuery> query = SearchQueryFromJson(r, "memory.search", tenant);
    if (!query.ok()) return query.status();
    auto hits = store->Search(*query);
    if (!hits.ok()) return hits.status();
    Json out = Json::array();
    for (const memory::SearchHit& h : *hits) out.push_back(SearchHitJson(h, query->collection));
    return Json{{"hits", out}};
  };
  services.memory_ingest = [store, tenant](const Json& r) -> absl::StatusOr<Json> {
    if (!r.contains("collection") || !r["collection"].is_string()) return Missing("collection");
    if (!r.contains("documents") || !r["documents"].is_array()) return Missing("documents");
    if (r["documents"].size() > 256) return absl::InvalidArgumentError("memory.ingest: documents: at most 256 a call");
    std::vector<memory::DocumentInput> documents;
    for (const Json& d : r["documents"]) {
      memory::DocumentInput input;
      input.text = d.value("text", "");
      input.id = d.value("id", "");
      input.title = d.value("title", "");
      input.source = d.value("source", "");
      input.date = d.value("date", "");
      if (d.contains("metadata") && d["metadata"].is_object()) {
        for (const auto& [key, value] : d["metadata"].items()) {
          if (value.is_string()) input.metadata[key] = value.get<std::string>();
        }
      }
      documents.push_back(std::move(input));
    }
    auto results = store->Ingest(tenant, r["collection"], documents);
    if (!results.ok()) return results.status();
    Json out = Json::array();
    for (const memory::IngestResult& res : *results) {
      out.push_back({{"document_id", res.document_id},
                     {"outcome", res.outcome == memory::IngestOutcome::kCreated   ? "created"
                                 : res.outcome == memory::IngestOutcome::kUpdated ? "updated"
                                                                                  : "unchanged"},
                     {"chunk_count", res.chunk_count}});
    }
    return Json{{"results", out}};
  };
  if (engine != nullptr) {
    services.llm_generate = [engine](const Json& r) -> absl::StatusOr<Json> {
      if (!r.contains("prompt") || !r["prompt"].is_string()) return Missing("prompt");
      engine::CompletionOptions options = CompletionFromJson(r, engine->info().context_length);
      options.origin = "tool";
      auto result = engine->Complete(r["prompt"], options, nullptr);
      if (!result.ok()) return result.status();
      return GenerationJson(*result, result->text);
    };
    services.llm_chat = [engine](const Json& r) -> absl::StatusOr<Json> {
      if (!r.contains("messages") || !r["messages"].is_array()) return Missing("messages");
      std::vector<engine::ChatMessage> messages;
      for (const Json& m : r["messages"]) {
        engine::ChatMessage message;
        const std::string role = m.value("role", "user");
        message.role = role == "system"      ? engine::ChatMessage::Role::kSystem
                       : role == "assistant" ? engine::ChatMessage::Role::kAssistant
                       : role == "tool"      ? engine::ChatMessage::Role::kTool
                                             : engine::ChatMessage::Role::kUser;
        message.content = m.value("content", "");
        messages.push_back(std::move(message));
      }
      engine::CompletionOptions options = CompletionFromJson(r, engine->info().context_length);
      options.origin = "tool";
      auto result = engine->Chat(messages, {}, options, nullptr);
      if (!result.ok()) return result.status();
      Json out = GenerationJson(result->generation, result->reply.content);
      if (!result->reply.tool_calls.empty()) {
        Json calls = Json::array();
        for (const engine::ToolCall& c : result->reply.tool_calls) calls.push_back({{"name", c.name}, {"arguments", c.arguments_json}});
        out["tool_calls"] = calls;
      }
      return out;
    };
  }
  return services;
}

}  // namespace agentd
