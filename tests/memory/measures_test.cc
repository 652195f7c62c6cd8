#include "measures.h"

#include <unordered_set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace memory::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(MeasuresTest, ASentenceNamesTheMeasureAskedByAnyOfItsNames) {
  EXPECT_TRUE(NamesTheMeasureAsked("2024年游戏市场收入是多少？", "游戏公司营收增长"));
  EXPECT_FALSE(NamesTheMeasureAsked("2024年游戏市场收入是多少？", "游戏用户达6.7亿"));
  EXPECT_TRUE(NamesTheMeasureAsked("DeepSeek 日活用户数达到多少？", "日活超过2000万"));  // no measure asked
  EXPECT_TRUE(NamesTheMeasureAsked("2023年中国AI Agent市场规模是多少？", "AI Agent 市场空间达554亿元"));
  EXPECT_TRUE(NamesTheMeasureAsked("公司2023年利润是多少？", "公司实现归母净利 3.2 亿元"));
  // A market's size told as the money it reaches; a market's count of users is no size.
  EXPECT_TRUE(NamesTheMeasureAsked("2029年400G+光模块市场规模将达到多少？", "到 2029 年，400G+市场预计将扩张，达 125 亿美元。"));
  EXPECT_FALSE(NamesTheMeasureAsked("2029年400G+光模块市场规模将达到多少？", "到 2029 年，400G+市场的用户达 3 亿。"));
}

TEST(MeasuresTest, TheHolderIsWhatPrecedesTheMeasureLessTimesAndQualifiers) {
  EXPECT_THAT(MeasureHolderTerms("2024年一季度影视院线板块归母净利润同比增长多少？"), ElementsAre("影视", "视院", "院线"));
  EXPECT_THAT(MeasureHolderTerms("寒武纪2024年的营业收入是多少？"), ElementsAre("寒武", "武纪"));
  EXPECT_THAT(MeasureHolderTerms("2023年中国AI Agent市场规模是多少？"), ElementsAre("ai", "agent"));
  // A model's parameters, "激活" qualifying them: Skywork-MoE's "激活参数量为 22B" is no DeepSeek-V3's.
  EXPECT_THAT(MeasureHolderTerms("DeepSeek-V3的激活参数量是多少？"), ElementsAre("deepseek", "v3"));
  EXPECT_THAT(MeasureHolderTerms("DeepSeek-V3 的估值是多少？"), ElementsAre("deepseek", "v3"));
  EXPECT_THAT(MeasureHolderTerms("2024 年 3 月全国电影总票房是多少？"), ElementsAre("电影"));
  // A scope or the asking is no holder: "2024年全国电影总票房425亿元" answers the first.
  EXPECT_THAT(MeasureHolderTerms("2024年国内票房是多少？"), IsEmpty());
  EXPECT_THAT(MeasureHolderTerms("请问2024年全国票房是多少？"), IsEmpty());
  // Of a bounded stretch before the measure.
  std::string long_name(3000, 'x');
  EXPECT_LE(MeasureHolderTerms(long_name + "的收入是多少？").front().size(), kMaxHolderBytes);
  // Nothing but a time before the measure, or no measure at all.
  EXPECT_THAT(MeasureHolderTerms("2024年上半年的收入是多少？"), IsEmpty());
  EXPECT_THAT(MeasureHolderTerms("DeepSeek 日活用户数达到多少？"), IsEmpty());
}

TEST(MeasuresTest, AHostileQueryIsReadInOnePass) {
  // Megabytes of qualifiers before the measure (each a replace that moved the rest of the text
  // took minutes): nothing of a holder, read at once.
  std::string query;
  for (int i = 0; i < 300000; ++i) query += "归母";
  query += "收入是多少？";
  EXPECT_THAT(MeasureHolderTerms(query), IsEmpty());
}

