#include "versioned_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace memory::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::AllOf;

auto Name(const std::string& family, const std::string& version) {
  return AllOf(Field(&VersionedName::family, family), Field(&VersionedName::version, version));
}

TEST(VersionedNamesTest, AFamilysWordAndItsVersionHoweverTheyAreWritten) {
  EXPECT_THAT(VersionedNamesIn("DeepSeek-V3的API服务价格是多少？"), ElementsAre(Name("deepseek", "v3")));
  EXPECT_THAT(VersionedNamesIn("GPT-4o 与 Qwen2.5-72B 对比"), ElementsAre(Name("gpt", "4o"), Name("qwen", "2.572b")));
  EXPECT_THAT(VersionedNamesIn("DeepSeek V3 训练成本"), ElementsAre(Name("deepseek", "v3")));
  // A family's word alone, a hyphenated English word and a short word name no version.
  EXPECT_TRUE(VersionedNamesIn("DeepSeek 的 cost-effective AI 模型 V3").empty());
  // Words before a number, and things numbered on their own, are no family and version.
  EXPECT_TRUE(VersionedNamesIn("over 100 million users in fiscal 2024, the top 10 of Figure 3").empty());
  EXPECT_THAT(VersionedNamesIn("Llama 3.1 and Llama 4"), ElementsAre(Name("llama", "3.1")));
}

TEST(VersionedNamesTest, ASentenceOnlyOnASiblingIsToldApart) {
  const std::vector<VersionedName> asked = VersionedNamesIn("DeepSeek-V3的API服务价格是多少？");
  // R1's price answered V3's question before V3's own price.
  EXPECT_TRUE(NamesOnlyASibling(asked, "DeepSeek-R1 API 服务定价为每百万输入 tokens 1 元"));
  // Naming the asked version too, or it alone as a word, is on it.
  EXPECT_FALSE(NamesOnlyASibling(asked, "DeepSeek-V3 降至原价的 50%，DeepSeek-R1 更低至 25%"));
  EXPECT_FALSE(NamesOnlyASibling(asked, "DeepSeek 也公布了运营一天 V3 和 R1 的成本"));
  EXPECT_FALSE(NamesOnlyASibling(asked, "DeepSeek V3-Base 在多项评测中领先"));  // a version it begins
  // Another family, or none, is no sibling.
  EXPECT_FALSE(NamesOnlyASibling(asked, "GPT-4o 的价格为每百万 tokens 10 美元"));
  EXPECT_FALSE(NamesOnlyASibling(asked, "其 API 服务定价调整为每百万输入 tokens 0.5 元"));
  EXPECT_FALSE(NamesOnlyASibling({}, "DeepSeek-R1 API 服务定价"));
}

}  // namespace
}  // namespace memory::internal
