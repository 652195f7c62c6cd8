// The kind of answer a question asks for, and which sentences can give it (memory/src/answer_type.h).
#include "answer_type.h"

#include <gtest/gtest.h>

namespace memory::internal {
namespace {

TEST(AnswerTypeTest, QuestionsAreTypedByTheirAskingWords) {
  EXPECT_EQ(AnswerTypeOf("How many employees does Harbor Robotics have?"), AnswerType::kCount);
  EXPECT_EQ(AnswerTypeOf("How much battery storage was installed worldwide in 2024?"), AnswerType::kQuantity);
  EXPECT_EQ(AnswerTypeOf("By how much did inference prices fall?"), AnswerType::kQuantity);
  EXPECT_EQ(AnswerTypeOf("What share of commuters drive alone to work?"), AnswerType::kShare);
  EXPECT_NE(AnswerTypeOf("What share price did Nvidia close at on January 27?"), AnswerType::kShare);
  EXPECT_TRUE(Offers(AnswerType::kShare, "Buses carry 23% of commuters."));
  EXPECT_TRUE(Offers(AnswerType::kShare, "Nearly half of respondents drive alone."));
  EXPECT_FALSE(Offers(AnswerType::kShare, "Prices rose in the second half of 2024."));
  EXPECT_EQ(AnswerTypeOf("When was the company founded?"), AnswerType::kTime);
  EXPECT_EQ(AnswerTypeOf("DeepSeek 在多少块 H800 GPU 上训练？"), AnswerType::kQuantity);
  EXPECT_EQ(AnswerTypeOf("DeepSeek 应用何时上线？"), AnswerType::kTime);
  EXPECT_EQ(AnswerTypeOf("DeepSeek 官方APP是哪天正式发布的？"), AnswerType::kTime);
  EXPECT_EQ(AnswerTypeOf("华为小艺助手是哪一天宣布接入DeepSeek的？"), AnswerType::kTime);
  EXPECT_EQ(AnswerTypeOf("Sora 是几月发布的？"), AnswerType::kTime);
  EXPECT_EQ(AnswerTypeOf("Who is the CEO of Harbor Robotics?"), AnswerType::kAny);
  EXPECT_EQ(AnswerTypeOf("中国AI Agent市场规模与增长"), AnswerType::kAny);
  // Words that only contain the asking words do not ask.
  EXPECT_EQ(AnswerTypeOf("Whenever demand is high, what happens to prices?"), AnswerType::kAny);
  // A company's performance or results are told in its financial figures; a model's in any.
  EXPECT_EQ(AnswerTypeOf("Harbor Robotics business performance in 2024"), AnswerType::kResults);
  EXPECT_EQ(AnswerTypeOf("How did DeepSeek-R1 perform on AIME 2024?"), AnswerType::kQuantity);
  EXPECT_EQ(AnswerTypeOf("宁德时代 2024 年业绩"), AnswerType::kResults);
  // Growth, in English (a Chinese market topic joins 增长 to its size and stays untyped, above).
  EXPECT_EQ(AnswerTypeOf("Grid battery storage growth"), AnswerType::kGrowth);
}

TEST(AnswerTypeTest, AClosingAndWhyLeavesTheKindToTheQuestionBeforeIt) {
  EXPECT_EQ(AnswerTypeOf("What are most new grid batteries paired with, and why?"), AnswerType::kAny);
  EXPECT_EQ(AnswerTypeOf("Where is Harbor Robotics based and why?"), AnswerType::kPlace);
  EXPECT_EQ(AnswerTypeOf("When did prices peak, and why not earlier?"), AnswerType::kReason);  // not closing
  EXPECT_EQ(AnswerTypeOf("And why?"), AnswerType::kReason);                                  // nothing before it
  EXPECT_EQ(AnswerTypeOf("Why did arabica prices rise?"), AnswerType::kReason);
  // Repeated, hostile: linear, and the question before it decides.
  std::string repeated = "Where is the company headquartered";
  for (int i = 0; i < 100000; ++i) repeated += " and why";
  EXPECT_EQ(AnswerTypeOf(repeated + "?"), AnswerType::kPlace);
}

TEST(AnswerTypeTest, GrowthIsAChangeWithAFigure) {
  EXPECT_TRUE(Offers(AnswerType::kGrowth, "Worldwide, utilities installed 169 GWh in 2024, almost double the 88 GWh added in 2023."));
  EXPECT_TRUE(Offers(AnswerType::kGrowth, "Revenue for the year reached $312 million, up 27% from $246 million in 2023."));
  EXPECT_FALSE(Offers(AnswerType::kGrowth, "Several fires at storage sites in 2023 led regulators to tighten spacing rules."));
  EXPECT_FALSE(Offers(AnswerType::kGrowth, "Stationary batteries had their biggest year yet."));
  EXPECT_FALSE(Offers(AnswerType::kGrowth, "China accounted for roughly 60% of new capacity."));
  EXPECT_FALSE(Offers(AnswerType::kGrowth, "The company was founded in 2011 by three engineers from Delft."));
}

TEST(AnswerTypeTest, AChineseQuestionOnHowMuchSomethingChangedAsksForAChange) {
  // "下降了多少" is answered by the decline ("减少 124亿元，降幅 22.6%"), not by any figure of the box
  // office ("约占国内电影总票房的20%", which shares more of the question's words).
  EXPECT_EQ(AnswerTypeOf("2024年全国电影总票房较2023年下降了多少？"), AnswerType::kGrowth);
  EXPECT_EQ(AnswerTypeOf("1月27日台积电股价跌了多少？"), AnswerType::kGrowth);
  EXPECT_EQ(AnswerTypeOf("2023年中国AI Agent市场规模是多少？"), AnswerType::kQuantity);
  EXPECT_TRUE(Offers(AnswerType::kGrowth, "全年累计票房约425亿元（含服务费，下同），较2023年的 549亿元减少 124亿元，降幅 22.6%。"));
  EXPECT_TRUE(Offers(AnswerType::kGrowth, "台积电（TSM.US）股价大跌 13%。"));
  EXPECT_FALSE(Offers(AnswerType::kGrowth, "2024年特效厅产出的票房为 85.3亿元，约占国内电影总票房的20%。"));
}

TEST(AnswerTypeTest, AQuestionOnHowSomethingChangedAsksForAChange) {
  EXPECT_EQ(AnswerTypeOf("美国四大互联网厂商的资本开支增速在2024年怎么变化？"), AnswerType::kGrowth);
  EXPECT_EQ(AnswerTypeOf("杜比影院在国内的票房这几年有什么变化？"), AnswerType::kGrowth);
  EXPECT_EQ(AnswerTypeOf("How has the average ticket price changed since 2019?"), AnswerType::kGrowth);
  EXPECT_EQ(AnswerTypeOf("How did Nvidia's market value change?"), AnswerType::kGrowth);
  // "climate change" is a thing, not a change asked about; a change of no figure is asked in words.
  EXPECT_EQ(AnswerTypeOf("How will climate change affect coffee farming?"), AnswerType::kAny);
  EXPECT_EQ(AnswerTypeOf("How has AI changed filmmaking?"), AnswerType::kAny);
  EXPECT_EQ(AnswerTypeOf("DeepSeek-V3相比V2有什么变化？"), AnswerType::kAny);
  EXPECT_EQ(AnswerTypeOf("大模型厂商怎么变现？"), AnswerType::kAny);
  EXPECT_TRUE(Offers(AnswerType::kGrowth,
                     "根据我们的跟踪，从季度频率看，这四家公司资本支出同比增速在经历了 10个季度的下行后，在2023年二季度见底触及-9%的低点，"
                     "随后就开启上行，在 2024 年一季度实现+30%增长，并在二、三季度持续上扬至 58%、59%。"));
  EXPECT_TRUE(Offers(AnswerType::kGrowth, "杜比影院也从 1.9亿元降至1.18亿元，近几年的发展相对滞后。"));
  EXPECT_FALSE(Offers(AnswerType::kGrowth,
                      "在 DeepSeek 的刺激和推动下，中国头部互联网厂商的 AI 资本开支有望跟随美国科技企业在 ChatGPT 之后大幅增加 AI "
                      "资本开支的做法，进入投入的上行期。"));
}

TEST(AnswerTypeTest, AQuestionOnWhatStandsInTheWayAsksForADifficulty) {
  EXPECT_EQ(AnswerTypeOf("端侧大模型部署的挑战"), AnswerType::kObstacle);
  EXPECT_EQ(AnswerTypeOf("What supply risk does Harbor Robotics name?"), AnswerType::kObstacle);
  EXPECT_NE(AnswerTypeOf("哪些风险投资机构投资了月之暗面？"), AnswerType::kObstacle);  // venture capital
  EXPECT_EQ(AnswerTypeOf("风险投资之外，月之暗面面临哪些风险？"), AnswerType::kObstacle);
  EXPECT_TRUE(Offers(AnswerType::kObstacle,
                     "尽管在边缘端部署大模型有诸多优势，但考虑到端侧有限的计算能力、存储能力和能源限制等，使得直接部署基于云端的 LLM 困难重重。"));
  EXPECT_TRUE(Offers(AnswerType::kObstacle, "The main risk named in the review is the supply of lidar sensors."));
  EXPECT_FALSE(Offers(AnswerType::kObstacle,
                      "我国的代表通用大模型包括科大讯飞的星火大模型、阿里巴巴的通义千问，端侧大模型主要以蔚来的 NOMI GPT 大模型为代表。"));
}

TEST(AnswerTypeTest, AnOutlookIsWhatIsExpected) {
  EXPECT_EQ(AnswerTypeOf("Harbor Robotics outlook"), AnswerType::kOutlook);
  EXPECT_EQ(AnswerTypeOf("What is the forecast for coffee prices?"), AnswerType::kOutlook);
  EXPECT_TRUE(Offers(AnswerType::kOutlook, "Management expects revenue growth between 18% and 22% next year."));
  EXPECT_FALSE(Offers(AnswerType::kOutlook, "The operating margin improved to 9.8% as the company moved assembly to Gdansk."));
}

TEST(AnswerTypeTest, AChineseWhichOfManyAsksForAList) {
  EXPECT_EQ(AnswerTypeOf("天工SkyMusic有哪些特点？"), AnswerType::kList);
  EXPECT_EQ(AnswerTypeOf("哪些云厂商宣布支持部署DeepSeek模型？"), AnswerType::kList);
  EXPECT_EQ(AnswerTypeOf("哪些公司的市值最高？"), AnswerType::kExtreme);  // the extreme first
  EXPECT_TRUE(Offers(AnswerType::kList, "天工 SkyMusic 的特点包括：1) 支持 80 秒双声道立体声 AI 歌曲；2) 高品质人声合成。"));
  EXPECT_TRUE(Offers(AnswerType::kList, "华为云、腾讯云、阿里云宣布上线 DeepSeek 模型。"));
  EXPECT_TRUE(Offers(AnswerType::kList, "天工 AI 搜索呈现的具体特点包括："));
  EXPECT_FALSE(Offers(AnswerType::kList, "天工 Skymusic 音乐以便捷的创作流程降低了音乐创作门槛。"));
}

TEST(AnswerTypeTest, ResultsAreAFinancialMeasureWithAFigure) {
  EXPECT_TRUE(Offers(AnswerType::kResults, "Revenue for the year reached $312 million, up 27% from $246 million in 2023."));
  EXPECT_TRUE(Offers(AnswerType::kResults, "The operating margin improved to 9.8% as the company moved assembly to Gdansk."));
  EXPECT_TRUE(Offers(AnswerType::kResults, "The order backlog stood at $540 million at the end of December."));
  EXPECT_TRUE(Offers(AnswerType::kResults, "2024 年一季度，传媒行业实现营收 1196 亿元、同比+0.4%。"));
  // A figure that is no result, and a result without a figure.
  EXPECT_FALSE(Offers(AnswerType::kResults, "Harbor Robotics ended the year with a staff of 1,240, of whom about 700 work in service."));
  EXPECT_FALSE(Offers(AnswerType::kResults, "The company was founded in 2011 by three engineers from Delft."));
  EXPECT_FALSE(Offers(AnswerType::kResults, "Revenue grew strongly in the second half of 2024."));
  EXPECT_FALSE(Offers(AnswerType::kResults, "It moved assembly in order to cut costs by 12%."));
}

TEST(AnswerTypeTest, ACountIsANumberThatIsNotAPercentageMoneyOrAYear) {
  EXPECT_TRUE(Offers(AnswerType::kCount, "Harbor Robotics ended the year with a staff of 1,240, of whom about 700 work in engineering."));
  EXPECT_FALSE(Offers(AnswerType::kCount, "Staff turnover fell to 6%, compared with 11% two years earlier."));
  EXPECT_FALSE(Offers(AnswerType::kCount, "The company was founded in 2011 by three engineers."));
  EXPECT_FALSE(Offers(AnswerType::kCount, "Arabica futures ended the year at $3.44 per pound."));
  EXPECT_FALSE(Offers(AnswerType::kCount, "It ran on H800 GPUs with DeepSeek-V3."));
  EXPECT_TRUE(Offers(AnswerType::kCount, "It used 2,048 H800 GPUs."));
  EXPECT_FALSE(Offers(AnswerType::kCount, "Growth was 12 percent."));
}

TEST(AnswerTypeTest, AQuantityIsAnyNumberButAYearAndATimeIsAYearOrAMonth) {
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "Staff turnover fell to 6%."));
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "市场规模为 554 亿元"));
  EXPECT_FALSE(Offers(AnswerType::kQuantity, "In 2024 the market grew."));
  EXPECT_TRUE(Offers(AnswerType::kTime, "In 2024 the market grew."));
  EXPECT_TRUE(Offers(AnswerType::kTime, "The survey ran in October and November."));
  EXPECT_TRUE(Offers(AnswerType::kTime, "DeepSeek 应用于 1 月 11 日上线"));
  EXPECT_FALSE(Offers(AnswerType::kTime, "Revenue rose by 14% to EUR 312 million."));
  // Four digits before a measure word count things: not a year.
  EXPECT_FALSE(Offers(AnswerType::kTime, "仅用 557.6 万美元和 2048 块英伟达 H800 GPU 便完成了训练"));
  EXPECT_TRUE(Offers(AnswerType::kCount, "仅用 2048 块英伟达 H800 GPU"));
  EXPECT_TRUE(Offers(AnswerType::kTime, "2023 年 3 月，公司就推出 GPT-4"));
  EXPECT_TRUE(Offers(AnswerType::kAny, "Anything at all."));
  // Spelled out: a multiple or a share in words.
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "The price per token fell roughly tenfold between 2023 and 2024."));
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "推理成本在两年内下降了一半。"));
  EXPECT_FALSE(Offers(AnswerType::kQuantity, "Prices fell between 2023 and 2024."));
  EXPECT_FALSE(Offers(AnswerType::kQuantity, "The port hired a third-party operator in 2024."));
  // A month or a day is a time, not a quantity or a count.
  const std::string released = "2025 年 1 月 20 日，DeepSeek 发布了推理模型 DeepSeek-R1。";
  EXPECT_FALSE(Offers(AnswerType::kQuantity, released));
  EXPECT_FALSE(Offers(AnswerType::kCount, released));
  EXPECT_TRUE(Offers(AnswerType::kTime, "1 月 20 日，DeepSeek 发布了推理模型 DeepSeek-R1。"));
  EXPECT_FALSE(Offers(AnswerType::kQuantity, "The plant opened on March 3 after a long delay."));
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "The plant opened on March 3 with 40 workers."));
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "最终，以仅 266.4 万 H800 GPU 小时的经济成本完成了在 14.8 万亿标记上的预训练。"));
}

