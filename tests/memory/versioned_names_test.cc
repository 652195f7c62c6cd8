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
  EXPECT_THAT(VersionedNamesIn("Skywork-MoE 的总参数大小比 DeepSeekV2 的总参数大小要小 1/3"), ElementsAre(Name("deepseek", "v2")));
  EXPECT_THAT(VersionedNamesIn("LLaMA3 and GPT4"), ElementsAre(Name("llama", "3"), Name("gpt", "4")));
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

TEST(VersionedNamesTest, ChineseOrdinalsOfOneCounterAreSiblings) {
  const std::vector<VersionedName> asked = VersionedNamesIn("美国AI芯片出口管制框架下第二类国家最多可以获得多少算力？");
  EXPECT_THAT(asked, ElementsAre(Name("第类", "2#")));
  EXPECT_TRUE(NamesOnlyASibling(asked, "中国为该新规中定义的第三类国家（图表 22），即武器禁运国家和地区。"));
  EXPECT_FALSE(NamesOnlyASibling(asked, "每个第二类国家或地区最多可以获得 7.9 亿 TPP 总计算能力"));
  EXPECT_FALSE(NamesOnlyASibling(asked, "第 2 类国家面临以国为单位的总算力限制"));
  EXPECT_FALSE(NamesOnlyASibling(asked, "除第一类和第三类的国家和地区，以及第二类国家"));
  EXPECT_FALSE(NamesOnlyASibling(asked, "第三代光模块"));  // another counter
  // Tens, and no ordinal: "第一，" opens a list's first point.
  EXPECT_THAT(VersionedNamesIn("第十二届、第20届"), ElementsAre(Name("第届", "12#"), Name("第届", "20#")));
  EXPECT_TRUE(VersionedNamesIn("第一，成本下降；第，").empty());
  // A quarter is no category: the asked "一季度" beside "第四季度" is no sibling's.
  EXPECT_TRUE(VersionedNamesIn("2024年第四季度").empty());
  // Ordinals after the Latin names: sixteen chapters leave room for DeepSeek-R1.
  std::string chapters;
  for (int n = 1; n <= 16; ++n) chapters += "第" + std::to_string(n) + "类，";
  EXPECT_TRUE(NamesOnlyASibling(VersionedNamesIn("DeepSeek-V3的价格"), chapters + "DeepSeek-R1 API 服务定价"));
}

}  // namespace
}  // namespace memory::internal
