// Whether a sentence quoted alone leans on the one before it in its source: one that opens
// with a pronoun ("它", "This"), an example or a continuation ("例如", "However"), or a list's
// item ("首先", "其次"). The ranker weighs such sentences down and names their predecessor; the
// widening of a search hit takes the predecessor in when the hit starts with one.
#ifndef AGENTD_MEMORY_LEANING_H_
#define AGENTD_MEMORY_LEANING_H_

#include <string>

#include "memory/sentences.h"

namespace memory::internal {

// 1.0 for a sentence that stands alone; less for one that leans (0.85 a pronoun or a list's
// first item, 0.6 a continuation, an example or a later item).
double StandsAlone(const std::string& text);

// Whether `text` opens on a time the sentence before it names ("全年", "同年", "当月": the
// whole of which year?). Such a sentence leans as a pronoun's does; quoted after that sentence,
// it lacks nothing.
bool OpensOnItsPredecessorsTime(const std::string& text);

// Whether a Chinese sentence points back to the one before it past its opening: a means, ground
// or time that is the sentence before ("通过这些方式，DeepSeek 在有限算力…实现更加优秀的模型
// 性能。" after the list of its innovations; "在此基础上，"), or someone's words on it ("有业内人士
// 向记者表示，这一方面是因为…" after the decline it explains). Quoted after that sentence and read
// with it, it lacks nothing, as OpensOnItsPredecessorsTime.
bool PointsBackAfterItsOpening(const std::string& text);

// Whether a Chinese sentence opens on a measure and its figure, its subject left in the sentence
// before: "票房市占率 1.17%、同比+0.25pct。" after "2023 年，上海电影实现票房收入 6.32 亿元…"
// (whose share?), "归母净利润 79.21 亿元…". The measure is a few Han characters ending in a
// measure's word (率, 额, 收入, 利润, 规模, 占比…) with a digit or a sign after it.
bool StatesAFigureWithoutItsSubject(const std::string& text);

// Whether a Chinese sentence's first clause names what came before it by a demonstrative past
// its opening ("OpenAI、字节、阿里等 AI 大模型这两年的价格符合这一基本趋势（图表 4）。" — which
// trend? the sentence before states it). One later in the sentence may name what the sentence
// itself said first ("…推出了 X 模型，这一模型…"), so only the first clause counts.
bool NamesWhatCameBefore(const std::string& text);

// Whether a Chinese sentence gives the reason for what the sentence before it says, naming only
// the reason: "我们认为主要原因在于 DeepSeek 在三个方面超出市场预期：1）…" after "DeepSeek 在较短的时间
// 内成为国内和海外热度较高的话题之一。" (the reason for what?). It opens, past an attribution
// ("我们认为", "业内人士表示，"), on 主要原因, 原因在于, 原因是, 究其原因 or 这是因为.
bool ExplainsItsPredecessor(const std::string& text);

// Whether an English sentence compares with what the sentence before it states, not saying
// with what: "Robusta prices … rose even faster in relative terms." after "Arabica futures
// ended the year at $3.44 per pound … 70% above where they started the year." (faster than
// what?). "even" or "still" before a comparative ("faster", "more", "higher"), and no "than".
// It leans on that sentence (quoted after it) but is not read with it: its words are its own,
// and read with the arabica price it outranked that price for "What was the arabica price…?".
bool ComparesWithItsPredecessor(const std::string& text);

// Whether an English sentence names a change or its effect that the sentence before it states,
// as "the <change>" with nothing after it saying of what: "Low stocks amplified the effect."
// (of the drought, the paragraph before says), "Three forces drove the decline: …" (of prices).
// Not "the effect of …", "the rise in …": those say it. It leans on that sentence (StandsAlone),
// so it opens no section, but is not read with it: its own words say what it adds (read with
// the harvests' words, "Low stocks amplified the effect." outranked the harvests for "What was
// the arabica price at the end of 2024?").
bool NamesAnOutcomeBefore(const std::string& text);

// Whether a sentence is read after the one before it and with it: it opens on that sentence's
// time, points back to it past its opening or in its first clause, states a figure of its
// subject, or gives its reason (the five above, not NamesAnOutcomeBefore).
bool ReadsWithItsPredecessor(const std::string& text);

// Whether an English sentence takes up, as "the <noun>" among its first eight words, a thing the
// sentence before it introduces: "Two thirds of the backlog comes from ports in Southeast
// Asia…" after "The order backlog stood at $540 million…" (which backlog? how large?),
// "Traders expect the rule to add paperwork costs…" after the EU rule. Not a noun its own "of"
// or "for" defines ("The average price of a lithium iron phosphate battery pack…"), nor a
// capitalised name ("the United States"). Nouns of four letters or more, a plural the singular.
// In Chinese: a quoted name opening it that the sentence before has ("“天工 3.0”在语义理解…" after
// "公司发布“天工 3.0”大模型…").
bool TakesUpItsPredecessorsThing(const std::string& text, const std::string& predecessor);

// Whether a leaning sentence only adds to what came before ("此外", "同时", "Moreover").
bool OnlyAdds(const std::string& text);

// The bytes of a connective that adds or contrasts and its comma ("另外，", "此外，", "然而，",
// "Moreover, ", "However, "; "而" and a space), or of an attribution to a source named before
// ("前述报告显示，", "该数据表明，"), that open `text` when what follows stands alone,
// so that a quote may start after them: "另外，DeepSeek 也公布了运营一天 V3 和 R1 的成本为 87,072
// 美元" quoted from "DeepSeek 也公布了…" says the same and can open a paragraph. 0 otherwise (no
// such opener, no comma after it, the rest leaning too, or an English rest in lower case).
size_t ConnectiveOpener(const std::string& text);

// The bytes of "以 X 为例，" (taking X as the example; X at most 48 bytes) that open `text`, 0
// when it does not open so. The sentence is an example of the claim before it.
size_t ExampleOpener(const std::string& text);

// Whether `text` leans on more than a topic ("它", "这", "例如", "而"; not "此外"): the sentence it
// follows should be read with it.
bool LeansOnPredecessor(const std::string& text);

// Whether a sentence is short and states no figure, so that it announces what the next one
// says ("Lower prices changed project economics.", before the payback time they changed to):
// at most kShortWords words (kShortCjk ideographs in Chinese), no digit, a full stop.
constexpr int kShortWords = 7, kShortCjk = 12;
bool AnnouncesNext(const std::string& text);

// Whether `claim` states a finding without its figures and `next`, the sentence after it in its
// paragraph, gives them: "我们认为 2025 年中国将正式开启 AI 基建超级周期。" then "我们预测腾讯 2025 年资本
// 开支或达人民币 1,000+亿元，阿里巴巴约 1,500 亿元…". Quoted alone the claim is the source's opinion
// without the evidence a reader came for. A date is no figure here, nor a digit in a name ("FP8"). Both are
// statements, at most kMaxClaimChars and kMaxBackingChars code points.
constexpr size_t kMaxClaimChars = 80, kMaxBackingChars = 160;
bool BacksWithAFigure(const std::string& claim, const std::string& next);

// Whether `next`, the sentence after `text` in its paragraph, is a short one adding figures to
// the figures `text` gives: "票房市占率 1.17%、同比+0.25pct。" after 上海电影's box office and
// admissions of 2023 (at most kShortCjk ideographs, kShortWords words in English); or, twice as
// long at most, one going on with a breakdown in percentages ("Buses carry 23% of commuters, the
// metro 17%, and bicycles 9%." after "…46% of respondents drive alone."). It names no subject
// of its own: the sentence it completes brings it.
bool AddsAFigure(const std::string& text, const std::string& next);

// Whether `next`, after figures in `text`, adds a claim of the same kind ("另外", "此外") that
// `after_next` backs with figures: "另外，非 IT 侧的机电设备配套等也占到数据中心资本开支的一定比例。"
// then "其中，供电系统占比约 69%，制冷系统占比约 18%。" after the IT side's split.
bool AddsAParallelClaim(const std::string& text, const std::string& next, const std::string& after_next);

// Whether `next`, after figures in `text`, relates figures of its own to them as the whole of
// their parts or a part's share of the whole: "中国互联网巨头的整体资本支出…或接近翻倍，…增加到 4,000 亿-
// 6,000 亿元" after Tencent's, Alibaba's and ByteDance's budgets; "…自主研发游戏国内市场实际销售收入
// 181.16 亿元、同比-4.8%，占总收入比重为 80.8%…" after the market's 224.32 亿元. Quoted alone, the
// parts leave out the total a reader came for. Not a comparison opening on the whole ("相较于整体票房，
// 特效厅…": a part set against it, another subject). At most kMaxBackingChars code points.
bool GivesTheWholeOrAShare(const std::string& text, const std::string& next);

// Whether `claim`, a finding without figures, is borne out two sentences on by figures a source
// is named for ("根据 CB Insights 数据，2023 年中国 AI 市场的总投资额只有美国的 12%左右。"), `middle`
// saying more of the claim without figures between them ("中美互联网龙头持续加码 AI，但投资力度差异显
// 著。" then "美国企业在 AI“军备竞赛”中更加激进，也更加坚决。"). Without a named source the third
// sentence is as often a new point as the evidence: a claim whose next is another claim its own
// next backs brought off-topic pairs. Each of the three is at most as long as BacksWithAFigure's.
bool BorneOutBySourcedFigures(const std::string& claim, const std::string& middle, const std::string& evidence);

// Whether `text` gives one side and `next` the other ("这一方面是因为…导致特效厅需求受到冲击；" then
// "另一方面，行业下行期，…"; "On the one hand…" then "On the other hand…"): quoted, the first
// promises the second, which a reader would miss.
bool OneSideAnnouncesTheOther(const std::string& text, const std::string& next);

// Whether `text` is a clause a "；" ended, which the next sentence of its paragraph completes:
// "2024年我国特效厅数量为 9949个，占全国影厅总数的12.3%；" then "而 2024年特效厅产出的票房为 85.3亿元…".
// Quoted alone it ends mid-thought.
bool EndsOnAClause(const std::string& text);

// Whether `text` announces the list that follows it, ending on a colon: "我们认为 DeepSeek 对通信
// 行业的推动作用主要体现在两方面：" before "1) 强化国产算力产业链：…". Quoted, it brings the next
// sentence; without one it is not quoted at all.
bool AnnouncesAList(const std::string& text);

// Whether `after` follows `before` in the same paragraph (one space or line break between).
bool InSameParagraph(const PassageSentence& before, const PassageSentence& after);

// Whether `after` follows `before` in their passage with only spacing between (a line break or
// two and the odd space in PDF text).
bool FollowsDirectly(const PassageSentence& before, const PassageSentence& after);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_LEANING_H_
