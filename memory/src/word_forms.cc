#include "word_forms.h"

#include <string_view>
#include <unordered_set>

#include "memory/lexical.h"

namespace memory::internal {
namespace {

struct Forms {
  std::string_view base;
  std::string_view past[2];  // past tense, past participle (empty when regular or the same)
};

// The verbs reports use for what figures and companies did. Left out where a form is also a
// common word of another meaning in such text: "found" (the stem of "founded"), "left", "won"
// (the currency), "fed" (the Fed), "lead" the metal is rare enough to keep "led".
constexpr Forms kIrregular[] = {
    {"fall", {"fell", "fallen"}},     {"rise", {"rose", "risen"}},        {"grow", {"grew", "grown"}},
    {"sell", {"sold", ""}},           {"buy", {"bought", ""}},            {"spend", {"spent", ""}},
    {"pay", {"paid", ""}},            {"build", {"built", ""}},           {"lose", {"lost", ""}},
    {"begin", {"began", "begun"}},    {"take", {"took", "taken"}},        {"give", {"gave", "given"}},
    {"go", {"went", "gone"}},         {"bring", {"brought", ""}},         {"hold", {"held", ""}},
    {"keep", {"kept", ""}},           {"run", {"ran", ""}},               {"shrink", {"shrank", "shrunk"}},
    {"drive", {"drove", "driven"}},   {"choose", {"chose", "chosen"}},    {"write", {"wrote", "written"}},
    {"lead", {"led", ""}},            {"make", {"made", ""}},             {"tell", {"told", ""}},
    {"say", {"said", ""}},            {"become", {"became", ""}},         {"come", {"came", ""}},
    {"think", {"thought", ""}},       {"teach", {"taught", ""}},          {"seek", {"sought", ""}},
    {"send", {"sent", ""}},           {"lend", {"lent", ""}},             {"strike", {"struck", ""}},
    {"sink", {"sank", "sunk"}},       {"draw", {"drew", "drawn"}},        {"know", {"knew", "known"}},
    {"throw", {"threw", "thrown"}},   {"get", {"got", "gotten"}},         {"see", {"saw", "seen"}},
    {"meet", {"met", ""}},            {"stand", {"stood", ""}},           {"understand", {"understood", ""}},
    {"overtake", {"overtook", "overtaken"}}, {"undergo", {"underwent", "undergone"}},
    {"withdraw", {"withdrew", "withdrawn"}}, {"oversee", {"oversaw", "overseen"}},
    {"outsell", {"outsold", ""}},     {"swing", {"swung", ""}},           {"speak", {"spoke", "spoken"}},
    {"fly", {"flew", "flown"}},       {"break", {"broke", "broken"}},     {"freeze", {"froze", "frozen"}},
};

// Spelled-out numbers, to the digits they stand for ("one" is left out: "one of the largest"
// names no count more often than "1" would).
constexpr std::string_view kSpelledNumbers[][2] = {
    {"two", "2"}, {"three", "3"}, {"four", "4"}, {"five", "5"}, {"six", "6"}, {"seven", "7"}, {"eight", "8"},
    {"nine", "9"}, {"ten", "10"}, {"eleven", "11"}, {"twelve", "12"}};

// Plurals the stemmer leaves apart from their singular ("buses" → "buse", "bus" → "bus"):
// "What share of commuters take the bus…?" shared no word for the bus with "Buses carry 23% of
// commuters…".
// (Not "bases": the stemmer makes "base" of it, as of "based" and "basing".)
constexpr std::string_view kPlurals[][2] = {{"bus", "buses"}, {"gas", "gases"}, {"crisis", "crises"},
                                            {"analysis", "analyses"}, {"axis", "axes"}};

// A place's adjective and its name, which the stemmer leaves apart: "Which European countries
// added battery storage capacity in 2024?" shared no word for Europe with "Europe lagged:
// Germany, Italy and the United Kingdom added capacity…", ranked third behind the world's total.
// (Not "Polish", a verb too, nor "Turkish".)
constexpr std::string_view kDemonyms[][2] = {
    {"europe", "european"},   {"asia", "asian"},         {"africa", "african"},     {"america", "american"},
    {"china", "chinese"},     {"japan", "japanese"},     {"korea", "korean"},       {"india", "indian"},
    {"vietnam", "vietnamese"}, {"indonesia", "indonesian"}, {"brazil", "brazilian"}, {"colombia", "colombian"},
    {"mexico", "mexican"},    {"canada", "canadian"},    {"australia", "australian"}, {"germany", "german"},
    {"france", "french"},     {"italy", "italian"},      {"spain", "spanish"},      {"britain", "british"},
    {"sweden", "swedish"},    {"norway", "norwegian"},   {"russia", "russian"},     {"ethiopia", "ethiopian"},
    {"netherlands", "dutch"}};

// Chinese words of one meaning that share too few of their bigrams to meet, folded bigram by
// bigram: 资本开支 and 资本支出 (capital expenditure; "美国四大互联网厂商的资本开支增速…" is answered
// by "这四家公司资本支出同比增速…", which shared only 资本 with it).
constexpr std::string_view kChineseBigrams[][2] = {{"本开", "本支"}, {"开支", "支出"}};

// The one term LexicalTerms makes of a word, or "" (a stop word: "made" may be one).
std::string TermOf(std::string_view word) {
  std::vector<std::string> terms = LexicalTerms(word);
  return terms.size() == 1 ? std::move(terms[0]) : std::string();
}

}  // namespace

WordForms::WordForms() {
  for (const Forms& verb : kIrregular) {
    const std::string base = TermOf(verb.base);
    if (base.empty()) continue;
    for (std::string_view form : verb.past) {
      if (form.empty()) continue;
      std::string term = TermOf(form);
      if (!term.empty() && term != base) base_of_.emplace(std::move(term), base);
    }
  }
  for (const auto& [word, digits] : kSpelledNumbers) {
    std::string term = TermOf(word);
    if (!term.empty()) base_of_.emplace(std::move(term), std::string(digits));
  }
  for (const auto& [singular, plural] : kPlurals) {
    const std::string base = TermOf(singular), term = TermOf(plural);
    if (!base.empty() && !term.empty() && term != base) base_of_.emplace(term, base);
  }
  for (const auto& [place, adjective] : kDemonyms) {
    const std::string base = TermOf(place), term = TermOf(adjective);
    if (!base.empty() && !term.empty() && term != base) base_of_.emplace(term, base);
  }
  for (const auto& [bigram, base] : kChineseBigrams) base_of_.emplace(std::string(bigram), std::string(base));
  for (const auto& [form, base] : base_of_) forms_of_[base].push_back(form);
}

std::vector<std::string> WordForms::WithForms(const std::vector<std::string>& terms) const {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  auto add = [&](const std::string& term) {
    if (seen.insert(term).second) out.push_back(term);
  };
  for (const std::string& term : terms) {
    add(term);
    const auto base = base_of_.find(term);
    const std::string& base_term = base != base_of_.end() ? base->second : term;
    add(base_term);
    if (auto forms = forms_of_.find(base_term); forms != forms_of_.end()) {
      for (const std::string& form : forms->second) add(form);
    }
  }
  return out;
}

void WordForms::Fold(std::vector<std::string>& terms) const {
  for (std::string& term : terms) {
    if (auto it = base_of_.find(term); it != base_of_.end()) term = it->second;
  }
}

}  // namespace memory::internal