TEST(AnswerTypeTest, ACauseIsNamedByTheSentenceOrByItsSectionsHeading) {
  EXPECT_EQ(AnswerTypeOf("Why did arabica coffee prices rise?"), AnswerType::kReason);
  EXPECT_EQ(AnswerTypeOf("What caused the drop in turnover?"), AnswerType::kReason);
  EXPECT_EQ(AnswerTypeOf("DeepSeek 训练成本低的原因是什么？"), AnswerType::kReason);
  EXPECT_EQ(AnswerTypeOf("为什么英伟达股价下跌？"), AnswerType::kReason);
  EXPECT_EQ(AnswerTypeOf("Whyte Robotics revenue"), AnswerType::kAny);
  EXPECT_EQ(AnswerTypeOf("Why did prices rise when demand fell?"), AnswerType::kReason);
  EXPECT_EQ(AnswerTypeOf("该政策的生效日期为何时？"), AnswerType::kTime);
  EXPECT_TRUE(Offers(AnswerType::kReason, "Bus riders report the longest trips, largely because of waiting times."));
  EXPECT_TRUE(Offers(AnswerType::kReason, "由于需求旺盛，价格上涨。"));
  EXPECT_FALSE(Offers(AnswerType::kReason, "Arabica futures reached the highest price since 1977."));
  EXPECT_FALSE(Offers(AnswerType::kReason, "A severe drought in Brazil damaged flowering."));
  EXPECT_TRUE(Offers(AnswerType::kReason, "A severe drought in Brazil damaged flowering.", "Why prices rose"));
  EXPECT_FALSE(Offers(AnswerType::kReason, "A severe drought in Brazil damaged flowering.", "Effects on roasters"));
  EXPECT_TRUE(Offers(AnswerType::kReason, "全球算力需求持续增长。", "算力需求增长的驱动因素"));
  // A means and its effect, and where an advantage comes from.
  EXPECT_TRUE(Offers(AnswerType::kReason, "DeepSeek 通过算法优化的创新路径，进一步降低了训练成本。"));
  EXPECT_TRUE(Offers(AnswerType::kReason, "其成本优势来自高效能硬件选择、新型蒸馏技术及API开源策略。"));
  // Concerns say why something is not taken up.
  EXPECT_TRUE(Offers(AnswerType::kReason, "他们的主要担忧是：1)远程大型语言模型服务的高延迟，2)将个人数据传输到云端的风险。"));
  EXPECT_FALSE(Offers(AnswerType::kReason, "通过官网可以查看 DeepSeek 的价格。"));
  EXPECT_FALSE(Offers(AnswerType::kReason, "该法案通过后，公司提升了产能。"));  // a bill passed
  EXPECT_FALSE(Offers(AnswerType::kReason, "DeepSeek-R1 真正令人瞩目的地方并不仅仅在于其卓越的性能，而在于其极低的成本。"));
  EXPECT_FALSE(Offers(AnswerType::kReason, "DeepSeek-R1 的崛起和其所展现出的成本优势，一度让华尔街产生了怀疑。"));
}

