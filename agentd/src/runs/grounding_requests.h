// The plan-side requests of quote-grounded writing, read from the JSON a plan passes:
// ctx.memory.sentences{...} (which sentences of the retrieved passages to offer) and the
// `quote = {...}` option of ctx.llm.chat/generate (the decoding constraint over them). Every
// value a plan controls is checked here, with an error naming the field.
#ifndef AGENTD_RUNS_GROUNDING_REQUESTS_H_
#define AGENTD_RUNS_GROUNDING_REQUESTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/constraint.h"
#include "memory/sentence_ranker.h"
#include "nlohmann/json.hpp"

namespace agentd::runs {

struct SentencesRequest {
  std::string query;
  std::vector<memory::PassageInput> passages;
  memory::SentenceRankOptions options;
};

// ctx.memory.sentences{query = TEXT, passages = {hit | TEXT, ...}, k = 8, headings = 8, rows = 0,
// exclude = {TEXT, ...}, min_chars = 12, max_chars = 300}. A passage is a string or a table
// with `text` (a memory.search hit: its `offsets` tell whether it starts its document).
absl::StatusOr<SentencesRequest> ParseSentencesRequest(const nlohmann::json& request);

// {sentences = {{text, passage (1-based), start, end, score}}, headings = {...},
//  rows = {{header, cells, passage, start, end, score, coverage}}}.
nlohmann::json SentencesResponse(const memory::RankedSentences& ranked);

// quote = {sentences = {{text = TEXT, citation = N}, ...}, min = 1, max = 0, separator = ""}
// into `constraint`.
absl::Status ParseQuote(const nlohmann::json& quote, engine::ResponseConstraint* constraint);

}  // namespace agentd::runs

#endif  // AGENTD_RUNS_GROUNDING_REQUESTS_H_