TEST(MeasuresTest, AHolderIsNamedByAnyOfItsTerms) {
  const std::vector<std::string> terms = MeasureHolderTerms("2024年一季度影视院线板块归母净利润同比增长多少？");
  const std::unordered_set<std::string> holder(terms.begin(), terms.end());
  EXPECT_TRUE(NamesAnyOf(holder, "净利润增速分别为：游戏-35.8%、影视院线+32.2%。"));
  EXPECT_FALSE(NamesAnyOf(holder, "2024 年一季度，传媒行业实现归母净利润 79.21 亿元、同比-30.5%。"));
  EXPECT_TRUE(NamesAnyOf({}, "任何句子"));
}

TEST(MeasuresTest, ASiblingsMeasureIsNotTheHoldersAsked) {
  auto of_another = [](const std::string& question, const std::string& sentence, const std::string& context = "") {
    const std::vector<std::string> terms = MeasureHolderTerms(question);
    const std::unordered_set<std::string> holder(terms.begin(), terms.end());
    return GivesTheMeasureOfAnother(holder, MeasureWordsAsked(question), question, sentence, context);
  };
  // 2.5G's rate for 10G's: a numbered term of the holder missing.
  const std::string chips = "10G光芯片的国产化率是多少？";
  EXPECT_THAT(MeasureHolderTerms(chips), ::testing::Contains("10g"));
  EXPECT_THAT(MeasureHolderTerms("2027E中国AI Agent市场规模是多少？"), ::testing::Not(::testing::Contains("2027e")));
  EXPECT_TRUE(of_another(chips, "从国产化率来看，国内相关企业仅在2.5G和10G光芯片领域实现核心技术的掌握，2.5G及以下速率光芯片国产化率超过90%；"));
  EXPECT_FALSE(of_another(chips, "10G光芯片国产化率约60%；"));
  // The mobile market's revenue for the overseas market's; the overseas line reads after the
  // sentence naming the games.
  const std::string overseas = "2024年4月中国游戏海外市场实际销售收入是多少？";
  EXPECT_TRUE(of_another(overseas, "2024年4月，我国移动游戏市场实际销售收入159.05亿元、同比-6.2%。"));
  EXPECT_FALSE(of_another(overseas, "海外市场实际销售收入14.18亿美元、同比-0.7%。", "2024年4月，我国移动游戏市场实际销售收入159.05亿元。"));
  // A qualifier the question lacks before the holder: the mobile and client markets are not the
  // whole game market; a scope before it ("国内", "我国") is no qualifier.
  const std::string market = "2024年4月我国游戏市场实际销售收入是多少？";
  EXPECT_TRUE(of_another(market, "2024年4月，我国移动游戏市场实际销售收入159.05亿元、同比-6.2%，客户端游戏市场实际销售收入56.42亿元。"));
  EXPECT_FALSE(of_another(market, "2024年4月，我国游戏市场实际销售收入224.32亿元、同比-4.2%。"));
  EXPECT_FALSE(of_another("2024年全国电影总票房是多少？", "2024年国内电影票房约425亿元。"));
  // A name in capitals is the holder's first term ("品牌" after it qualifies nothing asked).
  EXPECT_FALSE(of_another("2024年CINITY特效厅票房比2019年增长了多少？", "2024年，中影CINITY品牌特效厅的票房达到 2.49亿元。"));
  EXPECT_TRUE(of_another("2024年全国电影总票房是多少？", "特效电影票房为 85.3亿元。"));
  // A clause naming no term of the holder says nothing of whose measure it is.
  EXPECT_FALSE(of_another("2023年上海电影的票房收入是多少？", "公司电影主业复苏态势明显，2023 年实现票房收入 6.32 亿元。"));
  // No holder or no measure asked: nothing to tell.
  EXPECT_FALSE(of_another("2024年的收入是多少？", "移动游戏市场实际销售收入159.05亿元。"));
  EXPECT_FALSE(of_another("DeepSeek 日活用户数达到多少？", "移动游戏市场实际销售收入159.05亿元。"));
}

}  // namespace
}  // namespace memory::internal