TEST(AnswerTypeTest, ANumberWithItsUnitGluedOnIsAnAmountButANameIsNot) {
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "2022 年，全球数据规模已达到 103ZB，中国数据规模达到 23.9ZB；"));
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "Utilities installed 169GWh in 2024."));
  EXPECT_TRUE(Offers(AnswerType::kCount, "The model has 671B parameters."));
  EXPECT_FALSE(Offers(AnswerType::kQuantity, "It was trained on H800 GPUs in 2024."));
  EXPECT_FALSE(Offers(AnswerType::kQuantity, "DeepSeek released R1 and V3 in 2024."));
  EXPECT_FALSE(Offers(AnswerType::kCount, "The RTX4090 and 5090s arrived in 2025."));
}

TEST(AnswerTypeTest, ANumberInWordsIsAnAmount) {
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "Four-bit weights can make decoding up to three times faster."));
  EXPECT_TRUE(Offers(AnswerType::kQuantity,
                     "Moving the same model from an older accelerator to a current one roughly halves the cost per token."));
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "Batching serves twice the requests on the same hardware."));
  EXPECT_FALSE(Offers(AnswerType::kCount, "Staff turnover fell to 6%, compared with 11% two years earlier."));
  EXPECT_FALSE(Offers(AnswerType::kQuantity, "It is one of the largest ports."));
  EXPECT_FALSE(Offers(AnswerType::kCount, "Someone often threw a tent up."));
}

