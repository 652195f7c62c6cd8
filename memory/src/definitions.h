// Questions that ask what a term is ("什么是特效厅？", "What is speculative decoding?") and the
// sentences that define it. Such a question is answered by the sentence whose subject is the
// term, followed by a defining verb ("特效厅又称特殊厅，是…的统称", "speculative decoding, in which
// a small draft proposes…"), or that names the term ("…被称为特效厅"); one that only mentions it
// ("正是特效厅在市场份额上的贡献，让我们看到了…", a cinema chain's words) does not, however often it
// says the term.
//
//   const std::string term = DefinedTerm("什么是特效厅？");  // "特效厅"
//   if (!term.empty() && !Defines(term, sentence)) score *= kUndefined;
#ifndef AGENTD_MEMORY_DEFINITIONS_H_
#define AGENTD_MEMORY_DEFINITIONS_H_

#include <string>
#include <string_view>

namespace memory::internal {

// The term a question asks to define: "什么是X", "何为X", "X是什么", "X是指什么", "X指的是什么",
// "X的含义是什么", "What is X?", "What are X?", "What does X mean?", "Define X". Empty when it asks
// no definition: a term of more than four English words or 30 bytes, one with "的" or a digit-led
// measure ("DeepSeek的核心优势是什么？" asks a property), or one that opens on an article ("What is
// the price of…?").
std::string DefinedTerm(std::string_view question);

// Whether `sentence` defines `term` (as DefinedTerm gives it): the term, then (past closing
// quotes and an aside in brackets) a defining verb — "是" (not "是否"), "又称", "也称", "即",
// "指", "是指", "也叫", "：" ; "is a", "is an", "is the", "are", "refers to", "means", ", in which",
// ", which", ", where", and an appositive ("，一个", "，一种", ", a", ", an") — or a naming verb before it ("称为", "叫做", "简称", "called", "known as").
// English is compared in lower case. Or it says what the term is through "其" after the sentence
// that names it (`predecessor`, empty when unknown): "其核心观点为：技术进步提高了资源使用效率…" after
// "微软首席执行官引用了“杰文斯悖论”来解释这一现象：…" ("其" then 观点, 含义, 定义, 核心, 本质, 内涵 or
// 原理 within its first four characters).
bool Defines(std::string_view term, std::string_view sentence, std::string_view predecessor = {});

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_DEFINITIONS_H_
