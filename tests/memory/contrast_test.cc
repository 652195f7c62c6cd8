#include "contrast.h"

#include <string>

#include <gtest/gtest.h>

namespace memory::internal {
namespace {

TEST(ContrastTest, TheTwoNamesOfAChineseDifferenceQuestion) {
  Contrast c = ContrastAsked("DeepSeek-R1-Zero和DeepSeek-R1有什么区别？");
  EXPECT_EQ(c.first, "deepseekr1zero");  // (matched without hyphens)
  EXPECT_EQ(c.second, "deepseekr1");
  EXPECT_FALSE(c.compared);
  c = ContrastAsked("请比较一下云端部署与端侧部署在成本上的差异");
  EXPECT_EQ(c.first, "云端");
  EXPECT_EQ(c.second, "端侧");
  c = ContrastAsked("IMAX、CINITY的异同是什么？");
  EXPECT_EQ(c.first, "imax");
  EXPECT_EQ(c.second, "cinity");
  EXPECT_FALSE(ContrastAsked("DeepSeek-R1有什么特点？").asked());
  EXPECT_FALSE(ContrastAsked("不同地区的票房是多少？").asked());  // 不同 alone asks no difference
  // Differentiation, treating differently: no difference between two things.
  EXPECT_FALSE(ContrastAsked("在消费电子和汽车领域，公司如何实现差异化？").asked());
  EXPECT_FALSE(ContrastAsked("监管对国内和海外厂商是否区别对待？").asked());
  c = ContrastAsked("云端部署以及端侧部署有什么区别？");
  EXPECT_EQ(c.first, "云端");
  EXPECT_EQ(c.second, "端侧");
}

TEST(ContrastTest, TwoThingsCompared) {
  const Contrast c = ContrastAsked("Skywork-MoE与DeepSeek-V2的总参数量相比如何？");
  EXPECT_EQ(c.first, "skyworkmoe");
  EXPECT_EQ(c.second, "deepseekv2");
  EXPECT_TRUE(c.compared);
  // One compared with the other ("比 B"), the source writing "DeepSeekV2" without its hyphen.
  EXPECT_EQ(Telling::kBoth, HowItTells(c, "同时 Skywork-MoE 的总参数大小比 DeepSeekV2 的总参数大小要小 1/3，用更小的参数做到了相近的能力。"));
  EXPECT_EQ(Telling::kFirst, HowItTells(c, "Skywork-MoE 模型隶属于天工 3.0 的研发模型系列，模型总参数量为 146B。"));
}

TEST(ContrastTest, TheTwoNamesOfAnEnglishDifferenceQuestion) {
  Contrast c = ContrastAsked("What is the difference between training and serving costs?");
  EXPECT_EQ(c.first, "training");
  EXPECT_EQ(c.second, "serving costs");
  // Joined inside a phrase: what follows "of", the second with what came before it.
  c = ContrastAsked("How do the costs of training and serving a language model differ?");
  EXPECT_EQ(c.first, "training");
  EXPECT_EQ(c.second, "serving costs");
  c = ContrastAsked("What is the difference between the prices of arabica and robusta?");
  EXPECT_EQ(c.first, "arabica");
  EXPECT_EQ(c.second, "robusta");
  c = ContrastAsked("How do robusta prices differ from arabica prices in 2024?");
  EXPECT_EQ(c.first, "robusta");
  EXPECT_EQ(c.second, "arabica");
  c = ContrastAsked("What makes arabica different from robusta?");
  EXPECT_EQ(c.first, "arabica");
  EXPECT_EQ(c.second, "robusta");
  c = ContrastAsked("How do the bus and the metro differ?");
  EXPECT_EQ(c.first, "bus");
  EXPECT_EQ(c.second, "metro");
  EXPECT_FALSE(ContrastAsked("How much did robusta prices rise?").asked());
  // "between" and "from" without a difference asked.
  EXPECT_FALSE(ContrastAsked("What happened between 2020 and 2023?").asked());
  EXPECT_FALSE(ContrastAsked("How does the model learn from human feedback?").asked());
  EXPECT_FALSE(ContrastAsked("How do bus riders get from home to work?").asked());
  EXPECT_FALSE(ContrastAsked(std::string(600, 'a') + " difference between a and b").asked());  // no question that long
}

TEST(ContrastTest, ASentenceOnOneOfThemTellsItApart) {
  const Contrast c = ContrastAsked("DeepSeek-R1-Zero和DeepSeek-R1有什么区别？");
  EXPECT_EQ(Telling::kFirst, HowItTells(c, "DeepSeek-R1-Zero 直接用强化学习训练基座模型 DeepSeek-V3-Base, 不依赖任何监督数据作为起点。"));
  EXPECT_EQ(Telling::kSecond, HowItTells(c, "而 DeepSeek-R1 通过冷启动数据和多阶段训练, 使模型同时兼具高水平推理与高质量表达。"));
  EXPECT_EQ(Telling::kSecond, HowItTells(c, "2025 年 1 月，DeepSeek-R1 在后训练阶段大规模使用了强化学习技术。"));
  // Both named as one, or one named in passing.
  EXPECT_EQ(Telling::kBothAsOne, HowItTells(c, "公司在开源 DeepSeek-R1-Zero 和 DeepSeek-R1 两个 660B 模型的同时，蒸馏了 6 个小模型。"));
  EXPECT_EQ(Telling::kInPassing, HowItTells(c, "DeepSeek 正式发布 DeepSeek-R1，同步开源模型权重；"));
  EXPECT_EQ(Telling::kInPassing, HowItTells(c, "英伟达和亚马逊等宣布将 DeepSeek-R1 整合至其云平台。"));
  // Both, with a word that contrasts them.
  EXPECT_EQ(Telling::kBoth, HowItTells(c, "与 DeepSeek-R1-Zero 不同，DeepSeek-R1 使用了冷启动数据。"));
  // Neither.
  EXPECT_EQ(Telling::kNeither, HowItTells(c, "DeepSeek-V3 的训练成本仅为 557 万美元。"));
}

TEST(ContrastTest, EnglishSentencesOnOneSide) {
  const Contrast c = ContrastAsked("What is the difference between training and serving costs?");
  EXPECT_EQ(Telling::kFirst, HowItTells(c, "Training remains expensive but happens once."));
  EXPECT_EQ(Telling::kSecond, HowItTells(c, "Serving costs, by contrast, grow with every user."));
  EXPECT_EQ(Telling::kSecond, HowItTells(c, "By contrast, serving costs grow with every user."));
  EXPECT_EQ(Telling::kNeither, HowItTells(c, "A frontier-scale model used 2.4 million GPU hours for pre-training."));
  EXPECT_EQ(Telling::kNeither, HowItTells(c, "Serving a large language model has become much cheaper in two years."));
  const Contrast buses = ContrastAsked("How do the bus and the metro differ?");
  EXPECT_EQ(Telling::kFirst, HowItTells(buses, "Buses carry 23% of commuters."));
  EXPECT_EQ(Telling::kBoth, HowItTells(buses, "The metro is faster than the bus at rush hour."));
  EXPECT_EQ(Telling::kBothAsOne, HowItTells(buses, "Most respondents who take the bus and the metro live downtown."));
}

TEST(ContrastTest, NoDifferenceAskedNoneTold) {
  EXPECT_EQ(Telling::kNeither, HowItTells(Contrast{}, "Anything at all."));
  // Hostile sentences: no crash, linear.
  const Contrast c = ContrastAsked("A和B有什么区别？");
  EXPECT_EQ(Telling::kNeither, HowItTells(c, std::string(1 << 20, ' ')));
  EXPECT_EQ(Telling::kNeither, HowItTells(c, std::string(1 << 20, '\xff')));
  EXPECT_EQ(Telling::kFirst, HowItTells(c, std::string(30, ' ') + "a is here"));
  EXPECT_EQ(Telling::kInPassing, HowItTells(c, std::string(1 << 20, 'a') + " a is here"));
}

}  // namespace
}  // namespace memory::internal