TEST(AnswerTypeTest, AnExtremeIsNamedByASuperlative) {
  EXPECT_EQ(AnswerTypeOf("Which country installed the most grid batteries?"), AnswerType::kExtreme);
  EXPECT_EQ(AnswerTypeOf("Which aspect of public transport scored lowest?"), AnswerType::kExtreme);
  EXPECT_EQ(AnswerTypeOf("哪家公司的市场份额最大？"), AnswerType::kExtreme);
  EXPECT_EQ(AnswerTypeOf("What do most commuters use?"), AnswerType::kAny);
  EXPECT_EQ(AnswerTypeOf("DeepSeek 最新发布的模型叫什么？"), AnswerType::kAny);
  EXPECT_EQ(AnswerTypeOf("How many batteries did the largest buyer install?"), AnswerType::kCount);
  EXPECT_TRUE(Offers(AnswerType::kExtreme, "China installed the most grid batteries by a wide margin."));
  EXPECT_TRUE(Offers(AnswerType::kExtreme, "Punctuality received the lowest score of any aspect, 5.8."));
  EXPECT_TRUE(Offers(AnswerType::kExtreme, "宁德时代的市场份额最大。"));
  EXPECT_FALSE(Offers(AnswerType::kExtreme, "In the United States, California and Texas together made up more than 70%."));
  EXPECT_FALSE(Offers(AnswerType::kExtreme, "Most of the new capacity is paired with solar farms."));
}

