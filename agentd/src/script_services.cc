#include "script_services.h"

#include "absl/strings/str_cat.h"

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

Json SearchHitJson(const memory::SearchHit& h, const std::string& collection) {
  return Json{{"text", h.text},         {"score", h.score},   {"document", h.document_id},
              {"offsets", {h.start, h.end}}, {"title", h.title}, {"source", h.source},
              {"chunk_id", std::to_string(h.chunk_id)}, {"collection", collection}};
}

scripting::ScriptServices MakeScriptServices(memory::MemoryStore* store, engine::Engine* engine, const std::string& tenant) {
  scripting::ScriptServices services;
  services.memory_search = [store, tenant](const Json& r) -> absl::StatusOr<Json> {
    if (!r.contains("collection") || !r["collection"].is_string()) return Missing("collection");
    if (!r.contains("query") || !r["query"].is_string()) return Missing("query");
    memory::SearchQuery query;
    query.tenant = tenant;
    query.collection = r["collection"];
    query.query = r["query"];
    query.k = std::clamp(r.value("k", 5), 1, 100);
    const std::string mode = r.value("mode", "hybrid");
    query.mode = mode == "vector" ? memory::SearchMode::kVector : mode == "lexical" ? memory::SearchMode::kLexical : memory::SearchMode::kHybrid;
    auto hits = store->Search(query);
    if (!hits.ok()) return hits.status();
    Json out = Json::array();
    for (const memory::SearchHit& h : *hits) out.push_back(SearchHitJson(h, query.collection));
    return Json{{"hits", out}};
  };
  services.memory_ingest = [store, tenant](const Json& r) -> absl::StatusOr<Json> {
    if (!r.contains("collection") || !r["collection"].is_string()) return Missing("collection");
    if (!r.contains("documents") || !r["documents"].is_array()) return Missing("documents");
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
