// Who issued a document, read from its text: a brokerage's research report credits its own
// research institute last on most of its source lines ("数据来源：DeepSeek 官网，华龙证券研究所",
// "资料来源：大公报、公开信息整理、浦银国际"), and names it nowhere else but its masthead and its
// legal notices. A question naming the issuer ("华龙证券的报告列出了哪些风险提示？") is on that
// document; without the issuer its passages shared no word with the question, and another
// brokerage's risks opened the report. The store keeps the issuer with the document's title; the
// sentence ranker reads it as it reads the title, and reports name it in their references.
//
//   std::string issuer = GuessDocumentIssuer(text);  // "华龙证券研究所", or ""
#ifndef AGENTD_MEMORY_DOCUMENT_ISSUER_H_
#define AGENTD_MEMORY_DOCUMENT_ISSUER_H_

#include <string>
#include <string_view>

namespace memory {

// The longest issuer GuessDocumentIssuer gives, in bytes; a plan's passage issuer is cut to it.
inline constexpr size_t kMaxIssuerBytes = 60;

// The source credited last on at least three of the document's source lines ("资料来源", "数据来源",
// "来源", "Source", "Sources", followed by a colon) and on at least half of them; "" when no
// source is credited so, or the one that is holds a digit or is longer than kMaxIssuerBytes (a
// source line the PDF ran on into prose), or is a data vendor or a kind of source rather than
// who wrote the document ("Wind", "iFind", "Bloomberg", "公司公告", "公开资料"). Invalid UTF-8 passes
// through byte for byte.
std::string GuessDocumentIssuer(std::string_view text);

// The name `issuer` (as GuessDocumentIssuer gives it) goes by: without what says which part of
// it issued ("研究所", "研究院", "研究中心", "研究部") and a leading "中国" ("华龙证券研究所" → "华龙证券",
// "中国银河证券研究院" → "银河证券"; its "中国" would meet every question on China). Empty when
// that is shorter than two characters.
std::string_view IssuerName(std::string_view issuer);

// Whether `text` names `issuer` by its IssuerName: "华龙证券的报告…" names 华龙证券研究所, "银河证券…"
// 中国银河证券研究院; a Latin name of three letters at least, as a word of its own ("Acme" is not in
// "Acmes"). False for an issuer without a name, and for a text over 480 bytes (no question is that
// long; the search would cost its length times the name's).
bool NamesIssuer(std::string_view text, std::string_view issuer);

}  // namespace memory

#endif  // AGENTD_MEMORY_DOCUMENT_ISSUER_H_