TEST(AnswerTypeTest, APlaceIsNamedAfterAPrepositionOrByAWordThatPlaces) {
  EXPECT_EQ(AnswerTypeOf("Where is Harbor Robotics based?"), AnswerType::kPlace);
  EXPECT_EQ(AnswerTypeOf("宁德时代总部在哪里？"), AnswerType::kPlace);
  EXPECT_EQ(AnswerTypeOf("Whereas prices fell, what did demand do?"), AnswerType::kAny);
  EXPECT_TRUE(Offers(AnswerType::kPlace, "The company was founded in 2011 and is headquartered in Rotterdam."));
  EXPECT_TRUE(Offers(AnswerType::kPlace, "A severe drought in Brazil damaged flowering."));
  EXPECT_TRUE(Offers(AnswerType::kPlace, "In Vietnam, output rose."));
  EXPECT_TRUE(Offers(AnswerType::kPlace, "宁德时代总部位于福建宁德。"));
  // The question's subject without a place, a month, a year, a name after a preposition of
  // another kind.
  EXPECT_FALSE(Offers(AnswerType::kPlace, "Before joining Harbor Robotics she ran the automation division of a Swedish forklift maker."));
  EXPECT_FALSE(Offers(AnswerType::kPlace, "The board is chaired by Henk van Dijk, a former harbour master of Rotterdam."));
  EXPECT_FALSE(Offers(AnswerType::kPlace, "Deliveries resumed in January after a pause in 2024."));
  EXPECT_FALSE(Offers(AnswerType::kPlace, "Margins rose within Q3 as prices went up at the end."));
}

