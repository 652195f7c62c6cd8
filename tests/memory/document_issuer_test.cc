// Who issued a document: the research institute the seed reports' source lines credit, none for
// a newspaper page or the English documents, and the name a question calls it by.
#include "memory/document_issuer.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace memory {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(std::string(AGENTD_TEST_DATA_DIR) + "/" + path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_FALSE(buffer.str().empty()) << path;
  return buffer.str();
}

TEST(DocumentIssuerTest, TheSeedReportsAreIssuedByTheInstituteTheirSourceLinesCredit) {
  // "数据来源：iFind，华龙证券研究所；注：…": the note after the list is not a credit.
  EXPECT_EQ(GuessDocumentIssuer(Read("corpus/seeds/001_8105c39df311472b.txt")), "华龙证券研究所");
  EXPECT_EQ(GuessDocumentIssuer(Read("corpus/seeds/002_43b260d425d982aa.txt")), "中国银河证券研究院");
  EXPECT_EQ(GuessDocumentIssuer(Read("corpus/seeds/003_0abbb2d7a034f7b6.txt")), "山西证券研究所");
  // "资料来源：大公报、公开信息整理、浦银国际": the last credit of a list in "、".
  EXPECT_EQ(GuessDocumentIssuer(Read("corpus/seeds/004_c2b6eb545692ecdc.txt")), "浦银国际");
  // A newspaper page credits no one so; nor do the English documents.
  EXPECT_EQ(GuessDocumentIssuer(Read("corpus/seeds/000_37400ed1cf531c96.txt")), "");
  EXPECT_EQ(GuessDocumentIssuer(Read("corpus_en/seeds/coffee_market_update.md")), "");
}

TEST(DocumentIssuerTest, OnlyACreditOnMostSourceLinesIsTheIssuers) {
  // Three lines at least, and at least half of them.
  EXPECT_EQ(GuessDocumentIssuer("资料来源：Wind，甲证券研究所\n资料来源：Wind，甲证券研究所\n"), "");
  EXPECT_EQ(GuessDocumentIssuer("资料来源：Wind，甲证券研究所\n资料来源：Wind，甲证券研究所\n资料来源：Wind，甲证券研究所\n"),
            "甲证券研究所");
  EXPECT_EQ(GuessDocumentIssuer("资料来源：甲研究所\n资料来源：甲研究所\n资料来源：甲研究所\n资料来源：乙\n资料来源：丙\n"
                                "资料来源：丁\n资料来源：戊\n"),
            "");
  // The last of several lists on a line; English source lines.
  EXPECT_EQ(GuessDocumentIssuer("资料来源：气泡大小代表成本；资料来源：研究院、浦银国际\n资料来源：浦银国际\n资料来源：浦银国际\n"), "浦银国际");
  EXPECT_EQ(GuessDocumentIssuer("Source: IEA, Acme Research\nSource: Acme Research\nSources: BNEF, Acme Research\n"),
            "Acme Research");
  // A credit with a digit (a year, a page) or of prose's length is no institute's name.
  EXPECT_EQ(GuessDocumentIssuer("来源：Wind 2024\n来源：Wind 2024\n来源：Wind 2024\n"), "");
  const std::string long_credit = "来源：" + std::string(80, 'x') + "\n";
  EXPECT_EQ(GuessDocumentIssuer(long_credit + long_credit + long_credit), "");
  EXPECT_EQ(GuessDocumentIssuer(""), "");
  EXPECT_EQ(GuessDocumentIssuer("来源："), "");
  // A data vendor credited on every line wrote none of them.
  EXPECT_EQ(GuessDocumentIssuer("资料来源：Wind\n资料来源：Wind\n资料来源：Wind\n"), "");
}

TEST(DocumentIssuerTest, AQuestionNamesAnIssuerByItsName) {
  EXPECT_EQ(IssuerName("华龙证券研究所"), "华龙证券");
  EXPECT_EQ(IssuerName("中国银河证券研究院"), "银河证券");
  EXPECT_EQ(IssuerName("浦银国际"), "浦银国际");
  EXPECT_EQ(IssuerName("研究所"), "");  // nothing left but the part that issued it
  EXPECT_EQ(IssuerName("中国研究院"), "");
  EXPECT_EQ(IssuerName(""), "");
  EXPECT_TRUE(NamesIssuer("华龙证券的报告列出了哪些风险提示？", "华龙证券研究所"));
  EXPECT_TRUE(NamesIssuer("银河证券认为…", "中国银河证券研究院"));
  // "中国" alone names no issuer: it is in every question on China.
  EXPECT_FALSE(NamesIssuer("中国AI Agent市场规模与增长", "中国银河证券研究院"));
  EXPECT_FALSE(NamesIssuer("华龙证券的报告", ""));
  // A Latin name: three letters at least, as a word of its own.
  EXPECT_EQ(IssuerName("at"), "");
  EXPECT_FALSE(NamesIssuer("What is the price?", "at"));
  EXPECT_TRUE(NamesIssuer("What did Acme Research forecast?", "Acme Research"));
  EXPECT_FALSE(NamesIssuer("What did Acme Researchers forecast?", "Acme Research"));
  // Nothing longer than a question is searched.
  EXPECT_FALSE(NamesIssuer(std::string(600, 'x') + "华龙证券", "华龙证券研究所"));
}

}  // namespace
}  // namespace memory
