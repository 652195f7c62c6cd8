// The kind of answer a question asks for, and whether a sentence can give it. "How many
// employees does Harbor Robotics have?" asks for a count: "Harbor Robotics ended the year with a
// staff of 1,240" gives one without sharing a word with the question, while "Staff turnover fell
// to 6% … a share plan for all employees" shares its words and gives only percentages. Classic
// question answering types the answer first for this; the sentence ranker scales down the
// sentences that cannot hold an answer of the asked kind. "Why did arabica prices rise?" asks
// for a cause: a sentence that names one ("because", "due to", "由于") or that its document puts
// under a heading asking or naming why ("Why prices rose", "原因") gives one — "A severe drought
// in Brazil damaged flowering" has no causal word of its own. "Where is Harbor Robotics based?"
// asks for a place: "…is headquartered in Rotterdam" names one, "Before joining Harbor Robotics
// she ran…" (the company's name, the question's only word it has) does not. "Which country
// installed the most grid batteries?" asks for an extreme: "China installed the most…" names it,
// "In the United States, California and Texas together made up more than 70%…" does not. A
// company's "business performance in 2024" is told in its results: "Revenue for the year reached
// $312 million" gives them, "…ended the year with a staff of 1,240" (a figure, and the company's
// name said out) does not. A topic on growth ("Grid battery storage growth") is told in changes:
// "…installed 169 GWh…, almost double the 88 GWh added in 2023" states one, "Several fires at
// storage sites in 2023 led regulators…" (the topic's "storage" and a year) does not.
//
//   const AnswerType type = AnswerTypeOf("How many employees …?");   // kCount
//   if (!Offers(type, sentence)) score *= kOffTypeFactor;
#ifndef AGENTD_MEMORY_ANSWER_TYPE_H_
#define AGENTD_MEMORY_ANSWER_TYPE_H_

#include <string_view>

namespace memory::internal {

enum class AnswerType {
  kAny,       // not a question of a kind below (or not a question)
  kCount,     // "how many": a number that is not a percentage, an amount of money or a year
  kQuantity,  // "how much", "by how much", "多少": a number other than a year
  kShare,     // "what share", "what percentage", "what proportion": a percentage or a fraction ("a third")
  kTime,      // "when", "what year", "何时", "哪一年": a year or a month
  kReason,    // "why", "what caused", "为什么", "原因": a cause, in the sentence or its section's heading
  kPlace,     // "where", "哪里", "在哪": a place — "headquartered in Rotterdam", "in Brazil", "位于"
  kCareer,    // "where did … work/study": a place, or where someone came from ("joined … from a fund")
  kExtreme,   // "which … the most", "scored lowest", "最": a sentence that names an extreme
  kResults,   // "business performance", "业绩": a financial measure (revenue, margin, 利润) with a figure
  kGrowth,    // "growth" (asked by no other word; English only): a change ("almost double", "同比") with a figure
  kObstacle,  // "challenges", "risks", "挑战", "难点": a sentence naming a difficulty ("困难重重", "受限", "risk")
  kOutlook,   // "outlook", "prospects", "forecast" (English): a sentence on what is expected ("expects", "will")
  kList,      // "哪些" (Chinese): a sentence that lists ("、", "1)", "①", "包括", "分别", "主要有", a list's announcement)
};

AnswerType AnswerTypeOf(std::string_view question);

// Whether `sentence` names a cause: a causal word ("because", "由于", "受制于") or a means and what
// it brought about ("通过…降低").
bool NamesACause(std::string_view sentence);

// For a question asking where someone worked or studied (AnswerType::kCareer), the lower-case
// last word of the name it asks it of ("Where did Tomas Berg work before joining…?": "berg");
// empty when no capitalised name stands before "work" or "study" ("Where did she work?"). The
// answer names that one: "…Tomas Berg, joined in 2021 from a logistics private-equity fund." is
// no answer for Maria Lindqvist.
std::string CareerAskedOf(std::string_view question);

// Whether `text` names `career_of` (as CareerAskedOf gives it) as a word of its own.
bool NamesWhoseCareer(std::string_view career_of, std::string_view text);

// Whether `sentence` holds something of that kind (kAny: always). `section`: the heading the
// sentence's document puts it under, empty when unknown (only kReason reads it).
bool Offers(AnswerType type, std::string_view sentence, std::string_view section = {});

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_ANSWER_TYPE_H_
