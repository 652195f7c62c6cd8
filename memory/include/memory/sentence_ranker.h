// Chooses the sentences of retrieved passages that best answer a question, for quote-grounded
// writing: every passage is split into sentences (memory/sentences.h), each sentence is scored
// against the query by BM25 over the candidate sentences and, with an embedder, by the cosine of
// the retrieval model's vectors (query embedded as a query, sentences as documents), both scaled
// to [0, 1] and averaged (a sentence opening with a pronoun or connective — "It", "因此" — leans on
// context a quote lacks and keeps 85% of its score; one that opens with a connective that adds or
// contrasts, "另外，" or "However, " and a rest that stands alone, is offered from the word after the comma, which can open a
// paragraph and is still the source's own text); then maximal marginal relevance picks k of them so that near
// duplicates (overlapping chunks say the same thing twice) and restatements give way to new
// facts. What a sentence is read under lends it the query's terms it has: its document's title
// and its section's heading (the last numbered or Markdown section heading before it in its
// passage; Markdown headings start a chunk), so that "A severe drought in Brazil damaged
// flowering…" under "## Why prices rose" answers "Why did arabica prices rise?" as its document
// says it does. With an embedder, a sentence that shares no word that names something with the
// query, its title or its heading, in another document than the best-ranked sentence's, is left
// out: its only relevance is the embedder's likeness. Headings found in the passages are ranked
// by the same score.
//
//   memory::SentenceRankOptions options{.k = 8, .exclude = already_written};
//   auto ranked = memory::RankSentences(embedder, "2023年中国AI Agent市场规模", passages, options);
//   for (const auto& s : ranked->sentences) ... s.text, s.passage (index into passages) ...
#ifndef AGENTD_MEMORY_SENTENCE_RANKER_H_
#define AGENTD_MEMORY_SENTENCE_RANKER_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "memory/embedder.h"
#include "memory/sentences.h"
#include "memory/tables.h"

