#include "memory/sentence_ranker.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "acronyms.h"
#include "answer_type.h"
#include "asked_fact.h"
#include "contrast.h"
#include "take_number.h"
#include "definitions.h"
#include "memory/document_issuer.h"
#include "measures.h"
#include "bm25_index.h"
#include "word_forms.h"
#include "leaning.h"
#include "memory/lexical.h"
#include "share_of_whole.h"
#include "versioned_names.h"
#include "utf8_text.h"

namespace memory {
namespace {

using internal::OnlyAdds;
using internal::StandsAlone;

void SkipSpaces(std::string_view& text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
}

// Takes a range's dash off the front of `text` ("-", "至", "到", …); whether there was one.
bool TakeDash(std::string_view& text) {
  for (std::string_view dash : {"-", "~", "～", "至", "到", "—", "–"}) {
    if (text.starts_with(dash)) {
      text.remove_prefix(dash.size());
      return true;
    }
  }
  return false;
}

// Whether what follows a year's "年" names a part of that year: "前 5 月", "前三季度", "4月",
// "1-5月", "1至5月", "上半年", "一季度", "第1季度", "Q1". Not the whole of it: "1-12月",
// "前四季度", "12月31日" (the year's end: "截至2024年12月31日"), "年底", nor "前十名" (the year's
// top ten).
bool NamesAPartOfTheYear(std::string_view after) {
  SkipSpaces(after);
  for (std::string_view part : {"上半年", "下半年", "Q1", "Q2", "Q3", "Q4", "H1", "H2"}) {
    if (after.starts_with(part)) return true;
  }
  const bool first = after.starts_with("前");
  if (first) after.remove_prefix(std::string_view("前").size());
  SkipSpaces(after);
  if (after.starts_with("第")) after.remove_prefix(std::string_view("第").size());
  const int from = internal::TakeNumber(after);
  if (from == 0) return false;
  SkipSpaces(after);
  // "1 月至 12 月", "1月-12月": the first month's 月 before the dash.
  std::string_view rest = after;
  if (rest.starts_with("月")) {
    rest.remove_prefix(std::string_view("月").size());
    SkipSpaces(rest);
  }
  int to = 0;
  if (TakeDash(rest)) {
    SkipSpaces(rest);
    to = internal::TakeNumber(rest);
    if (to == 0) return false;
    SkipSpaces(rest);
    after = rest;
  }
  if (after.starts_with("个")) after.remove_prefix(std::string_view("个").size());
  if (after.starts_with("月")) {
    if (to != 0) return !(from == 1 && to == 12);
    if (first) return from != 12;
    after.remove_prefix(std::string_view("月").size());
    SkipSpaces(after);
    return !(from == 12 && after.starts_with("31"));
  }
  if (after.starts_with("季")) {  // "季度", "季"
    if (to != 0) return !(from == 1 && to == 4);
    return !(first && from == 4);
  }
  return false;
}

// Each run of digits in `text` followed (past spaces) by `unit` ("2023 年", "4月"): `fn(digits,
// where they start, the text after the unit)`.
template <typename Fn>
void ForEachCountOf(std::string_view text, std::string_view unit, Fn fn) {
  for (size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    size_t at = j;
    while (at < text.size() && text[at] == ' ') ++at;
    if (text.substr(at).starts_with(unit)) fn(text.substr(i, j - i), i, text.substr(at + unit.size()));
    i = j;
  }
}

// The years a Chinese text names: four digits from 1900 to 2099 and 年 ("2023年", "2023 年");
// with `whole_years`, only those not followed by a part of the year ("2024 年前 5 月" names a
// part of 2024, "2024年4月" another).
// (English years are left alone: "Revenue for the year reached $312 million, up 27% from $246
// million in 2023" answers a question on 2024, and "the highest price since 1977" one on the end
// of 2024.)
std::set<int> YearsIn(std::string_view text, bool whole_years = false) {
  std::set<int> years;
  ForEachCountOf(text, "年", [&](std::string_view digits, size_t start, std::string_view after) {
    const bool after_decimal = start >= 2 && text[start - 1] == '.' && std::isdigit(static_cast<unsigned char>(text[start - 2]));
    if (digits.size() != 4 || after_decimal) return;
    const int year = std::stoi(std::string(digits));
    if (year >= 1900 && year <= 2099 && !(whole_years && NamesAPartOfTheYear(after))) years.insert(year);
  });
  return years;
}

// The months a Chinese text names by number ("1月", "4 月", "1月份", "前5月"; not "3个月", a span).
// With `since`, a month the text counts from ("4月以来", "4月起") stands for the rest of the
// year too: "5月以来，传媒指数仍然呈现承压走势。" is of "2024年4月以来…".
std::set<int> MonthsIn(std::string_view text, bool since = false) {
  std::set<int> months;
  ForEachCountOf(text, "月", [&](std::string_view digits, size_t start, std::string_view after) {
    const bool after_decimal = start >= 1 && text[start - 1] == '.';
    if (digits.size() > 2 || after_decimal) return;
    const int month = std::stoi(std::string(digits));
    const bool onwards = since && (after.starts_with("以来") || after.starts_with("起") || after.starts_with("开始") ||
                                   after.starts_with("至今") || after.starts_with("份以来"));
    for (int m = month; m >= 1 && m <= 12 && (m == month || onwards); ++m) months.insert(m);
  });
  return months;
}

bool AsksAQuestion(std::string_view text) {
  while (!text.empty()) {
    if (text.ends_with("”") || text.ends_with("」") || text.ends_with("）")) {
      text.remove_suffix(3);
    } else if (text.back() == '"' || text.back() == ')' || text.back() == '\'' || text.back() == ' ') {
      text.remove_suffix(1);
    } else {
      break;
    }
  }
  return text.ends_with("？") || text.ends_with("?");
}

// Whether `text`, which follows `predecessor` directly in its passage (empty when it does not),
// is to be quoted after it: it leans on more than a topic, and the predecessor stands alone or
// only adds (one that leans itself gives it no subject either).
bool QuotedAfterPredecessor(const std::string& text, const std::string& predecessor) {
  return !predecessor.empty() && internal::LeansOnPredecessor(text) &&
         (StandsAlone(predecessor) >= 1.0 || OnlyAdds(predecessor));
}

// A text's lexical terms with word forms folded ("fell" → fall, "four" → 4): how the query, the
// sentences and what they are read under are compared.
std::vector<std::string> FoldedTerms(const internal::WordForms& forms, const std::string& text) {
  std::vector<std::string> terms = LexicalTerms(text);
  forms.Fold(terms);
  return terms;
}

// A question's terms: a text's, less "much" and "many" (and the light verb "make") where the
// question says "how much" / "how many" — how it asks for an amount, not what it names ("By how much did inference prices
// fall?" ranked "Serving a model has become much cheaper in two years." over the sentence
// saying the price fell tenfold).
std::vector<std::string> QuestionTerms(const internal::WordForms& forms, const std::string& query) {
  std::vector<std::string> terms = FoldedTerms(forms, query);
  const std::vector<std::string> make = FoldedTerms(forms, "make");
  std::string lowered(query);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); });
  for (std::string_view amount : {"much", "many"}) {
    const std::string asked = "how " + std::string(amount);
    bool framed = false;
    for (size_t at = lowered.find(asked); at != std::string::npos; at = lowered.find(asked, at + 1)) {
      const size_t end = at + asked.size();
      const bool word_starts = at == 0 || !std::isalnum(static_cast<unsigned char>(lowered[at - 1]));
      const bool word_ends = end == lowered.size() || !std::isalnum(static_cast<unsigned char>(lowered[end]));
      framed = framed || (word_starts && word_ends);
    }
    if (framed) std::erase(terms, std::string(amount));
    // And the verb that earns the amount: "How much revenue did Harbor Robotics make…?" put
    // "…made up 41% of revenue" ("made" is "make") before the revenue itself.
    if (framed && !make.empty()) std::erase(terms, make[0]);
  }
  return terms;
}

