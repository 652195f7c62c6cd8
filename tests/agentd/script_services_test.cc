// A script's search request (agentd/src/script_services.h): every field a plan or tool script
// sets is checked, and a wrong one is refused by name instead of clamped, defaulted or thrown.
#include "script_services.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentd {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

TEST(SearchQueryFromJsonTest, ReadsEveryFieldWithItsDefault) {
  auto query = SearchQueryFromJson(Json{{"collection", "notes"}, {"query", "cloud"}}, "ctx.memory.search", "acme");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->tenant, "acme");
  EXPECT_EQ(query->collection, "notes");
  EXPECT_EQ(query->query, "cloud");
  EXPECT_EQ(query->k, 5);
  EXPECT_EQ(query->mode, memory::SearchMode::kHybrid);
  EXPECT_FALSE(query->whole_sentences);

  query = SearchQueryFromJson(Json{{"collection", "notes"}, {"query", "cloud"}, {"k", 100}, {"mode", "lexical"},
                                   {"whole_sentences", true}, {"tenant", "someone-else"}},
                              "memory.search", "acme");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->tenant, "acme");  // a script never chooses its tenant
  EXPECT_EQ(query->k, 100);
  EXPECT_EQ(query->mode, memory::SearchMode::kLexical);
  EXPECT_TRUE(query->whole_sentences);
  EXPECT_TRUE(query->filter.document_ids.empty());

  query = SearchQueryFromJson(Json{{"collection", "notes"}, {"query", "cloud"}, {"documents", {"001.txt", "sha256:ab"}}},
                              "memory.search", "acme");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_THAT(query->filter.document_ids, ::testing::ElementsAre("001.txt", "sha256:ab"));
}

TEST(SearchQueryFromJsonTest, RefusesEachWrongFieldByName) {
  const Json base = {{"collection", "notes"}, {"query", "cloud"}};
  struct Case {
    const char* field;
    Json value;
  };
  for (const Case& c : std::vector<Case>{{"collection", nullptr},
                                         {"collection", ""},
                                         {"collection", 7},
                                         {"query", Json::array()},
                                         {"query", ""},
                                         {"k", "5"},
                                         {"k", 0},
                                         {"k", 101},
                                         {"k", 2.5},
                                         {"k", -1},
                                         {"mode", "fuzzy"},
                                         {"mode", 1},
                                         {"whole_sentences", "yes"},
                                         {"whole_sentences", 1},
                                         {"documents", "001.txt"},
                                         {"documents", Json::array()},
                                         {"documents", {7}},
                                         {"documents", {""}},
                                         {"documents", {std::string(257, 'd')}},
                                         {"documents", Json(std::vector<std::string>(1025, "d"))}}) {
    Json request = base;
    if (c.value.is_null()) {
      request.erase(c.field);
    } else {
      request[c.field] = c.value;
    }
    auto query = SearchQueryFromJson(request, "ctx.memory.search", "acme");
    ASSERT_FALSE(query.ok()) << c.field << " = " << c.value.dump();
    EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(query.status().message(), HasSubstr(std::string("ctx.memory.search: ") + c.field)) << query.status();
  }
  EXPECT_FALSE(SearchQueryFromJson(Json::array(), "memory.search", "acme").ok());
}

}  // namespace
}  // namespace agentd
