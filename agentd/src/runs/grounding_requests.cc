#include "runs/grounding_requests.h"

#include <tuple>

#include "absl/strings/str_cat.h"
#include "memory/document_issuer.h"

namespace agentd::runs {
namespace {

using Json = nlohmann::json;

// An optional integer field within [lo, hi]; `fallback` when absent.
absl::StatusOr<int> IntegerField(const Json& object, const std::string& what, const char* name, int fallback, int lo,
                                 int hi) {
  if (!object.contains(name)) return fallback;
  const Json& value = object[name];
  if (!value.is_number_integer() || value.get<int64_t>() < lo || value.get<int64_t>() > hi) {
    return absl::InvalidArgumentError(absl::StrCat(what, ".", name, ": must be an integer from ", lo, " to ", hi));
  }
  return static_cast<int>(value.get<int64_t>());
}

// Lua hands an empty table over as an empty array or object; both are an empty list.
bool IsList(const Json& value) { return value.is_array() || (value.is_object() && value.empty()); }

}  // namespace

absl::StatusOr<SentencesRequest> ParseSentencesRequest(const Json& request) {
  constexpr char kWhat[] = "ctx.memory.sentences";
  SentencesRequest out;
  if (!request.contains("query") || !request["query"].is_string() || request["query"].get<std::string>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, ": query must be a non-empty string"));
  }
  out.query = request["query"].get<std::string>();
  if (!request.contains("passages") || !IsList(request["passages"])) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, ": passages must be a list of texts or search hits"));
  }
  const Json& passages = request["passages"];
  // Splitting is linear in the text and ranking embeds at most 512 sentences (sentence_ranker.cc);
  // these bound the text a call reads: 8 MiB of restating timeline lines ranked in 0.2 s.
  constexpr size_t kMaxPassageBytes = size_t{1} << 20;
  constexpr size_t kMaxTotalBytes = size_t{8} << 20;
  size_t total_bytes = 0;
  if (passages.size() > 256) return absl::InvalidArgumentError(absl::StrCat(kWhat, ": passages: at most 256"));
  for (size_t i = 0; i < passages.size(); ++i) {
    const Json& p = passages[i];
    memory::PassageInput input;
    if (p.is_string()) {
      input.text = p.get<std::string>();
    } else if (p.is_object() && p.contains("text") && p["text"].is_string()) {
      input.text = p["text"].get<std::string>();
      // Only ranking hints: a title or issuer longer than a real one is cut (at a character's start).
      constexpr size_t kMaxTitleBytes = 1024;
      for (auto [key, out, most] : {std::tuple{"title", &input.title, kMaxTitleBytes},
                                    std::tuple{"issuer", &input.issuer, memory::kMaxIssuerBytes}}) {
        if (!p.contains(key) || !p[key].is_string()) continue;
        *out = p[key].get<std::string>();
        if (out->size() > most) {
          size_t cut = most;
          while (cut > 0 && (static_cast<unsigned char>((*out)[cut]) & 0xC0) == 0x80) --cut;
          out->resize(cut);
        }
      }
      const Json offsets = p.value("offsets", Json());
      const Json starts_sentence = p.value("starts_sentence", Json());
      input.starts_at_sentence = (starts_sentence.is_boolean() && starts_sentence.get<bool>()) ||
                                 (offsets.is_array() && !offsets.empty() && offsets[0].is_number() && offsets[0].get<double>() == 0);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(kWhat, ": passages[", i + 1, "] must be a text or a table with text"));
    }
    if (input.text.size() > kMaxPassageBytes) {
      return absl::InvalidArgumentError(absl::StrCat(kWhat, ": passages[", i + 1, "]: text over ", kMaxPassageBytes,
                                                     " bytes (split a long document into passages)"));
    }
    total_bytes += input.text.size();
    if (total_bytes > kMaxTotalBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhat, ": passages: over ", kMaxTotalBytes, " bytes of text in all (at passage ", i + 1, ")"));
    }
    out.passages.push_back(std::move(input));
  }
  auto k = IntegerField(request, kWhat, "k", 8, 1, 256);
  if (!k.ok()) return k.status();
  auto headings = IntegerField(request, kWhat, "headings", 8, 0, 64);
  if (!headings.ok()) return headings.status();
  auto rows = IntegerField(request, kWhat, "rows", 0, 0, 32);
  if (!rows.ok()) return rows.status();
  out.options.k_rows = *rows;
  auto min_chars = IntegerField(request, kWhat, "min_chars", 12, 1, 4096);
  if (!min_chars.ok()) return min_chars.status();
  auto max_chars = IntegerField(request, kWhat, "max_chars", 300, *min_chars, 4096);
  if (!max_chars.ok()) return max_chars.status();
  out.options.k = *k;
  out.options.k_headings = *headings;
  out.options.sentences.min_chars = *min_chars;
  out.options.sentences.max_chars = *max_chars;
  for (const auto& [field, target] : {std::pair<const char*, std::string*>{"focus", &out.options.focus},
                                      std::pair<const char*, std::string*>{"background", &out.options.background}}) {
    if (!request.contains(field)) continue;
    if (!request[field].is_string() || request[field].get_ref<const std::string&>().size() > 4096) {
      return absl::InvalidArgumentError(absl::StrCat(kWhat, ": ", field, " must be a text of at most 4096 bytes"));
    }
    *target = request[field].get<std::string>();
  }
  if (request.contains("exclude")) {
    const Json& exclude = request["exclude"];
    if (!IsList(exclude) || exclude.size() > 65536) {
      return absl::InvalidArgumentError(absl::StrCat(kWhat, ": exclude must be a list of at most 65536 texts"));
    }
    for (size_t i = 0; i < exclude.size(); ++i) {
      if (!exclude[i].is_string()) return absl::InvalidArgumentError(absl::StrCat(kWhat, ": exclude[", i + 1, "] must be a text"));
      out.options.exclude.push_back(exclude[i].get<std::string>());
    }
  }
  return out;
}

