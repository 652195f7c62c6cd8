// Questions that ask what a term is, and the sentences that define it (memory/src/definitions.h).
#include "definitions.h"

#include <gtest/gtest.h>

#include "memory/sentence_ranker.h"

namespace memory::internal {
namespace {

TEST(DefinitionsTest, AQuestionAsksToDefineATerm) {
  EXPECT_EQ(DefinedTerm("什么是特效厅？"), "特效厅");
  EXPECT_EQ(DefinedTerm("何为杰文斯悖论"), "杰文斯悖论");
  EXPECT_EQ(DefinedTerm("LPO是什么？"), "LPO");
  EXPECT_EQ(DefinedTerm("特效厅是指什么？"), "特效厅");
  EXPECT_EQ(DefinedTerm("What is speculative decoding?"), "speculative decoding");
  EXPECT_EQ(DefinedTerm("What does prefix caching mean?"), "prefix caching");
  EXPECT_EQ(DefinedTerm("Define interconnection queue"), "interconnection queue");
  // A property, an amount or a question of more than a term asks no definition.
  EXPECT_EQ(DefinedTerm("DeepSeek的核心优势是什么？"), "");
  EXPECT_EQ(DefinedTerm("What is the price of arabica coffee at the end of 2024?"), "");
  EXPECT_EQ(DefinedTerm("What are the main risks to grid storage projects in the United States?"), "");
  EXPECT_EQ(DefinedTerm("2023年中国AI Agent市场规模是多少？"), "");
  EXPECT_EQ(DefinedTerm("为什么传媒指数下跌？"), "");
  EXPECT_EQ(DefinedTerm("？"), "");
  EXPECT_EQ(DefinedTerm(""), "");
}

TEST(DefinitionsTest, ASentenceDefinesItsSubjectOrNamesIt) {
  EXPECT_TRUE(Defines("特效厅", "特效厅又称特殊厅，是包括巨幕厅、音效厅、高帧厅、4D厅等在内的特殊类型影厅的统称。"));
  EXPECT_TRUE(Defines("LPO", "LPO（Linear-drive Pluggable Optics）是指线性驱动可插拔光模块。"));
  // A Latin term and a Chinese verb with a space between, as PDF text sets them.
  EXPECT_TRUE(Defines("AI Agent", "AI Agent 是一种能自主感知周遭环境，通过内在的智能处理进行决策的智能体。"));
  EXPECT_FALSE(Defines("AI Agent", "AI Agent 市场规模包括 ToC 端和 ToB 端的应用价值：1) 在 B 端场景下…"));
  EXPECT_TRUE(Defines("特殊厅", "这类影厅被称为“特殊厅”。"));
  // An appositive after a comma.
  EXPECT_TRUE(Defines("Koala Editor", "游戏核心组成部分是 Koala Editor，一个零代码的游戏编辑器，玩家可以轻松地进行游戏关卡的创作。"));
  EXPECT_FALSE(Defines("Koala Editor", "Koala Editor 里还配备有完备的功能组件、素材箱这类辅助工具。"));
  EXPECT_TRUE(Defines("speculative decoding", "They apply speculative decoding, a technique in which a small draft proposes tokens."));
  EXPECT_TRUE(Defines("speculative decoding",
                      "Serving engines apply speculative decoding, in which a small draft proposes several tokens."));
  EXPECT_TRUE(Defines("Speculative decoding", "speculative decoding is a way to draft tokens cheaply."));
  // Mentions are no definitions.
  EXPECT_FALSE(Defines("特效厅", "正是特效厅在市场份额上的贡献，让我们看到了特效厅的发展前景。"));
  EXPECT_FALSE(Defines("特效厅", "平时看电影时会比较关注放映的是否为特效厅。"));
  EXPECT_FALSE(Defines("特效厅", "特效厅是否值得投资仍有争议。"));
  EXPECT_FALSE(Defines("AI", "Analysts said the market is growing."));  // a word of its own only
  EXPECT_FALSE(Defines("", "特效厅又称特殊厅。"));
  // Through "其" after the sentence naming the term.
  const std::string named = "微软首席执行官引用了“杰文斯悖论”来解释这一现象：煤炭消耗量不降反增。";
  const std::string core = "其核心观点为：技术进步提高了资源使用效率，最终导致资源总消耗增加。";
  EXPECT_TRUE(Defines("杰文斯悖论", core, named));
  EXPECT_FALSE(Defines("杰文斯悖论", core));
  EXPECT_FALSE(Defines("杰文斯悖论", "其股价在一月下跌了 17%。", named));
}

TEST(DefinitionsTest, AHostileTermIsReadInBoundedWork) {
  // A term that is itself a closing mark, repeated through a sentence: each occurrence had
  // stripped the whole rest of the run again (quadratic; minutes on a request's megabytes).
  EXPECT_EQ(DefinedTerm("什么是’？"), "’");
  std::string marks;
  for (int i = 0; i < 200000; ++i) marks += "’";
  EXPECT_FALSE(Defines("’", "这是" + marks + "。"));
  EXPECT_FALSE(Defines("()", std::string(400000, '(') + std::string(400000, ')')));
  EXPECT_EQ(DefinedTerm("What does mean?"), "");
}

TEST(DefinitionsTest, TheRankerPutsTheDefinitionFirst) {
  const std::string page =
      "2024 年特效厅在整体票房中所占的比例很高。正是特效厅在市场份额上的贡献，让我们看到了特效厅的发展前景，驱动我们持续加大对"
      " CINITY 的投入。特效厅又称特殊厅，是包括巨幕厅、音效厅等在内的特殊类型影厅的统称。";
  auto ranked = RankSentences(nullptr, "什么是特效厅？", std::vector<PassageInput>{{.text = page, .starts_at_sentence = true}}, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_EQ(ranked->sentences[0].text, "特效厅又称特殊厅，是包括巨幕厅、音效厅等在内的特殊类型影厅的统称。");
  // A definition through "其" is read and quoted with the sentence naming the term, which then
  // stands as the pair's opening.
  const std::string jevons =
      "定价的持续走低有望带来更快的商业化落地，将逐步盘活全球 AI 应用及算力发展。微软首席执行官引用了“杰文斯悖论”来解释这一现象："
      "随着蒸汽机效率的提升，煤炭消耗量不降反增。其核心观点为：技术进步提高了资源使用效率，最终导致资源总消耗增加。";
  auto pair = RankSentences(nullptr, "什么是杰文斯悖论？", std::vector<PassageInput>{{.text = jevons, .starts_at_sentence = true}}, {.k = 3});
  ASSERT_TRUE(pair.ok());
  bool seen = false;
  for (const RankedSentence& s : pair->sentences) {
    if (!s.text.starts_with("其核心观点为")) continue;
    seen = true;
    EXPECT_TRUE(s.previous.starts_with("微软首席执行官")) << s.previous;
    EXPECT_FALSE(s.previous_leans);
  }
  EXPECT_TRUE(seen);
}

TEST(DefinitionsTest, ALongDefinitionOpensAboveShortSentencesThatOnlyNameTheTerm) {
  const std::string page =
      "DeepSeek 推动 AI Agent 快速进化。AI Agent 将成为通往 AGI 的基石。中国 AI Agent 市场空间广阔。"
      "AI Agent 是一种能自主感知周遭环境，通过内在的智能处理进行决策，并执行相应行动以达成特定目的的智能体，"
      "推理和规划的能力由大模型实现，可以积累知识和经验，对过往的数据和动作进行反思总结。";
  auto ranked = RankSentences(nullptr, "什么是AI Agent？", std::vector<PassageInput>{{.text = page, .starts_at_sentence = true}}, {.k = 4});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_TRUE(ranked->sentences[0].text.starts_with("AI Agent 是一种")) << ranked->sentences[0].text;
  // The others keep their order below it.
  ASSERT_GE(ranked->sentences.size(), 2u);
  EXPECT_LT(ranked->sentences[1].score, ranked->sentences[0].score);
}

}  // namespace
}  // namespace memory::internal
