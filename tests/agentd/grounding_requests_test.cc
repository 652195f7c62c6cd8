// A plan's ctx.memory.sentences request (agentd/src/runs/grounding_requests.h): what it reads
// from each passage it is given — search hits, or whatever a plan builds.
#include "runs/grounding_requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentd::runs {
namespace {

using Json = nlohmann::json;

TEST(ParseSentencesRequestTest, ReadsEachPassagesStartAndTitleAndBoundsTheTitle) {
  std::string long_title;
  while (long_title.size() < 5000) long_title += "标题";  // 3-byte characters
  const Json request = {{"query", "revenue"},
                        {"passages",
                         {"plain text",
                          {{"text", "a hit"}, {"offsets", {0, 5}}, {"title", "Harbor Robotics"}},
                          {{"text", "a widened hit"}, {"offsets", {40, 80}}, {"starts_sentence", true}, {"title", long_title},
                           {"issuer", long_title}},
                          {{"text", "a hostile one"}, {"offsets", {"x", 2}}, {"starts_sentence", "yes"}, {"title", 7}}}}};
  auto parsed = ParseSentencesRequest(request);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->passages.size(), 4u);
  EXPECT_FALSE(parsed->passages[0].starts_at_sentence);
  EXPECT_TRUE(parsed->passages[1].starts_at_sentence);  // the document's start
  EXPECT_EQ(parsed->passages[1].title, "Harbor Robotics");
  EXPECT_TRUE(parsed->passages[2].starts_at_sentence);
  // A title is a ranking hint: cut to 1 KiB, at a character's start.
  EXPECT_LE(parsed->passages[2].title.size(), 1024u);
  EXPECT_EQ(parsed->passages[2].title.size() % 3, 0u);
  EXPECT_EQ(long_title.compare(0, parsed->passages[2].title.size(), parsed->passages[2].title), 0);
  // So is an issuer, cut to the longest the store makes (the ranker looks for it in the query).
  EXPECT_LE(parsed->passages[2].issuer.size(), 60u);
  EXPECT_EQ(parsed->passages[2].issuer.size() % 3, 0u);
  EXPECT_FALSE(parsed->passages[2].issuer.empty());
  EXPECT_FALSE(parsed->passages[3].starts_at_sentence);
  EXPECT_TRUE(parsed->passages[3].title.empty());
}

TEST(ParseSentencesRequestTest, BoundsEachPassagesTextAndAllOfIt) {
  const std::string big((1 << 20) + 1, 'a');
  auto one = ParseSentencesRequest(Json{{"query", "q"}, {"passages", {"short", big}}});
  EXPECT_EQ(one.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(one.status().message(), ::testing::HasSubstr("passages[2]"));
  const std::string mib(1 << 20, 'a');
  Json many = Json::array();
  for (int i = 0; i < 9; ++i) many.push_back({{"text", mib}});
  auto all = ParseSentencesRequest(Json{{"query", "q"}, {"passages", many}});
  EXPECT_EQ(all.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(all.status().message(), ::testing::HasSubstr("at passage 9"));
  many.erase(many.size() - 1);
  EXPECT_TRUE(ParseSentencesRequest(Json{{"query", "q"}, {"passages", many}}).ok());
}

}  // namespace
}  // namespace agentd::runs
