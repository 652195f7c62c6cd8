// The kind of answer a question asks for, and whether a sentence can give it. "How many
// employees does Harbor Robotics have?" asks for a count: "Harbor Robotics ended the year with a
// staff of 1,240" gives one without sharing a word with the question, while "Staff turnover fell
// to 6% … a share plan for all employees" shares its words and gives only percentages. Classic
// question answering types the answer first for this; the sentence ranker scales down the
// sentences that cannot hold an answer of the asked kind.
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
  kQuantity,  // "how much", "what share", "by how much", "多少": a number other than a year
  kTime,      // "when", "what year", "何时", "哪一年": a year or a month
};

AnswerType AnswerTypeOf(std::string_view question);

// Whether `sentence` holds something of that kind (kAny: always).
bool Offers(AnswerType type, std::string_view sentence);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_ANSWER_TYPE_H_
