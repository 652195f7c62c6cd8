// A question's acronyms and the words that spell them out (memory/src/acronyms.h).
#include "acronyms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "memory/sentence_ranker.h"

namespace memory::internal {
namespace {

std::vector<std::string> Letters(std::string_view query) {
  std::vector<std::string> out;
  for (const QueryAcronym& a : QueryAcronyms(query)) out.push_back(a.letters + "/" + a.term);
  return out;
}

TEST(AcronymsTest, AQuestionsAcronymsAreItsWordsOfCapitalLetters) {
  EXPECT_THAT(Letters("Who is the CEO of Harbor Robotics?"), ::testing::ElementsAre("CEO/ceo"));
  EXPECT_THAT(Letters("How many GPUs did the CEO and the CFO buy? CEO"), ::testing::ElementsAre("GPU/gpu", "CEO/ceo", "CFO/cfo"));
  // Not two letters, not mixed case, not glued to digits or Chinese, not stop words.
  EXPECT_THAT(Letters("AI in the US: DeepSeek-V3, iPhone, GPT4o, LLM的 成本, THE, ABCDEFG"), ::testing::IsEmpty());
  EXPECT_THAT(Letters(""), ::testing::IsEmpty());
}

TEST(AcronymsTest, WordsSpellAnAcronymByTheirInitials) {
  EXPECT_TRUE(SpellsOut("Maria Lindqvist has served as chief executive officer since 2019.", "CEO"));
  EXPECT_TRUE(SpellsOut("figures from the Bureau of Labor Statistics show", "BLS"));
  EXPECT_TRUE(SpellsOut("Chief-Executive Officer", "ceo"));
  EXPECT_FALSE(SpellsOut("the chief financial officer joined in 2021", "CEO"));
  EXPECT_FALSE(SpellsOut("chief, then executive", "CEO"));  // two letters are not three
  EXPECT_FALSE(SpellsOut("", "CEO"));
  EXPECT_FALSE(SpellsOut("chief executive officer", ""));
  // A linking word may be a letter too; any other word breaks the spelling.
  EXPECT_TRUE(SpellsOut("the Department of Energy", "DOE"));
  EXPECT_FALSE(SpellsOut("chief sales and executive officer", "CEO"));
  // Hostile text: bytes that are not ASCII letters separate words.
  EXPECT_TRUE(SpellsOut("\xff" "chief\xe4\xb8\xad" "executive\x01officer", "CEO"));
}

TEST(AcronymsTest, TheSentenceThatSpellsOutTheQuestionsAcronymRanksFirst) {
  const std::string passage =
      "Harbor Robotics designs autonomous straddle carriers for container ports. Maria Lindqvist has served as chief "
      "executive officer since March 2019. Before joining Harbor Robotics she ran the automation division of a Swedish "
      "forklift maker. The board is chaired by Henk van Dijk.";
  auto ranked = RankSentences(nullptr, "Who is the CEO of Harbor Robotics?",
                              std::vector<PassageInput>{{.text = passage, .starts_at_sentence = true,
                                                         .title = "Harbor Robotics: annual review 2024"}},
                              {.k = 4});
  ASSERT_TRUE(ranked.ok()) << ranked.status();
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_EQ(ranked->sentences[0].text, "Maria Lindqvist has served as chief executive officer since March 2019.");
}

}  // namespace
}  // namespace memory::internal