Json SentencesResponse(const memory::RankedSentences& ranked) {
  auto list = [](const std::vector<memory::RankedSentence>& items) {
    Json out = Json::array();
    for (const memory::RankedSentence& s : items) {
      Json item = {{"text", s.text}, {"passage", s.passage + 1}, {"start", s.start}, {"end", s.end}, {"score", s.score},
                   {"leans", s.leans_on_context}, {"shares_terms", s.shares_query_terms},
                   {"fits", s.offers_answer_kind}};
      if (s.tells_apart != 0) item["tells"] = s.tells_apart;
      if (!s.previous.empty()) item["previous"] = s.previous;
      if (s.compares_with_previous) item["compares"] = true;
      if (s.takes_up_previous) item["takes_up"] = true;
      // Also without `previous`: the sentence before it leans on one before that, so no single
      // sentence gives it its subject.
      if (!s.previous.empty() || s.previous_leans) item["previous_leans"] = s.previous_leans;
      if (!s.next.empty()) item["next"] = s.next;
      if (!s.further.empty()) item["further"] = s.further;
      out.push_back(std::move(item));
    }
    return out;
  };
  Json rows = Json::array();
  for (const memory::RankedRow& r : ranked.rows) {
    rows.push_back({{"header", r.header}, {"cells", r.cells}, {"passage", r.passage + 1}, {"start", r.start},
                    {"end", r.end}, {"score", r.score}, {"coverage", r.coverage}});
  }
  return {{"sentences", list(ranked.sentences)}, {"headings", list(ranked.headings)}, {"rows", rows}};
}

absl::Status ParseQuote(const Json& quote, engine::ResponseConstraint* constraint) {
  constexpr char kWhat[] = "ctx.llm: quote";
  if (!quote.is_object() || !quote.contains("sentences") || !IsList(quote["sentences"])) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, ": must be a table with a list of sentences = {{text, citation}, ...}"));
  }
  const Json& sentences = quote["sentences"];
  if (sentences.size() > 1024) return absl::InvalidArgumentError(absl::StrCat(kWhat, ".sentences: at most 1024"));
  constraint->kind = engine::ResponseConstraint::Kind::kQuotedSentences;
  constraint->quotes.clear();
  for (size_t i = 0; i < sentences.size(); ++i) {
    const Json& s = sentences[i];
    if (!s.is_object() || !s.contains("text") || !s["text"].is_string() || !s.contains("citation") ||
        !s["citation"].is_number_integer() || s["citation"].get<int64_t>() < 1 || s["citation"].get<int64_t>() > 100000) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhat, ".sentences[", i + 1, "]: must be {text = TEXT, citation = N} with N from 1 to 100000"));
    }
    constraint->quotes.push_back({s["text"].get<std::string>(), static_cast<int>(s["citation"].get<int64_t>())});
  }
  auto min_units = IntegerField(quote, kWhat, "min", 1, 1, 1024);
  if (!min_units.ok()) return min_units.status();
  auto max_units = IntegerField(quote, kWhat, "max", 0, 0, 1024);
  if (!max_units.ok()) return max_units.status();
  constraint->min_units = *min_units;
  constraint->max_units = *max_units;
  if (quote.contains("separator")) {
    if (!quote["separator"].is_string() || quote["separator"].get<std::string>().size() > 16) {
      return absl::InvalidArgumentError(absl::StrCat(kWhat, ".separator: must be a text of at most 16 bytes"));
    }
    constraint->quote_separator = quote["separator"].get<std::string>();
  }
  return absl::OkStatus();
}

}  // namespace agentd::runs