// Whether a term is a pair of Chinese characters one of which is a particle, a copula or a
// question word (的, 是, 了, 吗, 呢, 哪, 么, 谁, 几, 何): it belongs to how a question is put,
// not to what it names.
bool HoldsChineseGrammar(const std::string& term) {
  static constexpr std::u32string_view kGrammar = U"的是了吗呢哪么谁几何";
  const internal::DecodedText decoded = internal::DecodeUtf8(term);
  if (decoded.code_points.size() != 2 || !internal::IsCjk(decoded.code_points[0])) return false;
  for (uint32_t cp : decoded.code_points) {
    if (kGrammar.find(static_cast<char32_t>(cp)) != std::u32string_view::npos) return true;
  }
  return false;
}

// The longest run of the query's terms, in the query's order, that `text` holds unbroken (only
// the query's first kMaxRunTerms terms are followed: a hostile query's thousands of terms would
// make this quadratic).
size_t LongestSharedRun(const std::vector<std::string>& query, const std::vector<std::string>& text) {
  constexpr size_t kMaxRunTerms = 64;
  const size_t q = std::min(query.size(), kMaxRunTerms);
  std::vector<size_t> run(q + 1, 0), previous(q + 1, 0);
  size_t longest = 0;
  for (const std::string& term : text) {
    for (size_t j = 1; j <= q; ++j) {
      run[j] = query[j - 1] == term ? previous[j - 1] + 1 : 0;
      longest = std::max(longest, run[j]);
    }
    std::swap(run, previous);
  }
  return longest;
}

// Relevance of each text to the query in [0, 1]: BM25 over the texts themselves and, with an
// embedder, the cosine of the vectors, each scaled by its best value, averaged.
struct Scored {
  std::vector<double> relevance;
  // Whether the text (with what it is read under) has any of the query's terms that name
  // something: false where its relevance is the embedder's (and a modal verb's) alone.
  std::vector<bool> shares_terms;
  std::vector<std::vector<float>> vectors;  // empty without an embedder
};

// `context_terms` (empty, or one per text; borrowed): the query's terms in what a text is read
// under — its document's title. Each counts once for the text even where the text lacks it, so
// that a sentence is not preferred for repeating its document's subject ("Harbor Robotics ended
// the year with…") over one that answers the rest of the question ("Revenue for the year
// reached…"). Terms are folded through `forms`: "fell" meets "fall", "four" meets "4".
// `read_with` (empty, or one per text; borrowed): what precedes a text where a reader meets it
// (the sentence it leans on, quoted first), embedded with it.
absl::StatusOr<Scored> Score(Embedder* embedder, const internal::WordForms& forms, const std::string& query,
                             const std::vector<std::string>& texts,
                             const std::vector<const std::vector<std::string>*>& context_terms = {},
                             const std::vector<const std::string*>& read_with = {}) {
  Scored out;
  out.relevance.assign(texts.size(), 0.0);
  out.shares_terms.assign(texts.size(), false);
  if (texts.empty()) return out;
  const std::vector<std::string> query_terms = QuestionTerms(forms, query);
  const std::vector<internal::QueryAcronym> acronyms = internal::QueryAcronyms(query);
  // The query's terms that name something: not the modal verbs the index keeps ("would" is in
  // "What would persuade drivers…" and in a coffee roaster's "prices would follow"), nor a pair
  // of Chinese characters holding a particle or a question word ("火星的首都是哪里？" gives "的首",
  // which "是国内的首款 AI 搜索产品" has).
  // Nor a superlative, which says how much, not of what: "Certified arabica inventories … fell to
  // their lowest level…" shared only "lowest" with "Which aspect of public transport received the
  // lowest satisfaction score?" and was quoted in its key findings.
  const std::vector<std::string> superlatives =
      LexicalTerms("most least lowest highest largest biggest smallest best worst longest shortest fastest slowest "
                   "cheapest greatest");
  std::vector<std::string> topical;
  for (const std::string& term : query_terms) {
    if (term != "would" && term != "may" && term != "might" && term != "must" && !HoldsChineseGrammar(term) &&
        std::find(superlatives.begin(), superlatives.end(), term) == superlatives.end()) {
      topical.push_back(term);
    }
  }
  const std::unordered_set<std::string> topical_set(topical.begin(), topical.end());
  // A sentence's words and meaning count less the wholes it gives a share of
  // (internal::WithoutWholes): "约占国内电影总票房的20%" states another figure than the box office
  // it names.
  const bool asks_for_a_share = internal::AsksForAShare(query);
  auto words_of = [&](const std::string& text) {
    return FoldedTerms(forms, asks_for_a_share ? text : internal::WithoutWholes(text));
  };
  internal::Bm25Index bm25;
  std::vector<size_t> runs(texts.size(), 0);
  for (size_t i = 0; i < texts.size(); ++i) {
    internal::Bm25Index::TermCounts counts;
    std::vector<std::string> terms = words_of(texts[i]);
    runs[i] = LongestSharedRun(query_terms, terms);
    if (i < read_with.size() && read_with[i] != nullptr) {
      runs[i] = std::max(runs[i], LongestSharedRun(query_terms, words_of(*read_with[i])));
    }
    for (std::string& term : terms) ++counts[std::move(term)];
    // "chief executive officer" answers a question about the CEO.
    for (const internal::QueryAcronym& a : acronyms) {
      if (!counts.contains(a.term) && internal::SpellsOut(texts[i], a.letters)) counts[a.term] = 1;
    }
    if (i < context_terms.size() && context_terms[i] != nullptr) {
      for (const std::string& term : *context_terms[i]) counts.try_emplace(term, 1);
    }
    // (Per the sentence's own terms: a query may be megabytes.)
    for (const auto& [term, count] : counts) out.shares_terms[i] = out.shares_terms[i] || topical_set.contains(term);
    bm25.Add(i, counts);
  }
  std::vector<double> lexical(texts.size(), 0.0);
  // Searched with the terms that name something: "什么是特效厅？" gives "是特", which "正是特效厅在市场
  // 份额上的贡献…" holds and the definition ("特效厅又称特殊厅，是…的统称") does not; it opened the
  // report. (A query of grammar alone keeps its terms; English modal verbs stay: "What would
  // persuade drivers…" is answered by "When asked what would make them leave the car at home…".)
  std::vector<std::string> searched;
  for (const std::string& term : query_terms) {
    if (!HoldsChineseGrammar(term)) searched.push_back(term);
  }
  if (searched.empty()) searched = query_terms;
  for (const auto& [id, score] : bm25.Search(searched, texts.size(), [](uint64_t) { return true; })) {
    lexical[id] = score;
  }
  const double best_lexical = *std::max_element(lexical.begin(), lexical.end());
  std::vector<double> semantic(texts.size(), 0.0);
  double best_semantic = 0;
  if (embedder != nullptr) {
    auto query_vector = embedder->EmbedQuery(query);
    if (!query_vector.ok()) return query_vector.status();
    // Embedding is the costly part (a few hundred sentences a second): past kMaxEmbedded only
    // the lexically best are embedded, the rest scored by their terms alone — a plan's passages
    // are search hits (a hundred sentences or so), a hostile one's megabytes would hold a worker
    // for minutes.
    constexpr size_t kMaxEmbedded = 512;
    std::vector<size_t> embedded(texts.size());
    for (size_t i = 0; i < embedded.size(); ++i) embedded[i] = i;
    if (embedded.size() > kMaxEmbedded) {
      std::partial_sort(embedded.begin(), embedded.begin() + kMaxEmbedded, embedded.end(), [&](size_t a, size_t b) {
        return lexical[a] > lexical[b] || (lexical[a] == lexical[b] && a < b);
      });
      embedded.resize(kMaxEmbedded);
      std::sort(embedded.begin(), embedded.end());
    }
    std::vector<std::string> to_embed;
    for (size_t i : embedded) {
      const bool preceded = i < read_with.size() && read_with[i] != nullptr && !read_with[i]->empty();
      const std::string own = asks_for_a_share ? texts[i] : internal::WithoutWholes(texts[i]);
      to_embed.push_back(preceded ? *read_with[i] + own : own);
    }
    auto vectors = embedder->Embed(to_embed);
    if (!vectors.ok()) return vectors.status();
    out.vectors.assign(texts.size(), {});
    for (size_t j = 0; j < embedded.size() && j < vectors->size(); ++j) out.vectors[embedded[j]] = std::move((*vectors)[j]);
    for (size_t i = 0; i < texts.size(); ++i) {
      double dot = 0;
      for (size_t d = 0; d < query_vector->size() && d < out.vectors[i].size(); ++d) dot += (*query_vector)[d] * out.vectors[i][d];
      semantic[i] = std::max(0.0, dot);
      best_semantic = std::max(best_semantic, semantic[i]);
    }
  }
  const double weight = embedder != nullptr ? 0.5 : 1.0;
  // The question's words said as the question says them count for a little more: "2024年4月，我国
  // 游戏市场实际销售收入224.32亿元" holds "我国游戏市场实际销售收入" unbroken, where "我国移动游戏
  // 市场实际销售收入159.05亿元" holds every one of its terms but answers for a part of the market.
  // Only among the lexically best (at least kNear of the best BM25): scaling every sentence
  // moved the others across the report plan's thresholds (an English report lost the answer
  // from its first two sentences), and there the run says nothing the terms did not.
  constexpr double kPhrase = 0.3, kNear = 0.8;
  const size_t best_run = *std::max_element(runs.begin(), runs.end());
  for (size_t i = 0; i < texts.size(); ++i) {
    double r = best_lexical > 0 ? weight * lexical[i] / best_lexical : 0;
    if (embedder != nullptr && best_semantic > 0) r += (1 - weight) * semantic[i] / best_semantic;
    if (best_run > 1 && lexical[i] >= kNear * best_lexical) {
      r *= 1 - kPhrase * (1 - static_cast<double>(runs[i]) / static_cast<double>(best_run));
    }
    out.relevance[i] = r;
  }
  return out;
}