namespace memory {

struct PassageInput {
  std::string text;
  // Whether the passage begins where a sentence begins (its document's start, or a hit widened
  // to whole sentences); see SentenceOptions.
  bool starts_at_sentence = false;
  // Its document's (or article's) title, which a quote is read under: a query term the title
  // has counts for each of the passage's sentences, so that sentences are not ranked for
  // repeating their document's subject. Empty: none.
  std::string title;
  // Who issued its document (SearchHit::issuer), read as the title is: "华龙证券的报告列出了哪些风险
  // 提示？" is on the report whose source lines credit 华龙证券研究所. Empty: none.
  std::string issuer;
};

struct SentenceRankOptions {
  // Sentences returned (at most). Default 8; 1..256.
  int k = 8;
  // Headings returned (at most). Default 8; 0..64.
  int k_headings = 8;
  // Table rows returned (at most; memory/tables.h), those that cover at least half of the
  // query's terms with their header. Default 0; 0..32.
  int k_rows = 0;
  // Sentences never returned (already written elsewhere), compared after NormalizeSpacing.
  std::vector<std::string> exclude;
  // A section's own subject: when set, a sentence must contain at least a third of the terms
  // of `focus` that `background` lacks (a heading's words beyond the report's topic), so a
  // section on "中国云计算市场规模" under the topic "中国AI Agent市场规模" takes no sentence on
  // another market that only shares "中国" and "市场规模" (at most two terms). A focus whose
  // terms are all the background's asks for its own terms ("Risks" under "What supply risk…").
  // Empty (the default): no requirement.
  std::string focus;
  std::string background;
  // MMR trade-off: 1 ranks by relevance alone, lower values favour novelty. Default 0.7.
  double mmr_lambda = 0.7;
  SentenceOptions sentences;
};

struct RankedSentence {
  std::string text;
  int passage = 0;  // index into the passages given
  uint64_t start = 0, end = 0;  // code points into that passage
  double score = 0;             // relevance in [0, 1]
  // Whether it opens with a pronoun or a continuation ("这", "It", "例如"): it leans on the
  // sentence before it in its source, so a writer should not open a paragraph with it.
  bool leans_on_context = false;
  // Whether it, its document's title or its section's heading has a term of the query that
  // names something (modal verbs aside). Scores are relative to the best one; this says whether
  // the best has anything of the question at all, or only the embedder's vague likeness ("What
  // is the capital of Mars?" over reports on AI). Sentences only.
  bool shares_query_terms = false;
  // Whether it gives the kind of answer the query asks for (a number for "how much", a cause for
  // "why", a date for "when"; always for a query of no such kind). A best-ranked sentence that
  // does not is there for the query's words alone, often the very fact a "why" asks about ("LLM
  // 单纯云端部署（例如 ChatGPT）并不广泛接受。" for "为什么大语言模型单纯云端部署不被广泛接受？").
  bool offers_answer_kind = true;
  // For a question asking the difference between two things ("A和B有什么区别？"): 1 when it says
  // what the first is or does on its own, 2 the second, 3 both with a word that contrasts them;
  // 0 otherwise, and for any other question. A writer quotes one of each side first.
  int tells_apart = 0;
  // When it leans on more than a topic ("它", "这", "例如", "而"; not "此外", "同时"): the sentence
  // right before it in its passage (only spacing between them), which a writer may quote first
  // to give it its subject; empty when there is none or that one leans too (but for adding,
  // previous_leans then).
  std::string previous;
  // Whether it leans on `previous` only as a comparison with it, not saying with what ("Robusta
  // prices … rose even faster in relative terms." after arabica's rise): its words are its own,
  // so a writer answering with them may quote it first and `previous` right after.
  bool compares_with_previous = false;
  // Whether it leans on `previous` only by taking up, as "the <noun>", a thing that one introduces
  // ("Two thirds of the backlog comes from…" after "The order backlog stood at $540 million…"),
  // or by opening on a quoted name that one introduces ("“天工 3.0”在语义理解…"): it reads well
  // anywhere after `previous`, not only right after it.
  bool takes_up_previous = false;
  // Whether the sentence before it (as above) leans too: with `previous` empty, no one sentence
  // gives this one its subject ("It now pays back…" after "This changed storage economics.").
  bool previous_leans = false;
  // When it announces the sentence after it in its paragraph, which a writer may quote right
  // after it: it is short and states no figure ("Lower prices changed project economics."),
  // states a claim whose figures the next gives ("我们认为 2025 年中国将正式开启 AI 基建超级周期。"
  // before the giants' capital spending), gives figures a short next one adds to, gives one side
  // of two, ends on a clause ("；") or announces a list (its first item). Empty otherwise.
  std::string next;
  // What comes after `next`, in order: when it announces a list ("天工 AI 搜索呈现的具体特点包括："),
  // the items after the first (at most five more, 600 code points in all): the announcement
  // promised the whole list; otherwise what `next` announces in turn, two more at most.
  std::vector<std::string> further;
};

struct RankedRow {
  std::vector<std::string> header;
  std::vector<std::string> cells;
  int passage = 0;
  uint64_t start = 0, end = 0;  // code points into that passage
  double score = 0;             // BM25 relative to the best row, in [0, 1]
  // Share of the query's terms the row and its header contain (only its Latin words and numbers
  // when it has three or more: CJK bigrams of a question are mostly its wording).
  double coverage = 0;
};

struct RankedSentences {
  std::vector<RankedSentence> sentences;  // in the order chosen (best first)
  std::vector<RankedSentence> headings;   // best first
  std::vector<RankedRow> rows;            // best first
};

// `embedder` may be null (lexical scores alone). Errors: the embedder's.
absl::StatusOr<RankedSentences> RankSentences(Embedder* embedder, const std::string& query,
                                              std::span<const PassageInput> passages,
                                              const SentenceRankOptions& options);

}  // namespace memory

#endif  // AGENTD_MEMORY_SENTENCE_RANKER_H_
