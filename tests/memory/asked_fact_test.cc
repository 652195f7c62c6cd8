#include "asked_fact.h"

#include <string>

#include <gtest/gtest.h>

namespace memory::internal {
namespace {

TEST(AskedFactTest, ASentenceEndingOnTheAskedFactAfterClausesSaysWhy) {
  const AskedFact fact = AskedFactOf("为什么降功耗成为光模块技术发展的核心诉求？");
  EXPECT_TRUE(EndsOnTheAskedFact(fact,
                                 "据统计 2010-2022 年全球数通光模块的整体功耗提升了 26 倍, 2024 年 800G 光模块正式放量后该问题更为突出, "
                                 "这种能耗增长对智算中心的运营成本构成了重大压力, 降功耗成为光模块技术发展的核心诉求之一。"));
  // With a full-width comma too.
  EXPECT_TRUE(EndsOnTheAskedFact(fact, "能耗增长对智算中心的运营成本构成了重大压力，降功耗成为光模块技术发展的核心诉求。"));
  // The fact alone, or after too little to say why.
  EXPECT_FALSE(EndsOnTheAskedFact(fact, "降功耗成为光模块技术发展的核心诉求之一。"));
  EXPECT_FALSE(EndsOnTheAskedFact(fact, "据统计，降功耗成为光模块技术发展的核心诉求之一。"));
  // The fact before the clauses (what follows it is no cause of it), or another fact.
  EXPECT_FALSE(EndsOnTheAskedFact(fact, "降功耗成为光模块技术发展的核心诉求之一，这种能耗增长对智算中心的运营成本构成了重大压力。"));
  EXPECT_FALSE(EndsOnTheAskedFact(fact, "目前由于良率和损耗问题, 硅光模块方案的整体优势尚不明显, 在功耗、速率、成本、体积四个方面的突破是未来新技术发展的重点方向。"));
}

TEST(AskedFactTest, TheQuestionsModalVerbIsNoPartOfTheFact) {
  const AskedFact fact = AskedFactOf("为什么MLA机制能降低推理成本？");
  EXPECT_TRUE(EndsOnTheAskedFact(fact,
                                 "MLA 的核心思想是将键和值向量的计算分解成两个步骤, 并在推理过程中只缓存中间的“潜向量”, 而不是完整的键和值"
                                 "向量, 大幅提升效率, 降低推理成本。"));
  EXPECT_FALSE(EndsOnTheAskedFact(fact, "如果未来端侧推理能获得较快发展，推理成本下降速度将更快。"));
}

TEST(AskedFactTest, OnlyAChineseWhyOfOneFactHasOne) {
  const std::string sentence = "受宏观经济承压影响，企业广告支出不振，传媒指数出现明显回调。";
  EXPECT_TRUE(EndsOnTheAskedFact(AskedFactOf("传媒指数为什么出现明显回调？"), sentence));  // the why-word inside
  EXPECT_FALSE(EndsOnTheAskedFact(AskedFactOf("传媒指数出现明显回调了吗？"), sentence));    // no why
  EXPECT_FALSE(EndsOnTheAskedFact(AskedFactOf("为什么回调？"), sentence));                // too short a fact
  EXPECT_FALSE(EndsOnTheAskedFact(AskedFactOf("Why did the media index fall?"), "Ad spending was weak, so the index fell."));
  // A question too long to state one fact, and hostile sentences: no answer, no crash.
  EXPECT_TRUE(AskedFactOf("为什么" + std::string(600, 'x') + "传媒指数回调").pairs.empty());
  const AskedFact fact = AskedFactOf("为什么传媒指数出现明显回调？");
  EXPECT_FALSE(EndsOnTheAskedFact(fact, ""));
  EXPECT_FALSE(EndsOnTheAskedFact(fact, "，，，，"));
  EXPECT_FALSE(EndsOnTheAskedFact(fact, std::string("\xff\xfe，传媒指数出现明显回调")));
}

}  // namespace
}  // namespace memory::internal