using TermSet = std::unordered_set<std::string>;

TermSet TermsOf(const std::string& text) {
  std::vector<std::string> terms = LexicalTerms(text);
  return TermSet(terms.begin(), terms.end());
}

// Jaccard overlap of two term sets (character bigrams and words); `if_empty` when both are
// empty.
double Overlap(const TermSet& a, const TermSet& b, double if_empty) {
  size_t shared = 0;
  for (const std::string& t : a) shared += b.count(t);
  const size_t total = a.size() + b.size() - shared;
  return total == 0 ? if_empty : static_cast<double>(shared) / static_cast<double>(total);
}

// Restatements (overlapping chunks repeat a sentence, reports restate each other) share most of
// their terms.
constexpr double kRestated = 0.6;

// The share of `a`'s terms that `b` has. A short sentence whose terms are nearly all in a longer
// one already chosen says nothing the longer one does not ("AI+影视: 赋能生产全环节;", 6 of its 8
// terms in "AI+影视：AIGC 有望在影视生产全环节得到广泛应用。"), though the pair's overlap is small.
double Contained(const TermSet& a, const TermSet& b) {
  if (a.empty()) return 1.0;
  size_t shared = 0;
  for (const std::string& t : a) shared += b.count(t);
  return static_cast<double>(shared) / static_cast<double>(a.size());
}
constexpr double kContained = 0.75;

// The terms of the focus that the background lacks, and how many of them a sentence needs.
struct FocusTerms {
  TermSet terms;
  size_t needed = 0;
};

// Words a chart's caption or a section's heading says of any subject: "历年上座率变化趋势" (the
// yearly trend of cinema occupancy) is on 上座率, and its section had taken "…国内游戏市场收入变化
// 趋势基本主导着整体游戏收入" through "变化" and "趋势" alone.
// (And the adverbs a heading's rhetoric adds: "国产系统悄然崛起" (home-made systems quietly rising)
// asked two of 产系, 系统, 统悄, 悄然, 然崛 of its sentences, and its section on CINITY had none.)
constexpr std::string_view kAnySubjectsHeadingWords[] = {"变化", "趋势", "走势", "情况", "比较", "对比",
                                                         "预测", "分析", "概况", "现状", "历年", "悄然",
                                                         "稳步", "逐步", "持续", "不断"};

FocusTerms FocusOf(const std::string& focus, const std::string& background) {
  FocusTerms out;
  const TermSet common = TermsOf(background);
  // Each such word becomes a break, so that no character pair across its edge ("化趋", "率变")
  // stands for it.
  const std::vector<std::string> terms = LexicalTerms(internal::WordsAsBreaks(focus, kAnySubjectsHeadingWords));
  for (const std::string& term : terms) {
    if (!common.count(term)) out.terms.insert(term);
  }
  // A heading made only of the background's words ("Risks" under "What supply risk does Harbor
  // Robotics name?") still asks for sentences on it: its own words, all of them background.
  if (out.terms.empty()) out.terms.insert(terms.begin(), terms.end());
  // A third of them, at most two: a long, sentence-like heading names its subject more than once.
  out.needed = std::min<size_t>((out.terms.size() + 2) / 3, 2);
  return out;
}

bool MeetsFocus(const FocusTerms& focus, const std::string& text) {
  if (focus.needed == 0) return true;
  size_t shared = 0;
  for (const std::string& term : TermsOf(text)) shared += focus.terms.count(term);
  return shared >= focus.needed;
}

// Whether a Chinese sentence says "其" (its), not in 其中, 其他, 其余, 其实, 其次, 尤其 or 极其.
bool SaysIts(std::string_view text) {
  constexpr std::string_view kIts = "其";
  for (size_t at = text.find(kIts); at != std::string_view::npos; at = text.find(kIts, at + 1)) {
    const std::string_view after = text.substr(at + kIts.size());
    const std::string_view before = text.substr(0, at);
    bool word = before.ends_with("尤") || before.ends_with("极");
    for (std::string_view next : {"中", "他", "余", "实", "次", "它"}) word = word || after.starts_with(next);
    if (!word) return true;
  }
  return false;
}

// Texts that differ only in spacing ("224.32亿元" and "224.32 亿元") are the same sentence.
std::string SpacingFree(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

// Whether only spacing lies between the start of a line of `passage` (or its start) and code
// point `at`.
bool OpensALine(const std::string& passage, std::optional<internal::DecodedText>& decoded, uint64_t at) {
  if (!decoded) decoded = internal::DecodeUtf8(passage);
  const std::vector<uint32_t>& cps = decoded->code_points;
  at = std::min<uint64_t>(at, cps.size());
  while (at > 0 && cps[at - 1] != '\n' && internal::IsSpace(cps[at - 1])) --at;
  return at == 0 || cps[at - 1] == '\n';
}

// Whether only emphasis marks stand between two sentences of a line ("**IP 开发业务初显实力。**2023
// 年起，…": a Markdown report's bold lead, then its paragraph), so that they are one paragraph.
bool OnlyEmphasisBetween(const std::string& passage, std::optional<internal::DecodedText>& decoded, uint64_t from,
                         uint64_t to) {
  constexpr uint64_t kMaxMarks = 4;
  if (from > to || to - from > kMaxMarks) return false;
  if (!decoded) decoded = internal::DecodeUtf8(passage);
  const std::vector<uint32_t>& cps = decoded->code_points;
  if (to > cps.size()) return false;
  for (uint64_t k = from; k < to; ++k) {
    if (cps[k] != '*' && cps[k] != '_' && cps[k] != ' ') return false;
  }
  return true;
}

// "另外，DeepSeek 也公布了…" is quoted from "DeepSeek": the rest says its fact and stands alone
// (internal::ConnectiveOpener). The sentence's start moves past the opener in `passage`, which
// `decoded` holds decoded once one is trimmed.
void DropConnectiveOpener(const std::string& passage, std::optional<internal::DecodedText>& decoded, PassageSentence& s) {
  const size_t opener = internal::ConnectiveOpener(s.text);
  if (opener == 0) return;
  if (!decoded) decoded = internal::DecodeUtf8(passage);
  size_t skip = 0;  // the opener's code points other than spacing
  for (uint32_t cp : internal::DecodeUtf8(std::string_view(s.text).substr(0, opener)).code_points) {
    skip += internal::IsSpace(cp) ? 0 : 1;
  }
  uint64_t at = s.start;
  while (at < s.end && at < decoded->code_points.size() && (skip > 0 || internal::IsSpace(decoded->code_points[at]))) {
    if (!internal::IsSpace(decoded->code_points[at])) --skip;
    ++at;
  }
  s.start = at;
  s.text.erase(0, opener);
}

}  // namespace

