// What a Chinese question of an amount measures, and whose measure it is. "2024年全国电影总票房是
// 多少？" asks a box office (票房): "根据…《2024年中国电影产业年报》，2024年我国特效厅数量为 9949个"
// holds the question's year and "电影" and gives a count of halls. "2024年一季度影视院线板块归母净
// 利润同比增长多少？" asks the net profit (利润) of 影视院线: "2024 年一季度，传媒行业实现…归母净利润
// 79.21 亿元、同比-30.5%" gives the quarter's net profit of the whole media industry and shares
// more of the question's words than the answer, "净利润增速分别为：…影视院线+32.2%…". The sentence
// ranker scales down a sentence that names no measure asked, and one that names none of the
// words of the measure's holder.
//
//   if (!NamesTheMeasureAsked(question, sentence)) score *= kOtherMeasure;
//   const std::vector<std::string> terms = MeasureHolderTerms(question);
//   const std::unordered_set<std::string> holder(terms.begin(), terms.end());
//   if (!NamesAnyOf(holder, sentence)) score *= kOtherHolder;
#ifndef AGENTD_MEMORY_MEASURES_H_
#define AGENTD_MEMORY_MEASURES_H_

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace memory::internal {

inline constexpr size_t kMaxHolderBytes = 96;

// The words that name what a Chinese question measures — its "票房", "收入" (or "营收", "销售额"),
// "利润" (or "净利", "盈利"), "规模" (or "市场空间", "市场容量"), "人次", "票价", "市值", "估值",
// "毛利率", "国产化率", "渗透率" or "份额" (or "市占率"): each measure it names with all of that
// measure's words. Empty when it names none. (The report plan's MEASURE_FAMILIES_ZH are these.)
std::vector<std::string_view> MeasureWordsAsked(std::string_view question);

// Whether `text` holds one of `words` (true when `words` is empty: no measure asked). Read once
// per question, the words are looked for per sentence (a query is a tenant's, of any length).
bool NamesAMeasure(const std::vector<std::string_view>& words, std::string_view text);

// NamesAMeasure(MeasureWordsAsked(question), text).
bool NamesTheMeasureAsked(std::string_view question, std::string_view text);

// The lexical terms (memory/lexical.h) of the words that say whose measure a Chinese question
// asks: the words before its first measure, less times ("2024年", "一季度", "上半年"), numbers, the
// measure's qualifiers ("归母", "营业", "累计", "总") and words any holder takes ("板块", "行业",
// "市场", "公司", "的"). "2024年一季度影视院线板块归母净利润同比增长多少？" → 影视, 视院, 院线;
// "寒武纪2024年的营业收入是多少？" → 寒武, 武纪. Empty when the question names no measure, or
// nothing but such words before it ("2024年的收入是多少？"). Of at most kMaxHolderBytes before the
// measure: a holder is a name, not a hostile query's megabytes.
std::vector<std::string> MeasureHolderTerms(std::string_view question);

// Whether `text` holds one of `terms` (true when `terms` is empty).
bool NamesAnyOf(const std::unordered_set<std::string>& terms, std::string_view text);

// Whether `sentence` gives a measure asked (`words`, from MeasureWordsAsked) of a sibling of the
// holder asked (`holder`, MeasureHolderTerms' terms) and of that holder nowhere: "…，2.5G及以下速率
// 光芯片国产化率超过90%；" for "10G光芯片的国产化率是多少？", "2024年4月，我国移动游戏市场实际销售收入
// 159.05亿元…" for the overseas market's. The words right before each measure in its clause name
// some of the holder's terms but not enough of them, even with `context` (the sentence it is read
// after, its heading): every Latin or numbered term ("10g") and half the others. A clause naming
// none of the holder's terms says nothing of whose measure it is ("公司…2023 年实现票房收入 6.32 亿元":
// its holder is in the heading), and no clause fits: false. A clause whose holder term follows a
// qualifier the question lacks ("我国移动游戏市场…" for "2024年4月我国游戏市场实际销售收入是多少？":
// 移动 before 游戏, where the question has 我国 — a scope, which any holder takes) gives a sibling's
// measure too. Reads at most 16 of the measures.
bool GivesTheMeasureOfAnother(const std::unordered_set<std::string>& holder, const std::vector<std::string_view>& words,
                              std::string_view question, std::string_view sentence, std::string_view context);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_MEASURES_H_