TEST(AnswerTypeTest, WhereSomeoneWorkedIsWhereTheyCameFromToldOfThem) {
  EXPECT_EQ(AnswerTypeOf("Where did Tomas Berg work before joining Harbor Robotics?"), AnswerType::kCareer);
  EXPECT_EQ(AnswerTypeOf("Where did the founders study?"), AnswerType::kCareer);
  EXPECT_EQ(AnswerTypeOf("Where do most of its staff work?"), AnswerType::kCareer);
  EXPECT_EQ(AnswerTypeOf("Where is Harbor Robotics based?"), AnswerType::kPlace);
  EXPECT_TRUE(Offers(AnswerType::kCareer, "The chief financial officer, Tomas Berg, joined in 2021 from a logistics private-equity fund."));
  EXPECT_TRUE(Offers(AnswerType::kCareer, "Before joining Harbor Robotics she ran the automation division of a Swedish forklift maker."));
  EXPECT_TRUE(Offers(AnswerType::kCareer, "He previously led the port automation team in Antwerp."));
  EXPECT_FALSE(Offers(AnswerType::kCareer, "Maria Lindqvist has served as chief executive officer since March 2019."));
  // Of whom: the last capitalised word before "work", and nobody's when there is none.
  EXPECT_EQ(CareerAskedOf("Where did Tomas Berg work before joining Harbor Robotics?"), "berg");
  EXPECT_EQ(CareerAskedOf("Where did she work before?"), "");
  EXPECT_EQ(CareerAskedOf("Where is Harbor Robotics based?"), "");
  // Not past a question's length, nor a "name" longer than a word.
  EXPECT_EQ(CareerAskedOf("Where did " + std::string(600, 'B') + " work?"), "");
  EXPECT_EQ(CareerAskedOf("Where did B" + std::string(100, 'b') + " work?"), "");
  EXPECT_TRUE(NamesWhoseCareer("berg", "The chief financial officer, Tomas Berg, joined in 2021."));
  EXPECT_FALSE(NamesWhoseCareer("berg", "Offices in Bergen and Oslo."));
}