absl::StatusOr<RankedSentences> RankSentences(Embedder* embedder, const std::string& query,
                                              std::span<const PassageInput> passages,
                                              const SentenceRankOptions& options) {
  const int k = std::clamp(options.k, 1, 256);
  const int k_headings = std::clamp(options.k_headings, 0, 64);
  std::unordered_set<std::string> excluded;
  for (const std::string& text : options.exclude) excluded.insert(SpacingFree(NormalizeSpacing(text)));
  const FocusTerms focus = FocusOf(options.focus, options.background);
  const std::string focus_heading = SpacingFree(NormalizeSpacing(options.focus));

  std::vector<RankedSentence> sentences, headings;
  // Each sentence's section heading in its passage (PassageSentence::section). Markdown headings
  // start a chunk, so a hit under "## Why prices rose" carries that heading.
  std::vector<std::string> sections, previous;
  std::unordered_set<std::string> seen_sentences, seen_headings;
  const internal::AnswerType answer_type = internal::AnswerTypeOf(query);
  // A difference asked ("DeepSeek-R1-Zero和DeepSeek-R1有什么区别？", "有哪些区别") is told by a
  // sentence on one of the two (internal::HowItTells), not by one naming both as one; and by a
  // table's row naming one of them (the distilled models' benchmark rows, "DeepSeek-R1-Distill-
  // Qwen-1.5B…", followed the pair).
  const internal::Contrast contrast =
      answer_type == internal::AnswerType::kAny || answer_type == internal::AnswerType::kList ? internal::ContrastAsked(query)
                                                                                            : internal::Contrast{};
  const internal::WordForms forms;
  // Passages a plan brings (a web page's words) have not been through the store: their control
  // characters become spaces here too, one code point for one, so offsets hold. Read once, for
  // the sentences and the tables.
  std::vector<std::string> texts_read;
  texts_read.reserve(passages.size());
  for (const PassageInput& passage : passages) texts_read.push_back(internal::StorableText(passage.text));
  for (size_t p = 0; p < passages.size(); ++p) {
    SentenceOptions split = options.sentences;
    split.starts_at_sentence = passages[p].starts_at_sentence;
    const std::string& text = texts_read[p];
    PassageSentences found = SplitSentences(text, split);
    // Each sentence's predecessor in the passage, when nothing but spacing lies between them,
    // and the sentence after one that announces it, in the same paragraph.
    // (As they are quoted: without a connective opener, DropConnectiveOpener below.)
    auto as_quoted = [](const std::string& text) { return text.substr(internal::ConnectiveOpener(text)); };
    std::vector<std::string> predecessors(found.sentences.size()), announced(found.sentences.size());
    std::optional<internal::DecodedText> decoded;  // the passage, decoded once needed
    for (size_t j = 1; j < found.sentences.size(); ++j) {
      if (internal::FollowsDirectly(found.sentences[j - 1], found.sentences[j])) predecessors[j] = as_quoted(found.sentences[j - 1].text);
      // A claim's figures in a sentence that leans on it come after a line break too: a PDF's
      // text breaks lines where the page did ("…AI 数据中心的资本开支主要集中在 IT 侧，占据大头。"
      // then, on the next line, "其中，服务器约占 IT 侧成本的 70%…").
      const bool backs = internal::BacksWithAFigure(found.sentences[j - 1].text, found.sentences[j].text);
      const bool leaning_figures = backs && internal::FollowsDirectly(found.sentences[j - 1], found.sentences[j]) &&
                                   internal::LeansOnPredecessor(found.sentences[j].text);
      const bool same_paragraph =
          internal::InSameParagraph(found.sentences[j - 1], found.sentences[j]) ||
          OnlyEmphasisBetween(text, decoded, found.sentences[j - 1].end, found.sentences[j].start);
      if ((leaning_figures || same_paragraph) &&
          (internal::AnnouncesNext(found.sentences[j - 1].text) || backs ||
           internal::AddsAFigure(found.sentences[j - 1].text, found.sentences[j].text) ||
           internal::GivesTheWholeOrAShare(found.sentences[j - 1].text, found.sentences[j].text) ||
           internal::OneSideAnnouncesTheOther(found.sentences[j - 1].text, found.sentences[j].text) ||
           (internal::EndsOnAClause(found.sentences[j - 1].text) &&
            internal::FollowsDirectly(found.sentences[j - 1], found.sentences[j]))) &&
          !found.sentences[j].timeline_entry) {
        announced[j - 1] = as_quoted(found.sentences[j].text);
      }
      // Two sentences on: figures followed by a parallel claim and its figures, or a claim borne
      // out by figures a source is named for, bring the sentence between (which brings the third
      // in turn, `further`).
      if (announced[j - 1].empty() && same_paragraph && j + 1 < found.sentences.size() &&
          internal::FollowsDirectly(found.sentences[j], found.sentences[j + 1])) {
        const std::string &first = found.sentences[j - 1].text, &between = found.sentences[j].text,
                          &third = found.sentences[j + 1].text;
        if (internal::AddsAParallelClaim(first, between, third) || internal::BorneOutBySourcedFigures(first, between, third)) {
          announced[j - 1] = as_quoted(between);
        }
      }
      // A sentence announcing a list brings the list's first item, which starts a line of its own.
      if (internal::AnnouncesAList(found.sentences[j - 1].text) && announced[j - 1].empty() &&
          found.sentences[j - 1].end <= found.sentences[j].start && !found.sentences[j].timeline_entry) {
        announced[j - 1] = as_quoted(found.sentences[j].text);
      }
    }
    // A list's announcement brings the items after its first too, while they go on line by line.
    constexpr size_t kMaxListItems = 6;
    constexpr uint64_t kMaxListChars = 600;
    std::vector<std::vector<std::string>> further(found.sentences.size());
    for (size_t j = 0; j + 1 < found.sentences.size(); ++j) {
      const PassageSentence& first = found.sentences[j + 1];
      if (!internal::AnnouncesAList(found.sentences[j].text) || announced[j] != as_quoted(first.text) || !first.list_item) continue;
      uint64_t chars = first.end - first.start;
      for (size_t k = j + 2; k < found.sentences.size() && k - j <= kMaxListItems; ++k) {
        const PassageSentence& item = found.sentences[k];
        chars += item.end - item.start;
        if (!item.list_item || item.timeline_entry || chars > kMaxListChars) break;
        further[j].push_back(as_quoted(item.text));
      }
    }
    // And what the announced sentence announces in turn comes too, two more at most: a claim's
    // figures, then the short sentence adding one ("年初以来，国内影院上座率为 6.5%，低于 2023 年全年的
    // 8.3%。" after "上座率略有下滑，平均票价保持提升。", then "平均票价为 43.57 元，保持升势。").
    constexpr size_t kMaxChained = 2;
    for (size_t j = 0; j + 1 < found.sentences.size(); ++j) {
      if (announced[j].empty() || internal::AnnouncesAList(found.sentences[j].text)) continue;
      for (size_t k = j + 1; k < found.sentences.size() && k - j <= kMaxChained; ++k) {
        if (announced[k].empty() || internal::AnnouncesAList(found.sentences[k].text)) break;
        further[j].push_back(announced[k]);
      }
    }
    for (size_t j = 0; j < found.sentences.size(); ++j) {
      PassageSentence& s = found.sentences[j];
      DropConnectiveOpener(text, decoded, s);
      // One that leans on what precedes it on its line, where that is no sentence a report can
      // quote, would name nothing quoted: "该耳机接入了字节豆包大模型的…" followed a table's cells
      // ("智能耳机\t字节跳动\tOla Friend 为开放式耳机…。") and opened "豆包的用户规模"'s second sentence.
      if (predecessors[j].empty() && internal::LeansOnPredecessor(s.text) && !OpensALine(text, decoded, s.start)) continue;
      const std::string key = SpacingFree(s.text);
      if (s.timeline_entry && answer_type != internal::AnswerType::kTime) continue;
      // A source's question ("在国外品牌云集的特效厅里，国产科技是如何实现突围的？") introduces what
      // follows; quoted, it is a question in the report's findings.
      if (AsksAQuestion(s.text)) continue;
      // Nor is a list's announcement without the list (the passage ends on it).
      if (internal::AnnouncesAList(s.text) && announced[j].empty()) continue;
      // A sentence under the focus heading itself is on its subject, whatever its words: under
      // "Training versus serving", "Training remains expensive but happens once." (the heading's
      // only word beyond the topic is "versus").
      // (s.section is at most kMaxSectionChars code points: normalising it per sentence is cheap.)
      const bool under_focus = !options.focus.empty() && SpacingFree(NormalizeSpacing(s.section)) == focus_heading;
      if (excluded.count(key) || !(under_focus || MeetsFocus(focus, s.text)) || !seen_sentences.insert(key).second) continue;
      sections.push_back(std::move(s.section));
      sentences.push_back({std::move(s.text), static_cast<int>(p), s.start, s.end, 0});
      previous.push_back(std::move(predecessors[j]));
      sentences.back().next = std::move(announced[j]);
      sentences.back().further = std::move(further[j]);
    }
    for (PassageSentence& h : found.headings) {
      if (!seen_headings.insert(SpacingFree(h.text)).second) continue;
      headings.push_back({std::move(h.text), static_cast<int>(p), h.start, h.end, 0});
    }
  }

  RankedSentences out;
  if (!sentences.empty()) {
    // What a sentence is read under — its document's title and its section's heading — counts
    // with it: the query's terms these have.
    const std::vector<std::string> query_terms = QuestionTerms(forms, query);
    const std::unordered_set<std::string> asked(query_terms.begin(), query_terms.end());
    auto asked_terms = [&](const std::string& text, std::vector<std::string>& out) {
      for (std::string& term : FoldedTerms(forms, text)) {
        if (asked.count(term)) out.push_back(std::move(term));
      }
    };
    const std::string defined_term = internal::DefinedTerm(query);  // "什么是X？": X
    std::vector<std::vector<std::string>> title_terms(passages.size());
    for (size_t p = 0; p < passages.size(); ++p) {
      asked_terms(passages[p].title, title_terms[p]);
      asked_terms(std::string(IssuerName(passages[p].issuer)), title_terms[p]);
    }
    std::vector<std::string> texts;
    std::vector<std::vector<std::string>> context_terms(sentences.size());
    std::vector<const std::vector<std::string>*> contexts;
    std::vector<const std::string*> read_with(sentences.size(), nullptr);
    // For "什么是X？": whether each sentence defines X itself, or through "其" after its predecessor.
    std::vector<bool> defines(sentences.size(), false), defined_through(sentences.size(), false);
    // An example ("以字节为例，…豆包 app 的月活跃用户达到了 7522 万…") that has more of the question
    // than the claim before it (two terms more), and all the claim has, answers it without the
    // claim: "豆包的用户规模" opened on "…推理的需求规模往往是训练需求的 5-10 倍" (its 规模 of another
    // thing), quoted for the example after it. It is quoted alone, "以 X 为例，" and all: X is
    // often the rest's subject ("以 OpenAI 为例，2022 年 11 月推出 GPT-3.5…").
    std::vector<bool> example_alone(sentences.size(), false);
    for (size_t i = 0; i < sentences.size(); ++i) {
      const size_t example = internal::ExampleOpener(sentences[i].text);
      if (example == 0) continue;
      // (Its "其" or "它" right after the opening is the example: "以 DeepSeek 为例，其参数量从 2024 年
      // 5 月发布的 DeepSeek-V2 的2,360 亿快速增长至…".)
      std::string_view rest = std::string_view(sentences[i].text).substr(example);
      while (rest.starts_with(" ")) rest.remove_prefix(1);
      for (std::string_view its : {"其", "它"}) {
        if (rest.starts_with(its) && !rest.starts_with("其他") && !rest.starts_with("其它") && !rest.starts_with("其中") &&
            !rest.starts_with("其余")) {
          rest.remove_prefix(its.size());
        }
      }
      if (internal::StandsAlone(std::string(rest)) < 1.0) continue;
      std::vector<std::string> in_example, in_claim;
      asked_terms(sentences[i].text, in_example);
      asked_terms(previous[i], in_claim);
      // (Words only: a Latin word of two letters or more, a pair of CJK characters — not a
      // number or a lone 月.)
      auto words = [](const std::vector<std::string>& terms) {
        std::set<std::string> out;
        for (const std::string& term : terms) {
          const bool latin_word = term.size() >= 2 && std::isalpha(static_cast<unsigned char>(term[0]));
          const bool cjk_pair = static_cast<unsigned char>(term[0]) >= 0x80 && term.size() >= 6;
          if (latin_word || cjk_pair) out.insert(term);
        }
        return out;
      };
      const std::set<std::string> example_terms = words(in_example), claim_terms = words(in_claim);
      // (Two of the question's terms more than the claim: a name alone, "以 OpenAI 为例，2022 年 11 月
      // 推出 GPT-3.5…" for OpenAI's valuation, is an example of the claim, not an answer.)
      bool claim_adds = false;
      for (const std::string& term : claim_terms) claim_adds = claim_adds || !example_terms.contains(term);
      if (claim_adds || example_terms.size() < claim_terms.size() + 2) continue;
      example_alone[i] = true;
      previous[i].clear();
    }
    for (size_t i = 0; i < sentences.size(); ++i) {
      texts.push_back(sentences[i].text);
      context_terms[i] = title_terms[sentences[i].passage];
      asked_terms(sections[i], context_terms[i]);
      // And so is the sentence before one that opens on its time, points back to it or states a
      // figure of its subject (internal::ReadsWithItsPredecessor), which a writer quotes first:
      // "全年累计票房约425亿元…" answers "2024年国内电影全年票房是多少？" read after "2024年，国内电影
      // 产业降温明显。". (Not any leaning sentence's predecessor: "Before joining Harbor Robotics she
      // ran…" read with the CEO's name outranked the answers to the rest of the question.)
      // (So is the sentence before one that says through "其" what the asked term is: "其核心观点为：…"
      // after the one naming "杰文斯悖论".)
      // (Quoted after it even where it leans itself: "…引用了“杰文斯悖论”来解释这一现象：…" says
      // enough of the term for its definition to follow.)
      defines[i] = !defined_term.empty() && internal::Defines(defined_term, sentences[i].text);
      defined_through[i] = !defined_term.empty() && !defines[i] && !previous[i].empty() &&
                           internal::Defines(defined_term, sentences[i].text, previous[i]);
      if ((internal::ReadsWithItsPredecessor(sentences[i].text) && QuotedAfterPredecessor(sentences[i].text, previous[i])) ||
          defined_through[i]) {
        asked_terms(previous[i], context_terms[i]);
        read_with[i] = &previous[i];
      }
      contexts.push_back(&context_terms[i]);
    }
    auto scored = Score(embedder, forms, query, texts, contexts, read_with);
    if (!scored.ok()) return scored.status();
    // A question of a kind ("how many", "when", "why") is answered by sentences that hold a
    // number, a date or a cause: the others count for less, however many of its words they share.
    constexpr double kOffType = 0.6;
    // A question of a year is answered by a sentence of that year: one that names only other
    // years (with the sentence it is read with) counts for less. "2023年中国光芯片市场规模是多少？"
    // opened on the forecast for 2024, the 2023 figure second.
    constexpr double kOtherYear = 0.8;
    // A question of a whole year ("2024年全国电影总票房是多少？") is not answered by a part of it:
    // "…2024 年前 5 月累计票房达 216.47 亿元" named only the first five months of 2024, and opened
    // the report.
    const std::set<int> asked_years = YearsIn(query);
    const std::set<int> asked_whole_years = YearsIn(query, /*whole_years=*/true);
    // So is a question of a month by a sentence of that month: "为什么2024年1月传媒指数走势低迷？"
    // opened on "截至6月25日，传媒指数今年累计下跌24.0%…", the January cause ("1月份因股市整体表现
    // 不佳…，故指数走势较为低迷；") third.
    const std::set<int> asked_months = MonthsIn(query, /*since=*/true);
    // A superlative is also a word of the question: at 0.6 "…inventories fell to their lowest
    // level…" (coffee) outranked the commuter survey's own sentences for "Which aspect of public
    // transport scored lowest?".
    constexpr double kOffExtreme = 0.8;
    // A question of an amount of a measure ("票房", "收入") is answered by a sentence that names it:
    // the count of special halls, from "《2024年中国电影产业年报》", opened the report on the year's
    // box office.
    constexpr double kOtherMeasure = 0.8;
    const bool asks_an_amount = answer_type == internal::AnswerType::kQuantity || answer_type == internal::AnswerType::kCount ||
                                answer_type == internal::AnswerType::kShare;
    // And it is answered by a sentence on the measure's holder: "2024 年一季度，传媒行业实现…归母净
    // 利润 79.21 亿元" (the whole media industry) opened "2024年一季度影视院线板块归母净利润同比增长
    // 多少？", above "净利润增速分别为：…影视院线+32.2%…" read after the sentence it continues. Its
    // holder may be named by the sentence, the one it is read with or its heading.
    constexpr double kOtherHolder = 0.8;
    // A question of one thing's share ("AI算力芯片占AI服务器成本的比例是多少？") is not answered by
    // another's ("…存储芯片在 AI 运算中提供重要支撑，约占服务器成本的 10%", the memory chips'), as a
    // sentence of another kind is not.
    const std::vector<std::string> share_terms = internal::ShareHolderTerms(query);
    const std::unordered_set<std::string> share_holder(share_terms.begin(), share_terms.end());
    const std::vector<std::string> holder_terms =
        asks_an_amount || answer_type == internal::AnswerType::kGrowth ? internal::MeasureHolderTerms(query)
                                                                       : std::vector<std::string>{};
    const std::unordered_set<std::string> holder(holder_terms.begin(), holder_terms.end());
    const std::vector<std::string_view> measure_words = internal::MeasureWordsAsked(query);
    // A question of one version of a name ("DeepSeek-V3") is not answered by a sentence on another
    // ("DeepSeek-R1 API 服务定价为…", which opened "DeepSeek-V3的API服务价格是多少？").
    constexpr double kSibling = 0.8;
    const std::vector<internal::VersionedName> asked_names = internal::VersionedNamesIn(query);
    constexpr double kLeansOnAQuotedPredecessor = 0.85;
    // A question of what a term is ("什么是特效厅？") is answered by a sentence that defines it
    // (internal::Defines): "正是特效厅在市场份额上的贡献…" (a cinema chain's words, the term twice)
    // opened the report above "特效厅又称特殊厅，是…的统称".
    constexpr double kUndefined = 0.8;
    // A question asking for the list of a named thing's items ("天工SkyMusic有哪些特点？") is
    // answered by the list of that thing, not a sibling's ("天工 AI 搜索呈现的具体特点包括：" shares
    // 天工 and 特点): each Latin word of three letters or more before "哪些" is named by the sentence,
    // what it is read with, its heading or its document's title, or the sentence counts as
    // another holder's.
    // (The Latin words of three letters or more in a stretch of the query.)
    auto latin_names = [](std::string_view stretch) {
      std::vector<std::string> names;
      for (std::string& term : LexicalTerms(stretch)) {
        if (term.size() >= 3 && std::isalpha(static_cast<unsigned char>(term[0]))) names.push_back(std::move(term));
      }
      return names;
    };
    std::vector<std::string> listed_names;
    if (answer_type == internal::AnswerType::kList) {
      const size_t which = query.find("哪些");
      const size_t from = internal::StartWithin(query, which, internal::kMaxHolderBytes);
      listed_names = latin_names(std::string_view(query).substr(from, which - from));
    }
    // A Chinese question naming whose forecast or view it asks, by a Latin name before 预测, 预计,
    // 认为, 估计 or 测算 ("LightCounting预测2029年400G+光模块市场规模将达到多少？"), is answered by that
    // one's: "中商产业研究院预测，2024年全球光芯片市场规模将达到31.7亿美元。" (another's forecast, of
    // another market) had opened, above LightCounting's 125 亿美元. Its sentences name it, as the
    // listed names above are named.
    std::vector<std::string> attributed_names;
    for (std::string_view verb : {"预测", "预计", "认为", "估计", "测算"}) {
      const size_t at = query.find(verb);
      if (at == std::string::npos || at > internal::kMaxHolderBytes) continue;
      attributed_names = latin_names(std::string_view(query).substr(0, at));
      break;
    }
    std::vector<std::unordered_set<std::string>> title_words;  // each passage's title's terms, for them
    if (!listed_names.empty() || !attributed_names.empty()) {
      for (const PassageInput& passage : passages) {
        std::vector<std::string> terms = LexicalTerms(passage.title);
        title_words.emplace_back(std::make_move_iterator(terms.begin()), std::make_move_iterator(terms.end()));
      }
    }
    // A question naming a document's issuer ("华龙证券的报告列出了哪些风险提示？") is on that
    // document: a sentence of another issuer's counts as another holder's (银河证券's risks had
    // opened, 华龙's list in the report's second section).
    // (Each issuer read once: passages share their document's.)
    std::vector<bool> of_named_issuer(passages.size(), false);
    bool issuer_named = false;
    std::unordered_map<std::string_view, bool> named_issuers;
    for (size_t p = 0; p < passages.size(); ++p) {
      auto [at, added] = named_issuers.try_emplace(passages[p].issuer, false);
      if (added) at->second = NamesIssuer(query, passages[p].issuer);
      of_named_issuer[p] = at->second;
      issuer_named = issuer_named || of_named_issuer[p];
    }
    // A "why" is answered too by the clauses before the asked fact where a sentence ends on it
    // (internal::EndsOnTheAskedFact): "…这种能耗增长对智算中心的运营成本构成了重大压力, 降功耗成为光模块
    // 技术发展的核心诉求之一。" was ranked third, below "目前由于良率和损耗问题, 硅光模块方案的整体优势尚
    // 不明显…" (a causal word, of another fact).
    const internal::AskedFact asked_fact =
        answer_type == internal::AnswerType::kReason ? internal::AskedFactOf(query) : internal::AskedFact{};
    constexpr double kBothAsOne = 0.4;
    const std::string career_of = internal::CareerAskedOf(query);
    for (size_t i = 0; i < sentences.size(); ++i) {
      double alone = example_alone[i] ? 1.0 : StandsAlone(sentences[i].text);
      // (A list's items may also come one to a sentence: a sentence that lists is preferred, not required.)
      const bool softly = !contrast.asked() &&
                          (answer_type == internal::AnswerType::kExtreme || answer_type == internal::AnswerType::kList);
      const internal::Telling telling = internal::HowItTells(contrast, sentences[i].text);
      // (Where someone worked is told of them, by name here or in the sentence its "she" leans on.)
      const bool of_whom_asked =
          career_of.empty() || internal::NamesWhoseCareer(career_of, sentences[i].text + " " + previous[i]);
      const bool offers = contrast.asked() ? internal::TellsApart(telling)
                                           : (internal::Offers(answer_type, sentences[i].text, sections[i]) && of_whom_asked) ||
                                                 internal::EndsOnTheAskedFact(asked_fact, sentences[i].text);
      // (Naming both as one, a sentence shares the most words with the question: it fell only to
      // 0.6 from 1.0, above the pair at 0.46 and 0.42.)
      // (Asked how the two compare, a sentence on both answers best, one on either is near.)
      const bool both = telling == internal::Telling::kBoth || telling == internal::Telling::kBothAsOne;
      const double fits = contrast.compared ? (both ? 1.0 : offers ? kOffExtreme : kOffType)
                          : offers                                       ? 1.0
                          : telling == internal::Telling::kBothAsOne     ? kBothAsOne
                          : softly                                       ? kOffExtreme
                                                                         : kOffType;
      sentences[i].leans_on_context = alone < 1.0;
      sentences[i].shares_query_terms = scored->shares_terms[i];
      sentences[i].offers_answer_kind = fits == 1.0;
      sentences[i].tells_apart = telling == internal::Telling::kFirst    ? 1
                                 : telling == internal::Telling::kSecond ? 2
                                 : telling == internal::Telling::kBoth   ? 3
                                                                         : 0;
      // Its predecessor, for a writer to quote first — unless it only adds (any sentence on its
      // subject will do) or the predecessor leans on one before it but for adding.
      if (internal::LeansOnPredecessor(sentences[i].text) && !previous[i].empty()) {
        sentences[i].previous_leans = StandsAlone(previous[i]) < 1.0;
        if (QuotedAfterPredecessor(sentences[i].text, previous[i]) || defined_through[i]) {
          sentences[i].previous = std::move(previous[i]);
        }
      } else if (!previous[i].empty() && StandsAlone(previous[i]) >= 1.0 &&
                 internal::TakesUpItsPredecessorsThing(sentences[i].text, previous[i])) {
        // "Two thirds of the backlog comes from…" is quoted after the sentence that says what the
        // backlog is (and ranks as one quoted after the sentence it leans on).
        sentences[i].leans_on_context = true;
        sentences[i].takes_up_previous = true;
        sentences[i].previous_leans = false;
        sentences[i].previous = std::move(previous[i]);
      }
      // Quoted after the sentence it leans on, it no longer lacks its first half: it counts as a
      // pronoun's sentence does ("而 2024年特效厅产出的票房为 85.3亿元…" after the clause on the
      // count of screens it continues, which a "；" ended).
      if (!sentences[i].previous.empty()) alone = std::max(alone, kLeansOnAQuotedPredecessor);
      // So does a comparison after the sentence it compares with ("Robusta prices … rose even
      // faster" after arabica's 70%): the two say together what neither says alone.
      const bool compares = internal::ComparesWithItsPredecessor(sentences[i].text);
      const bool completed = read_with[i] != nullptr || compares;
      if (completed && !sentences[i].previous.empty()) alone = 1.0;
      sentences[i].compares_with_previous = compares && read_with[i] == nullptr && !sentences[i].previous.empty();
      double year_fits = 1.0;
      if (!asked_years.empty()) {
        const std::string& text = sentences[i].text;
        const std::string& previous = sentences[i].previous;
        std::set<int> years = YearsIn(text), whole_years = YearsIn(text, true);
        if (!previous.empty()) {
          years.merge(YearsIn(previous));
          whole_years.merge(YearsIn(previous, true));
        }
        bool shared = false;
        for (int year : years) {
          shared = shared || (asked_years.count(year) > 0 && (!asked_whole_years.count(year) || whole_years.count(year) > 0));
        }
        if (!years.empty() && !shared) year_fits = kOtherYear;
      }
      if (!asked_months.empty() && year_fits == 1.0) {
        std::set<int> months = MonthsIn(sentences[i].text);
        months.merge(MonthsIn(sentences[i].previous));
        bool shared = false;
        for (int month : months) shared = shared || asked_months.count(month) > 0;
        if (!months.empty() && !shared) year_fits = kOtherYear;
      }
      const double measure_fits =
          asks_an_amount && !internal::NamesAMeasure(measure_words, sentences[i].text + sentences[i].previous) ? kOtherMeasure : 1.0;
      // A sentence whose "其" is the sibling its predecessor names is on the sibling too: "…，其 API
      // 服务定价调整为每百万输入 tokens 0.5 元…" after "DeepSeek-V3 模型性价比极为突出。" answered
      // "DeepSeek-R1的API定价是多少？" among R1's prices. (previous[i] has moved into the sentence's
      // `previous` when it is quoted with it: read there.)
      const std::string& before = sentences[i].previous.empty() ? previous[i] : sentences[i].previous;
      const bool its_own_names = !internal::VersionedNamesIn(sentences[i].text).empty();
      const bool says_its = SaysIts(sentences[i].text);
      const std::string& read = !its_own_names && says_its ? before : sentences[i].previous;
      const double name_fits = internal::NamesOnlyASibling(asked_names, sentences[i].text + " " + read) ? kSibling : 1.0;
      // (previous[i] may have moved into the sentence's `previous` above, read_with[i] with it.)
      const std::string read_after = sentences[i].previous + "\n" + (read_with[i] != nullptr ? *read_with[i] : "");
      // (And one that gives the measure of a sibling only — "2.5G及以下速率光芯片国产化率超过90%" for
      // 10G's — counts as another holder's.)
      const double holder_fits =
          internal::NamesAnyOf(holder, sentences[i].text + "\n" + read_after + "\n" + sections[i]) &&
                  !internal::GivesTheMeasureOfAnother(holder, measure_words, query, sentences[i].text, before + "\n" + sections[i])
              ? 1.0
              : kOtherHolder;
      const double share_fits = internal::GivesTheShareOf(share_holder, sentences[i].text) ? 1.0 : kOffType;
      // The names the question requires of its answer: a list's holder, a forecaster, an issuer.
      double names_fit = issuer_named && !of_named_issuer[sentences[i].passage] ? kOtherHolder : 1.0;
      if (!listed_names.empty() || !attributed_names.empty()) {
        std::unordered_set<std::string> named;
        for (const std::string& text : {sentences[i].text, read_after, sections[i]}) {
          for (std::string& term : LexicalTerms(text)) named.insert(std::move(term));
        }
        for (const std::vector<std::string>* names : {&listed_names, &attributed_names}) {
          for (const std::string& name : *names) {
            if (!named.count(name) && !title_words[sentences[i].passage].count(name)) names_fit = kOtherHolder;
          }
        }
      }
      const double definition_fits = defined_term.empty() || defines[i] || defined_through[i] ? 1.0 : kUndefined;
      sentences[i].score = scored->relevance[i] * alone * fits * year_fits * measure_fits * name_fits * holder_fits *
                           share_fits * definition_fits * names_fit;
    }
    // Where a sentence defines the asked term, the best of them opens: "AI Agent 是一种能自主感知周遭
    // 环境…的智能体。" (a long sentence, 0.43) ranked thirteenth for "什么是AI Agent？" below short
    // ones that only name the term ("DeepSeek 推动 AI Agent 快速进化…", 0.8 after kUndefined). The
    // others keep their order, below it.
    if (!defined_term.empty()) {
      double best_definition = 0, best_other = 0;
      for (size_t i = 0; i < sentences.size(); ++i) {
        double& best = defines[i] || defined_through[i] ? best_definition : best_other;
        best = std::max(best, sentences[i].score);
      }
      constexpr double kBelowTheDefinition = 0.95;
      if (best_definition > 0 && best_other >= best_definition) {
        const double scale = kBelowTheDefinition * best_definition / best_other;
        for (size_t i = 0; i < sentences.size(); ++i) {
          if (!defines[i] && !defined_through[i]) sentences[i].score *= scale;
        }
      }
    }
    // The sentence a definition through "其" follows names the term: for this question it opens
    // the pair ("微软首席执行官引用了“杰文斯悖论”来解释这一现象：…" leans on the phenomenon before it,
    // which the question does not ask about).
    // (Sentences are unique by their text: one look-up each.)
    std::unordered_map<std::string_view, size_t> sentence_at;
    if (!defined_term.empty()) {
      for (size_t j = 0; j < sentences.size(); ++j) sentence_at.emplace(sentences[j].text, j);
    }
    for (size_t i = 0; i < sentences.size(); ++i) {
      if (!defined_through[i] || sentences[i].previous.empty()) continue;
      sentences[i].previous_leans = false;
      if (auto named = sentence_at.find(sentences[i].previous);
          named != sentence_at.end() && sentences[named->second].passage == sentences[i].passage) {
        sentences[named->second].leans_on_context = false;
      }
    }
    // A sentence that shares no term with the question, its document's title or its heading,
    // from another document than the best-ranked sentence's, is there for the embedder's vague
    // likeness alone: "One European roaster said its green coffee costs had increased by 40%…"
    // for "What would persuade drivers to use public transport?" (0.54, beside the survey's
    // answer at 0.54, which is held by its document). Left out.
    std::vector<bool> adrift(sentences.size(), false);
    if (embedder != nullptr) {
      size_t best = 0;
      for (size_t i = 1; i < sentences.size(); ++i) {
        if (sentences[i].score > sentences[best].score) best = i;
      }
      const std::string& anchor = passages[sentences[best].passage].title;
      for (size_t i = 0; i < sentences.size(); ++i) {
        const bool same_document = sentences[i].passage == sentences[best].passage ||
                                   (!anchor.empty() && passages[sentences[i].passage].title == anchor);
        adrift[i] = !scored->shares_terms[i] && !same_document;
      }
    }
    // Novelty: the vectors' cosine, or without vectors the overlap of the terms.
    std::vector<TermSet> terms;
    for (const std::string& text : texts) terms.push_back(TermsOf(text));
    const std::vector<std::vector<float>>& vectors = scored->vectors;
    auto similarity = [&](size_t a, size_t b) {
      if (vectors.empty()) return Overlap(terms[a], terms[b], 0.0);
      double dot = 0;
      for (size_t d = 0; d < vectors[a].size() && d < vectors[b].size(); ++d) dot += vectors[a][d] * vectors[b][d];
      return dot;
    };
    // Maximal marginal relevance, with restatements (most bigrams shared with a chosen
    // sentence) left out altogether. Among the best-scored kMmrPool · k only (a sentence further
    // down does not win on novelty), each one's redundancy kept up to date as sentences are
    // chosen: a passage of thousands of sentences that restate each other (a hostile page, a
    // timeline) cost sentences² comparisons before.
    constexpr size_t kMmrPool = 8, kMinMmrPool = 64;
    std::vector<size_t> pool;
    for (size_t i = 0; i < sentences.size(); ++i) {
      if (!adrift[i]) pool.push_back(i);
    }
    const size_t pool_size = std::min(pool.size(), std::max(kMinMmrPool, kMmrPool * static_cast<size_t>(k)));
    std::partial_sort(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(pool_size), pool.end(),
                      [&](size_t a, size_t b) {
                        return sentences[a].score > sentences[b].score || (sentences[a].score == sentences[b].score && a < b);
                      });
    pool.resize(pool_size);
    std::vector<double> redundancy(pool_size, 0.0);
    std::vector<bool> taken(pool_size, false);
    std::vector<size_t> chosen;
    // A list's items are alike in their wording ("国产GPU厂商沐曦宣布与DeepSeek的合作，摩尔线程宣布部署…；"
    // beside "天数智芯宣布适配DeepSeek-R1…"): for a question asking which, novelty counts little, or
    // the second-best answer went fourth, behind a cloud vendors' sentence, and out of the report.
    constexpr double kListLambda = 0.9;
    const double lambda =
        answer_type == internal::AnswerType::kList ? std::max(options.mmr_lambda, kListLambda) : options.mmr_lambda;
    while (static_cast<int>(chosen.size()) < k) {
      double best = -1e9;
      size_t pick = pool_size;
      for (size_t j = 0; j < pool_size; ++j) {
        if (taken[j]) continue;
        const double mmr = lambda * sentences[pool[j]].score - (1 - lambda) * redundancy[j];
        if (mmr > best || (pick != pool_size && mmr == best && pool[j] < pool[pick])) {
          best = mmr;
          pick = j;
        }
      }
      if (pick == pool_size) break;
      taken[pick] = true;
      const size_t picked = pool[pick];
      bool restated = false;
      for (size_t c : chosen) {
        restated = restated || Overlap(terms[picked], terms[c], 1.0) > kRestated || Contained(terms[picked], terms[c]) >= kContained;
      }
      if (restated) continue;
      chosen.push_back(picked);
      for (size_t j = 0; j < pool_size; ++j) {
        if (!taken[j]) redundancy[j] = std::max(redundancy[j], similarity(pool[j], picked));
      }
    }
    for (size_t c : chosen) out.sentences.push_back(sentences[c]);
  }
  if (!headings.empty() && k_headings > 0) {
    std::vector<std::string> texts;
    for (const RankedSentence& h : headings) texts.push_back(h.text);
    auto scored = Score(embedder, forms, query, texts);
    if (!scored.ok()) return scored.status();
    for (size_t i = 0; i < headings.size(); ++i) headings[i].score = scored->relevance[i];
    std::stable_sort(headings.begin(), headings.end(),
                     [](const RankedSentence& a, const RankedSentence& b) { return a.score > b.score; });
    std::vector<TermSet> kept_terms;
    for (const RankedSentence& h : headings) {
      if (static_cast<int>(out.headings.size()) >= k_headings) break;
      TermSet own = TermsOf(h.text);
      bool restated = false;
      for (const TermSet& c : kept_terms) restated = restated || Overlap(own, c, 1.0) > kRestated;
      if (restated) continue;
      out.headings.push_back(h);
      kept_terms.push_back(std::move(own));
    }
  }
  if (options.k_rows > 0) {
    std::vector<RankedRow> rows;
    for (size_t p = 0; p < passages.size(); ++p) {
      for (const PassageTable& table : FindTables(texts_read[p])) {
        // A header is a line of labels: one of kilobytes (a hostile page's) copied into each of
        // thousands of rows would be gigabytes.
        constexpr size_t kMaxHeaderBytes = 2048;
        size_t header_bytes = 0;
        for (const std::string& cell : table.header) header_bytes += cell.size() + 1;
        if (header_bytes > kMaxHeaderBytes) continue;
        // (Once per table: a header naming one of the two compared names them for every row.)
        bool header_names = false;
        if (contrast.asked()) {
          std::string header;
          for (const std::string& cell : table.header) header += cell + "\n";
          header_names = internal::HowItTells(contrast, header) != internal::Telling::kNeither;
        }
        for (const TableRow& row : table.rows) {
          if (contrast.asked() && !header_names) {
            std::string text;
            for (const std::string& cell : row.cells) text += cell + "\n";
            if (internal::HowItTells(contrast, text) == internal::Telling::kNeither) continue;
          }
          rows.push_back({table.header, row.cells, static_cast<int>(p), row.start, row.end, 0, 0});
        }
      }
    }
    if (!rows.empty()) {
      auto joined = [](const RankedRow& r) {
        std::string text;
        for (const std::string& cell : r.header) text += cell + " ";
        for (const std::string& cell : r.cells) text += cell + " ";
        return text;
      };
      std::vector<std::string> texts;
      for (const RankedRow& r : rows) texts.push_back(joined(r));
      auto scored = Score(nullptr, forms, query, texts);
      if (!scored.ok()) return scored.status();
      std::vector<std::string> query_terms = LexicalTerms(query);  // in order, for the Latin ones
      std::vector<std::string> latin;
      for (const std::string& t : query_terms) {
        if (static_cast<unsigned char>(t[0]) < 0x80) latin.push_back(t);
      }
      if (latin.size() >= 3) query_terms = latin;
      const std::unordered_set<std::string> wanted(query_terms.begin(), query_terms.end());
      for (size_t i = 0; i < rows.size(); ++i) {
        rows[i].score = scored->relevance[i];
        std::vector<std::string> terms = LexicalTerms(texts[i]);
        const std::unordered_set<std::string> have(terms.begin(), terms.end());
        // A Latin term counts where a cell's word holds it: "DeepSeek-V3" asks for "deepseek" and
        // "v3", which a header's "DeepSeekV3" holds as one word (the training costs' row covered half
        // of "DeepSeek-V3和GPT-4的训练成本相比如何？" and was not quoted).
        size_t found = 0;
        for (const std::string& t : wanted) {
          bool held = have.count(t) > 0;
          const bool latin = t.size() >= 2 && static_cast<unsigned char>(t[0]) < 0x80 && std::isalpha(static_cast<unsigned char>(t[0]));
          for (auto it = have.begin(); !held && latin && it != have.end(); ++it) held = it->find(t) != std::string::npos;
          found += held;
        }
        rows[i].coverage = wanted.empty() ? 0.0 : static_cast<double>(found) / static_cast<double>(wanted.size());
      }
      std::stable_sort(rows.begin(), rows.end(), [](const RankedRow& a, const RankedRow& b) {
        return a.coverage > b.coverage || (a.coverage == b.coverage && a.score > b.score);
      });
      for (RankedRow& r : rows) {
        if (static_cast<int>(out.rows.size()) >= std::min(options.k_rows, 32) || r.coverage < 0.5) break;
        out.rows.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace memory
