#include "runs/plan_values.h"

#include <utf8proc.h>

#include "absl/strings/str_cat.h"

namespace agentd::runs {

using Json = nlohmann::json;

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t at = 0;
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  while (at < size) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + at, size - at, &cp);
    if (n <= 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++at;
      continue;
    }
    out.append(text.substr(static_cast<size_t>(at), static_cast<size_t>(n)));
    at += n;
  }
  return out;
}

std::string DumpJson(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

void BoundText(std::string* text) {
  if (text->size() <= kMaxEventTextBytes) return;
  size_t cut = kMaxEventTextBytes;
  while (cut > 0 && (static_cast<unsigned char>((*text)[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  const size_t dropped = text->size() - cut;
  text->resize(cut);
  absl::StrAppend(text, "\xE2\x80\xA6 (", dropped, " more bytes)");  // "…"
}

namespace {

void BoundJson(std::string* json) {
  if (json->size() <= kMaxEventTextBytes) return;
  *json = absl::StrCat("{\"clipped_bytes\": ", json->size(), "}");
}

}  // namespace

bool IsBoundedEvent(const agentd::v1::RunEvent& event) {
  return event.has_warning() || event.has_token_delta() || event.has_retrieval_hits() || event.has_tool_called() ||
         event.has_tool_returned();
}

void BoundEventText(agentd::v1::RunEvent* event) {
  switch (event->event_case()) {
    case agentd::v1::RunEvent::kWarning:
      BoundText(event->mutable_warning()->mutable_message());
      break;
    case agentd::v1::RunEvent::kStepFinished:
      BoundText(event->mutable_step_finished()->mutable_error());
      break;
    case agentd::v1::RunEvent::kRunEnded:
      BoundText(event->mutable_run_ended()->mutable_error());
      break;
    case agentd::v1::RunEvent::kToolCalled:
      BoundText(event->mutable_tool_called()->mutable_tool());
      BoundJson(event->mutable_tool_called()->mutable_arguments_json());
      break;
    case agentd::v1::RunEvent::kToolReturned:
      BoundJson(event->mutable_tool_returned()->mutable_result_json());
      BoundText(event->mutable_tool_returned()->mutable_error());
      break;
    case agentd::v1::RunEvent::kRetrievalHits:
      BoundText(event->mutable_retrieval_hits()->mutable_query());
      break;
    default:
      break;  // plan names are bounded where they are set; token deltas are ~100 ms of text
  }
}

namespace {

absl::Status Bad(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("the plan's result: ", field, ": ", what));
}

// An optional string field; `*out` keeps its value when the field is absent.
absl::Status OptionalString(const Json& object, const char* key, const std::string& path, std::string* out) {
  if (!object.contains(key) || object[key].is_null()) return absl::OkStatus();
  if (!object[key].is_string()) return Bad(path + key, "must be a string");
  *out = ValidUtf8(object[key].get<std::string>());
  return absl::OkStatus();
}

bool IsCount(const Json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

}  // namespace

absl::Status ArtifactFromJson(const Json& result, agentd::v1::Artifact* artifact) {
  artifact->Clear();
  if (!result.is_object()) {
    return absl::InvalidArgumentError("the plan's result: must be a table {media_type, content, references}");
  }
  if (!result.contains("content") || !result["content"].is_string()) {
    return Bad("content", "must be a string (the report or answer the run produced)");
  }
  std::string media_type = "text/markdown";
  absl::Status status = OptionalString(result, "media_type", "", &media_type);
  if (!status.ok()) return status;
  artifact->set_media_type(media_type);
  artifact->set_content(ValidUtf8(result["content"].get<std::string>()));
  if (!result.contains("references") || result["references"].is_null()) return absl::OkStatus();
  const Json& references = result["references"];
  // Lua hands an empty table over as {} or [].
  if (references.is_object() && references.empty()) return absl::OkStatus();
  if (!references.is_array()) return Bad("references", "must be a list");
  for (size_t i = 0; i < references.size(); ++i) {
    const Json& ref = references[i];
    const std::string path = absl::StrCat("references[", i + 1, "].");
    if (!ref.is_object()) return Bad(absl::StrCat("references[", i + 1, "]"), "must be a table");
    agentd::v1::Reference* reference = artifact->add_references();
    if (ref.contains("number")) {
      if (!IsCount(ref["number"]) || ref["number"].get<uint64_t>() > UINT32_MAX) return Bad(path + "number", "must be a non-negative integer");
      reference->set_number(static_cast<uint32_t>(ref["number"].get<uint64_t>()));
    }
    std::string collection, document, chunk_id, title, source;
    for (auto [key, out] : {std::pair{"collection", &collection}, std::pair{"title", &title}, std::pair{"source", &source}}) {
      status = OptionalString(ref, key, path, out);
      if (!status.ok()) return status;
    }
    status = OptionalString(ref, ref.contains("document") ? "document" : "document_id", path, &document);
    if (!status.ok()) return status;
    if (ref.contains("chunk_id") && ref["chunk_id"].is_number_integer()) {
      chunk_id = std::to_string(ref["chunk_id"].get<int64_t>());
    } else {
      status = OptionalString(ref, "chunk_id", path, &chunk_id);
      if (!status.ok()) return status;
    }
    reference->set_collection(collection);
    reference->set_document_id(document);
    reference->set_chunk_id(chunk_id);
    reference->set_title(title);
    reference->set_source(source);
    if (ref.contains("offsets") && !ref["offsets"].is_null()) {
      const Json& offsets = ref["offsets"];
      if (!offsets.is_array() || offsets.size() != 2 || !IsCount(offsets[0]) || !IsCount(offsets[1]) ||
          offsets[0].get<uint64_t>() > offsets[1].get<uint64_t>()) {
        return Bad(path + "offsets", "must be {start, end} with 0 <= start <= end");
      }
      reference->mutable_span()->set_start(offsets[0].get<uint64_t>());
      reference->mutable_span()->set_end(offsets[1].get<uint64_t>());
    }
  }
  return absl::OkStatus();
}

}  // namespace agentd::runs