TEST(AnswerTypeTest, AChineseShareAskedIsAShare) {
  EXPECT_EQ(AnswerTypeOf("400G光模块中DSP的功耗占模块总功耗的比例是多少？"), AnswerType::kShare);
  EXPECT_EQ(AnswerTypeOf("特效厅票房占比是多少？"), AnswerType::kShare);
  EXPECT_EQ(AnswerTypeOf("2024年特效厅票房是多少？"), AnswerType::kQuantity);
  EXPECT_TRUE(Offers(AnswerType::kShare, "其 7nm DSP 的功耗约 4W, 占模块总功耗的一半"));
  EXPECT_FALSE(Offers(AnswerType::kShare, "预计到 2030 年, 在 400G+SerDes 和 6.4T 光模块代际时, OSFP 光模块功耗将成为瓶颈。"));
}

TEST(AnswerTypeTest, ACountInChineseWordsIsACount) {
  EXPECT_TRUE(Offers(AnswerType::kCount, "当时由于国内仅有十多个 IMAX 影厅，《阿凡达》IMAX 版本一度一票难求。"));
  EXPECT_TRUE(Offers(AnswerType::kQuantity, "公司推出了两款新产品。"));
  // An article, an ordinal, no count.
  EXPECT_FALSE(Offers(AnswerType::kCount, "AI Agent 是一种能自主感知周遭环境的智能体。"));
  EXPECT_FALSE(Offers(AnswerType::kCount, "《射雕英雄传：侠之大者》《封神第二部：战火西岐》等都是视效大片。"));
  EXPECT_FALSE(Offers(AnswerType::kCount, "几家公司宣布了合作。"));
  EXPECT_FALSE(Offers(AnswerType::kCount, "内容发布在百家号上。"));
  EXPECT_TRUE(Offers(AnswerType::kCount, "公司新开了一百家门店。"));
}

// A conclusion that names its own cause says why: "受制于" names one.
TEST(AnswerTypeTest, ConstrainedByNamesACause) {
  EXPECT_TRUE(NamesACause("市场普遍认为受制于最先进 AI 算力芯片的限制，中国的 AI 大模型能力与美国存在差距。"));
  EXPECT_FALSE(NamesACause("中国的 AI 大模型能力与美国存在差距。"));
}

}  // namespace
}  // namespace memory::internal
