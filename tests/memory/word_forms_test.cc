// Word forms the lexical terms keep apart, folded together for ranking (memory/src/word_forms.h).
#include "word_forms.h"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "memory/lexical.h"

namespace memory::internal {
namespace {

std::vector<std::string> Folded(const std::string& text) {
  static const WordForms forms;
  std::vector<std::string> terms = LexicalTerms(text);
  forms.Fold(terms);
  return terms;
}

TEST(WordFormsTest, AnIrregularPastMeetsItsVerb) {
  EXPECT_EQ(Folded("prices fell"), Folded("prices fall"));
  EXPECT_EQ(Folded("prices have fallen"), Folded("prices have falling"));
  EXPECT_EQ(Folded("revenue rose"), Folded("revenue rises"));
  EXPECT_EQ(Folded("the company became"), Folded("the company becomes"));
  EXPECT_EQ(Folded("units sold"), Folded("units selling"));
}

TEST(WordFormsTest, ASpelledNumberMeetsItsDigits) {
  EXPECT_EQ(Folded("four-bit weights"), Folded("4-bit weights"));
  EXPECT_EQ(Folded("twelve routes"), Folded("12 routes"));
}

TEST(WordFormsTest, APluralTheStemmerLeavesApartMeetsItsSingular) {
  EXPECT_EQ(Folded("buses carry commuters"), Folded("bus carry commuters"));
  // Not "bases", which the stemmer makes "base", as it does "based".
  EXPECT_NE(Folded("Where is it based"), Folded("Where is it basis"));
}

TEST(WordFormsTest, APlacesAdjectiveMeetsItsName) {
  EXPECT_EQ(Folded("European countries"), Folded("Europe countries"));
  EXPECT_EQ(Folded("a Brazilian drought"), Folded("a Brazil drought"));
  EXPECT_EQ(Folded("Chinese cell makers"), Folded("China cell makers"));
  EXPECT_NE(Folded("polish the surface"), Folded("Poland the surface"));
}

TEST(WordFormsTest, ChineseWordsOfOneMeaningMeet) {
  EXPECT_EQ(Folded("资本开支"), Folded("资本支出"));
  EXPECT_NE(Folded("资本开支"), LexicalTerms("资本开支"));
}

TEST(WordFormsTest, WordsOfAnotherMeaningAreLeftAlone) {
  // "founded" stems to "found", which is not folded to "find"; "one" names no count.
  EXPECT_NE(Folded("founded in 2011"), Folded("find in 2011"));
  EXPECT_EQ(Folded("one of the largest"), LexicalTerms("one of the largest"));
  EXPECT_EQ(Folded("the price of gold"), LexicalTerms("the price of gold"));
}

TEST(WordFormsTest, ASearchLooksForEveryFormOfItsWords) {
  const WordForms forms;
  const std::vector<std::string> rise = LexicalTerms("prices rise");
  const std::vector<std::string> with = forms.WithForms(rise);
  for (const std::string& term : LexicalTerms("prices rose risen")) EXPECT_THAT(with, ::testing::Contains(term));
  // From a past form too, and each term once.
  const std::vector<std::string> from_past = forms.WithForms(LexicalTerms("rose rise"));
  EXPECT_THAT(from_past, ::testing::Contains(LexicalTerms("risen")[0]));
  EXPECT_EQ(std::set<std::string>(from_past.begin(), from_past.end()).size(), from_past.size());
  // A word without other forms stays alone.
  EXPECT_EQ(forms.WithForms(LexicalTerms("coffee")), LexicalTerms("coffee"));
}

}  // namespace
}  // namespace memory::internal
