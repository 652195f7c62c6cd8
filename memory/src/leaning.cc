#include "leaning.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>
#include <vector>

#include "answer_type.h"
#include "utf8_text.h"

namespace memory::internal {

namespace {

bool OpensWithAnExample(const std::string& text) { return ExampleOpener(text) > 0; }

// Whether `text` opens on its verb, its subject left in the sentence before: two Han characters
// and 了 ("实现了…"), also after the means ("通过算法、框架和硬件的协同设计，克服了…通信瓶颈" —
// quoted alone it never says who did) and an adverb ("借助 X，显著降低了…"). One-character verbs
// with 了 are left alone: "为了", "除了", "到了" open a phrase, not a predicate.
bool OpensOnItsVerb(std::string_view text) {
  constexpr size_t kMaxMeansBytes = 120;
  static constexpr std::string_view kMeans[] = {"通过", "借助", "凭借", "依托", "依靠", "利用"};
  static constexpr std::string_view kAdverbs[] = {"显著", "大幅", "有效", "进一步", "极大地", "大大",
                                                  "成功", "明显", "充分", "也", "还", "并"};
  std::string_view clause = text;
  for (std::string_view means : kMeans) {
    if (!clause.starts_with(means)) continue;
    const std::string_view comma = "，";
    const size_t at = clause.substr(0, kMaxMeansBytes).find(comma);
    if (at == std::string_view::npos) return false;
    clause.remove_prefix(at + comma.size());
    for (std::string_view adverb : kAdverbs) {
      if (clause.starts_with(adverb)) {
        clause.remove_prefix(adverb.size());
        break;
      }
    }
    break;
  }
  // Or on a verb that says what its subject achieves or offers, a clause a "；" parted from the
  // subject's: "实现多产品场景调用，可在全国 270多个骨干云池预部署…" is 联通云's, and quoted after 壁仞's
  // answer it read as 壁仞's.
  static constexpr std::string_view kVerbsOfASubjectBefore[] = {"实现", "提供", "兼顾", "助力", "具备"};
  for (std::string_view verb : kVerbsOfASubjectBefore) {
    if (clause.starts_with(verb)) return true;
  }
  const DecodedText head = DecodeUtf8(clause.substr(0, 12));  // three Han characters are 9 bytes
  const std::vector<uint32_t>& cp = head.code_points;
  return cp.size() >= 3 && IsCjk(cp[0]) && IsCjk(cp[1]) && cp[2] == U'了';
}

// Whether an English sentence's subject is "he" or "she" after an opening phrase ("Before joining
// Harbor Robotics she ran the automation division…"): the person is named in the sentence before.
bool PersonPronounAfterOpening(std::string_view text) {
  static constexpr std::string_view kOpenings[] = {"Before ", "After ", "When ", "While ", "Since ", "As ",
                                                   "Until ", "Once ", "Having ", "Although ", "Though ",
                                                   "Because ", "If ", "During ", "In ", "At "};
  bool opens = false;
  for (std::string_view opening : kOpenings) opens = opens || text.starts_with(opening);
  if (!opens) return false;
  for (std::string_view pronoun : {std::string_view(" he "), std::string_view(" she "), std::string_view(", he "),
                                   std::string_view(", she ")}) {
    if (text.find(pronoun) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

// How much a sentence can stand alone as a quote, out of the text around it: one that opens with
// a pronoun ("It", "This", "该", "其") leans on the sentence before it a little (× 0.85); one that
// opens with an example or a continuation ("For example", "例如", "此外", "但") is the second half
// of a thought whose first half the quote lacks (× 0.6) — "例如，AI 可以帮助处理违规审判" under a
// heading about agents reads as a non sequitur. So is a Chinese sentence that opens with the
// adverb of its verb, its subject left in the sentence before ("显著提升了训练效率，降低了训练成本。"
// quoted alone says nothing of what did) or on the verb itself ("通过 X，克服了…", "实现了…"), and
// one that is a list's later item ("其次", "Finally,").
// One that only adds ("此外", "同时", "Moreover") reads well after any sentence on its subject, so
// it leans as a pronoun's does (× 0.85): at 0.6, "同时，公司以仅 266.4 万 H800 GPU 小时……完成了
// DeepSeek-V3……的预训练" ranked below the full training's 278.8 万 hours for a question on the
// pre-training. "以字节为例，" (taking ByteDance as the example) opens an example as "例如" does: the
// OpenAI valuation's key findings quoted "以字节为例，…豆包 app 的月活跃用户达到了 7522 万" after the
// answer, its claim (inference outgrows training) left out. "前述…" and "上述…" (the one
// named before) point back as a pronoun does (a quote drops "前述报告显示，" where the rest stands
// alone: ConnectiveOpener). ("甚至在 1 月 27 日，英伟达…大跌 17%" (even)
// states its facts: counted as leaning, TSMC's 13% lost its place first.) One that sums up
// ("Together these techniques raise throughput three to five times") is the second half too: it
// followed a sentence on the price of inference, its techniques unnamed. So does one whose subject
// is "he" or "she" after an opening phrase ("Before joining Harbor Robotics she ran…"): it leans
// as a pronoun opener does; and one naming "the effect" or "the decline" of what the sentence
// before states ("Low stocks amplified the effect." had opened a section on commodities). So does one that opens on a time the sentence before it names
// ("全年累计票房约425亿元…" after "2024年，国内电影产业降温明显。": the whole of which year?), and
// one that points back past its opening ("通过这些方式，…", "有业内人士向记者表示，这一方面是因为…").
double StandsAlone(const std::string& text) {
  static constexpr std::string_view kContinuations[] = {
      "For example", "For instance", "However", "Therefore", "Moreover", "Also", "But ", "And ", "Together ",
      "Together,", "例如", "比如", "譬如",
      "此外", "另外", "同时", "因此", "所以", "但", "而", "不过", "然而", "对此", "与此同时",
      "显著", "大幅", "进一步", "从而", "进而", "并且", "极大",
      "Second,", "Secondly", "Third,", "Thirdly", "Finally,", "Lastly,", "On the other hand", "其次", "再次", "最后，",
      "第二，", "第三，", "另一方面", "最终，", "最后,"};
  // A list's first item ("首先，", "First,") announces the rest, which a quote alone lacks.
  static constexpr std::string_view kPronouns[] = {"It ", "Its ", "This ", "These ", "They ", "Their ", "He ", "She ",
                                                   "His ", "Her ",
                                                   "Such ", "其", "该", "这", "此", "它", "他们", "前述", "上述",
                                                   "上文", "前文", "如前所述", "正如上文",
                                                   "First,", "Firstly", "首先", "第一，", "一方面"};
  if (OnlyAdds(text)) return 0.85;
  if (OpensWithAnExample(text) || OpensOnItsVerb(text)) return 0.6;
  for (std::string_view opener : kContinuations) {
    if (text.compare(0, opener.size(), opener) == 0) return 0.6;
  }
  for (std::string_view opener : kPronouns) {
    if (text.compare(0, opener.size(), opener) == 0) return 0.85;
  }
  if (PersonPronounAfterOpening(text) || ReadsWithItsPredecessor(text) || ComparesWithItsPredecessor(text) ||
      NamesAnOutcomeBefore(text)) {
    return 0.85;
  }
  return 1.0;
}

bool StatesAFigureWithoutItsSubject(const std::string& text) {
  // (Eight for a measure that stands at an extreme, "月度平均发行数量位于2021年以来的最高值" — whose
  // licences? the sentence before says; six for one with its figure, where a longer name is more
  // often a subject's own: "电影票房收入为…".)
  constexpr size_t kMaxMeasureChars = 6, kMaxExtremeMeasureChars = 8;
  static constexpr std::u32string_view kMeasures[] = {U"率", U"额", U"量", U"收入", U"利润", U"营收", U"规模",
                                                      U"占比", U"人次", U"票价", U"市值", U"估值", U"票房",
                                                      U"增速", U"增幅", U"降幅"};
  // What may stand between the measure and its figures: "净利润增速分别为：游戏-35.8%、…" lists
  // them by item (whose sectors' profits? the sentence before names the industry and quarter).
  static constexpr std::u32string_view kVerbs[] = {U"分别为", U"分别是", U"分别达", U"为", U"达到", U"达"};
  const DecodedText head = DecodeUtf8(std::string_view(text).substr(0, 3 * (kMaxExtremeMeasureChars + 6)));
  const std::u32string cp(head.code_points.begin(), head.code_points.end());
  size_t han = 0;
  while (han < cp.size() && IsCjk(cp[han])) ++han;
  const bool at_an_extreme = text.find("最高") != std::string::npos || text.find("最低") != std::string::npos ||
                             text.find("新高") != std::string::npos || text.find("新低") != std::string::npos;
  for (size_t end = 2; end <= std::min(han, kMaxExtremeMeasureChars); ++end) {
    const std::u32string_view measure = std::u32string_view(cp).substr(0, end);
    bool named = false;
    for (std::u32string_view word : kMeasures) named = named || measure.ends_with(word);
    if (!named) continue;
    // A measure that names its scope names its subject: "中国市场规模为 500 亿元", "全国票房达 425 亿元".
    // (Not "行业" or "公司" opening it: "the industry", "the company" the sentence before names —
    // "行业毛利率为 67.8%…" after "2024 年一季度，传媒行业实现营收…".)
    bool scoped = false;
    for (std::u32string_view scope : {U"中国", U"全国", U"全球", U"国内", U"我国", U"海外", U"美国", U"市场"}) {
      scoped = scoped || measure.find(scope) != std::u32string_view::npos;
    }
    if (scoped) return false;
    std::u32string_view rest = std::u32string_view(cp).substr(end);
    if (at_an_extreme && (rest.starts_with(U"位于") || rest.starts_with(U"处于"))) return true;
    if (end > kMaxMeasureChars) continue;
    bool listed = false;
    for (std::u32string_view verb : kVerbs) {
      if (rest.starts_with(verb)) {
        listed = verb.starts_with(U"分别");
        rest.remove_prefix(verb.size());
        break;
      }
    }
    if (rest.starts_with(U"：") || rest.starts_with(U":")) rest.remove_prefix(1);
    if (!rest.empty() && rest.front() == U' ') rest.remove_prefix(1);
    if (listed) return true;
    // The measure's whole name, then its figure: "票房市占率 1.17%" (not "率先…" mid-word).
    if (end == han || rest.data() != std::u32string_view(cp).substr(end).data()) {
      if (!rest.empty() && ((rest.front() >= U'0' && rest.front() <= U'9') || rest.front() == U'+' || rest.front() == U'-')) {
        return true;
      }
    }
  }
  return false;
}

bool NamesWhatCameBefore(const std::string& text) {
  // And "另一个" / "另外一个", which presuppose the first one ("CINITY 系统的另外一个核心优势是高帧率。").
  static constexpr std::string_view kDemonstratives[] = {"这一", "这种", "这些", "上述", "前述", "此类", "该类",
                                                         "另一个", "另外一个", "上文", "前文", "如前所述"};
  std::string_view clause(text);
  for (std::string_view comma : {std::string_view("，"), std::string_view(","), std::string_view("；")}) {
    clause = clause.substr(0, clause.find(comma));
  }
  for (std::string_view d : kDemonstratives) {
    const size_t at = clause.find(d);
    if (at != std::string_view::npos && (at > 0 || d.starts_with("另"))) return true;
  }
  return false;
}

bool ExplainsItsPredecessor(const std::string& text) {
  static constexpr std::string_view kReasons[] = {"主要原因", "原因在于", "原因是", "究其原因", "这是因为", "其原因"};
  static constexpr std::string_view kAttributions[] = {"我们认为", "我们判断", "笔者认为", "业内人士认为", "分析认为"};
  std::string_view rest(text);
  for (std::string_view said : kAttributions) {
    if (rest.starts_with(said)) {
      rest.remove_prefix(said.size());
      break;
    }
  }
  // And "…表示，" / "…认为，" within the opening, as PointsBackAfterItsOpening reads them.
  constexpr size_t kMaxAttributionBytes = 48;
  for (std::string_view said : {std::string_view("表示，"), std::string_view("认为，"), std::string_view("指出，")}) {
    const size_t at = rest.substr(0, kMaxAttributionBytes).find(said);
    if (at != std::string_view::npos) {
      rest.remove_prefix(at + said.size());
      break;
    }
  }
  while (rest.starts_with("，") || rest.starts_with(" ")) rest.remove_prefix(rest.starts_with(" ") ? 1 : 3);
  for (std::string_view reason : kReasons) {
    if (rest.starts_with(reason)) return true;
  }
  return false;
}

bool NamesAnOutcomeBefore(const std::string& text) {
  static constexpr std::string_view kOutcomes[] = {
      "effect", "impact", "trend", "rise", "fall", "increase", "decrease", "decline", "drop", "surge", "slump", "jump",
      "shortage", "shortfall", "problem", "change", "shift", "gap", "damage", "slowdown", "downturn", "rally"};
  // What says of what, or where, right after the noun.
  static constexpr std::string_view kSaysOfWhat[] = {"of", "in", "on", "from", "to", "for", "that", "which", "between",
                                                     "at", "across", "among", "caused", "seen", "since"};
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view determiner : {std::string_view("the "), std::string_view("this "), std::string_view("that "),
                                      std::string_view("these "), std::string_view("those ")}) {
    for (size_t at = lower.find(determiner); at != std::string::npos; at = lower.find(determiner, at + 1)) {
      if (at > 0 && std::isalpha(static_cast<unsigned char>(lower[at - 1]))) continue;  // ("breathe ")
      const size_t noun = at + determiner.size();
      size_t end = noun;
      while (end < lower.size() && std::isalpha(static_cast<unsigned char>(lower[end]))) ++end;
      std::string_view word = std::string_view(lower).substr(noun, end - noun);
      if (word.ends_with("s") && word != "gas") word.remove_suffix(1);  // ("the gains")
      bool outcome = false;
      for (std::string_view o : kOutcomes) outcome = outcome || word == o;
      if (!outcome) continue;
      // The word after it: none (the sentence or a clause ends), or one that does not say of what.
      size_t next = end;
      while (next < lower.size() && lower[next] == ' ') ++next;
      size_t next_end = next;
      while (next_end < lower.size() && std::isalpha(static_cast<unsigned char>(lower[next_end]))) ++next_end;
      const std::string_view after = std::string_view(lower).substr(next, next_end - next);
      bool says = false;
      for (std::string_view w : kSaysOfWhat) says = says || after == w;
      if (!says) return true;
    }
  }
  return false;
}

bool ReadsWithItsPredecessor(const std::string& text) {
  return OpensOnItsPredecessorsTime(text) || PointsBackAfterItsOpening(text) || StatesAFigureWithoutItsSubject(text) ||
         NamesWhatCameBefore(text) || ExplainsItsPredecessor(text);
}

bool ComparesWithItsPredecessor(const std::string& text) {
  if (text.find(" than ") != std::string::npos) return false;
  // The comparatives figures are compared in (not any word ending in "-er": "still prefer",
  // "still under review", "even after the drop").
  static constexpr std::string_view kComparatives[] = {
      "more",   "less",    "fewer",   "further", "faster", "slower",   "higher",  "lower",  "larger",
      "smaller", "bigger", "better",  "worse",   "cheaper", "costlier", "stronger", "weaker", "greater",
      "longer", "shorter", "steeper", "sharper", "wider",  "narrower", "deeper",  "earlier", "later"};
  for (std::string_view degree : {std::string_view(" even "), std::string_view(" still ")}) {
    for (size_t at = text.find(degree); at != std::string::npos; at = text.find(degree, at + 1)) {
      size_t end = at + degree.size();
      while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
      const std::string_view word = std::string_view(text).substr(at + degree.size(), end - at - degree.size());
      for (std::string_view comparative : kComparatives) {
        if (word == comparative) return true;
      }
    }
  }
  return false;
}

bool OpensOnItsPredecessorsTime(const std::string& text) {
  // (And "当时" (then): "当时由于国内仅有十多个 IMAX 影厅，《阿凡达》IMAX 版本一度一票难求。" was quoted
  // without "2010年《阿凡达》在国内上映…", which says when.)
  static constexpr std::string_view kTimes[] = {"全年", "同年", "当年", "该年", "次年", "当月", "同月",
                                                "当日", "当天", "同日", "同期", "当时", "彼时", "那时"};
  for (std::string_view time : kTimes) {
    if (text.starts_with(time)) return true;
  }
  return false;
}

bool PointsBackAfterItsOpening(const std::string& text) {
  static constexpr std::string_view kDemonstratives[] = {"这", "此", "上述", "以上", "前述"};
  auto points_back = [&](std::string_view rest) {
    while (rest.starts_with(" ")) rest.remove_prefix(1);
    for (std::string_view d : kDemonstratives) {
      if (rest.starts_with(d)) return true;
    }
    return false;
  };
  const std::string_view view(text);
  // A means, a ground or a time taken from the sentence before: "通过这些方式，", "在此基础上，",
  // "基于此，", "由于这一原因".
  static constexpr std::string_view kPrepositions[] = {"通过", "借助", "凭借", "基于", "依托", "依靠", "利用", "在",
                                                       "由于", "因为", "随着", "对于", "根据", "按照", "鉴于"};
  for (std::string_view preposition : kPrepositions) {
    if (view.starts_with(preposition) && points_back(view.substr(preposition.size()))) return true;
  }
  // A date, then a pronoun for what the sentence before named: "2月 5日，该公司股价上涨11.19%。"
  // (which company? the sentence before names 海光信息).
  constexpr size_t kMaxDateBytes = 32;
  if (const size_t comma = view.substr(0, kMaxDateBytes).find("，"); comma != std::string_view::npos && comma > 0) {
    bool date = true, digit = false;
    for (uint32_t cp : DecodeUtf8(view.substr(0, comma)).code_points) {
      digit = digit || (cp >= '0' && cp <= '9');
      date = date && ((cp >= '0' && cp <= '9') || cp == ' ' || cp == U'年' || cp == U'月' || cp == U'日' || cp == U'号');
    }
    date = date && digit;
    std::string_view rest = view.substr(comma + std::string_view("，").size());
    while (rest.starts_with(" ")) rest.remove_prefix(1);
    for (std::string_view pronoun : {"该", "其", "它", "他", "她", "这", "此"}) {
      // ("其他公司…", "其中…" name no one before.)
      if (date && rest.starts_with(pronoun) && !rest.starts_with("其他") && !rest.starts_with("其中") &&
          !rest.starts_with("其余")) {
        return true;
      }
    }
  }
  // A short subject, a copula, then "该" for what the sentence before named: "中国为该新规中定义的
  // 第三类国家（图表 22），…" (which rule? the sentence before: "今年 1 月份，美国政府公布人工智能（AI）
  // 芯片管制新规…").
  {
    constexpr size_t kMaxSubjectChars = 4;
    const DecodedText head = DecodeUtf8(view.substr(0, 3 * (kMaxSubjectChars + 4)));
    size_t han = 0;
    while (han < head.code_points.size() && han <= kMaxSubjectChars && IsCjk(head.code_points[han])) ++han;
    for (size_t subject = 1; subject < han && subject <= kMaxSubjectChars; ++subject) {
      const std::string_view after = view.substr(head.byte_offsets[subject]);
      for (std::string_view copula : {"为该", "是该", "属于该", "成为该"}) {
        if (after.starts_with(copula) && !after.substr(copula.size() - std::string_view("该").size()).starts_with("该年")) return true;
      }
    }
  }
  // Someone's words or data on what the sentence before told: "有业内人士向记者表示，这一方面是因为…",
  // "移动应用分析机构 SensorTower 的数据显示，其应用软件在 18 天内的下载量达到1600万次…" (whose? the
  // sentence before names DeepSeek).
  constexpr size_t kMaxAttributionBytes = 72;
  static constexpr std::string_view kSaid[] = {"表示，", "认为，", "指出，", "称，", "介绍，", "透露，", "显示，", "表明，"};
  for (std::string_view said : kSaid) {
    const size_t at = view.substr(0, kMaxAttributionBytes).find(said);
    if (at == std::string_view::npos) continue;
    std::string_view rest = view.substr(at + said.size());
    while (rest.starts_with(" ")) rest.remove_prefix(1);
    if (points_back(rest)) return true;
    for (std::string_view pronoun : {"该", "其", "它"}) {
      if (rest.starts_with(pronoun) && !rest.starts_with("其他") && !rest.starts_with("其中") && !rest.starts_with("其余") &&
          !rest.starts_with("其实")) {
        return true;
      }
    }
  }
  return false;
}

// Whether a leaning sentence only adds to what came before ("此外", "同时", "Moreover"): it reads
// well enough after any sentence on its subject, so its predecessor need not be quoted with it.
bool OnlyAdds(const std::string& text) {
  static constexpr std::string_view kAdditive[] = {"此外", "另外", "同时", "与此同时", "并且", "Moreover", "Also",
                                                   "And ", "In addition"};
  for (std::string_view opener : kAdditive) {
    if (text.compare(0, opener.size(), opener) == 0) return true;
  }
  return false;
}

size_t ExampleOpener(const std::string& text) {
  constexpr size_t kMaxExampleBytes = 48;
  const std::string_view kTake = "以", kExample = "为例";
  if (text.compare(0, kTake.size(), kTake) != 0) return 0;
  const size_t at = std::string_view(text).substr(0, kTake.size() + kMaxExampleBytes + kExample.size()).find(kExample);
  if (at == std::string_view::npos) return 0;
  const std::string_view rest = std::string_view(text).substr(at + kExample.size());
  for (std::string_view comma : {std::string_view("，"), std::string_view(",")}) {
    if (rest.starts_with(comma)) return at + kExample.size() + comma.size();
  }
  return 0;
}

size_t ConnectiveOpener(const std::string& text) {
  // Connectives that add or contrast: the rest says its fact without them. Not those that give
  // a reason, an example or an order ("因此", "例如", "其次"): their rest is a conclusion or an
  // instance of what came before.
  // (And those of a sequence: "紧接着，1 月 29 日，微软将 DeepSeek-R1 纳入 Azure AI Foundry 平台…" says
  // its date.)
  static constexpr std::string_view kConnectives[] = {"此外", "另外", "同时", "与此同时", "然而", "不过", "但是",
                                                      "紧接着", "随后", "接着",
                                                      "Moreover", "In addition", "Additionally", "Also", "However"};
  static constexpr std::string_view kCommas[] = {"，", ",", "、"};
  size_t end = 0;
  for (std::string_view opener : kConnectives) {
    if (text.compare(0, opener.size(), opener) != 0) continue;
    for (std::string_view comma : kCommas) {
      if (text.compare(opener.size(), comma.size(), comma) == 0) end = opener.size() + comma.size();
    }
    // A Chinese one before a Latin word keeps a PDF's space for its comma: "同时 Skywork-MoE 的总参数
    // 大小比 DeepSeekV2 的总参数大小要小 1/3…".
    const bool chinese = static_cast<unsigned char>(opener[0]) >= 0x80;
    // (Before a letter: "不过 3 天" is "only three days".)
    if (end == 0 && chinese && text.size() > opener.size() + 1 && text[opener.size()] == ' ' &&
        std::isalpha(static_cast<unsigned char>(text[opener.size() + 1]))) {
      end = opener.size() + 1;
    }
  }
  // A sequence's next step without its date ("随后，股价反弹8.9%") would read as a fact of its
  // own: dropped only before a date.
  for (std::string_view step : {std::string_view("紧接着"), std::string_view("随后"), std::string_view("接着")}) {
    if (end == 0 || text.compare(0, step.size(), step) != 0) continue;
    size_t rest = end;
    while (rest < text.size() && text[rest] == ' ') ++rest;
    if (rest >= text.size() || text[rest] < '0' || text[rest] > '9') end = 0;
  }
  // "前述报告显示，2024年，中影CINITY品牌特效厅的票房达到 2.49亿元…": what the report named before
  // shows, which the quote's citation names (a report, data, a survey, a study). So is what it
  // shows against the sentence before: "但报告显示，国内 IMAX影厅的票房已从2019年的24.3亿元降至…"
  // answered "2019年国内IMAX影厅票房是多少？" only after the praise of IMAX it contradicts.
  static constexpr std::string_view kBack[] = {"前述", "上述", "该", "但", "而", "然而", "不过"};
  static constexpr std::string_view kSources[] = {"报告", "数据", "调查", "调研", "研究", "统计"};
  static constexpr std::string_view kShows[] = {"显示，", "指出，", "表明，", "称，"};
  for (std::string_view back : kBack) {
    if (end != 0 || text.compare(0, back.size(), back) != 0) continue;
    for (std::string_view source : kSources) {
      if (text.compare(back.size(), source.size(), source) != 0) continue;
      for (std::string_view shows : kShows) {
        if (text.compare(back.size() + source.size(), shows.size(), shows) == 0) end = back.size() + source.size() + shows.size();
      }
    }
  }
  // A conclusion's connective before a sentence that names its own cause: "因此，在 DeepSeek 出现
  // 之前，市场普遍认为受制于最先进 AI 算力芯片的限制，中国的 AI 大模型能力与美国…存在差距。" says
  // why itself, and answered "为什么此前市场认为中国AI大模型能力与美国存在差距？" only once quoted
  // from "在"; leaning on "因此", it had not been quoted at all.
  static constexpr std::string_view kConclusions[] = {"因此", "所以", "因而"};
  for (std::string_view conclusion : kConclusions) {
    if (end != 0 || text.compare(0, conclusion.size(), conclusion) != 0) continue;
    for (std::string_view comma : kCommas) {
      if (text.compare(conclusion.size(), comma.size(), comma) == 0 &&
          NamesACause(std::string_view(text).substr(conclusion.size() + comma.size()))) {
        end = conclusion.size() + comma.size();
      }
    }
  }
  // "如下图统计所示，88%的参与者倾向于…": a pointer to a figure the quote does not show.
  static constexpr std::string_view kFigurePointers[] = {"如下图统计所示，", "如下图所示，", "如上图所示，", "如图所示，",
                                                         "如下表所示，", "如上表所示，", "如表所示，"};
  for (std::string_view pointer : kFigurePointers) {
    if (end == 0 && text.compare(0, pointer.size(), pointer) == 0) end = pointer.size();
  }
  // "而 2024年特效厅产出的票房为 85.3亿元…": a clause of its own after "而" and a space (PDF text
  // keeps the space where the clause a "；" ended continues); not "而是", "而且", "而言".
  const std::string_view kBut = "而";
  if (end == 0 && text.compare(0, kBut.size(), kBut) == 0 && text.size() > kBut.size() && text[kBut.size()] == ' ') {
    end = kBut.size();
  }
  if (end == 0) return 0;
  while (end < text.size() && text[end] == ' ') ++end;
  if (end >= text.size()) return 0;
  const unsigned char next = static_cast<unsigned char>(text[end]);
  if (next >= 'a' && next <= 'z') return 0;  // "Moreover, the…": a quote would open in lower case
  if (StandsAlone(text.substr(end)) < 1.0) return 0;
  return end;
}

bool LeansOnPredecessor(const std::string& text) { return StandsAlone(text) < 1.0 && !OnlyAdds(text); }

namespace {

// What a sentence is made of: whether a statement ends it (a full stop), its code points,
// ideographs and Latin words (a hyphen or an apostrophe goes on a word: "four-hour" is one), its
// digits, and how many of its runs of digits are figures rather than dates or names: a run is a
// year when it is four digits from 1900 to 2099 standing alone ("2025 年", "2025E"; not "2,000",
// "2025.5", "2025%"), a date's month or day before 月, 日 or 号, and part of a name after a Latin
// letter ("FP8", "H800", "GPT-4", "Q1").
struct SentenceMakeup {
  bool statement = false;
  size_t code_points = 0;
  int cjk = 0, words = 0, digits = 0;
  int figures = 0;  // besides dates and names
  // Of those, numbers (each counted once, "23.5%" too) that are percentages, and the rest.
  int percentages = 0, other_numbers = 0;
};
SentenceMakeup MakeupOf(const std::string& text) {
  const std::vector<uint32_t> cp = DecodeUtf8(text).code_points;
  SentenceMakeup m{.statement = text.ends_with("。") || text.ends_with("."), .code_points = cp.size()};
  auto digit = [&](size_t i) { return i < cp.size() && cp[i] >= '0' && cp[i] <= '9'; };
  auto latin = [&](size_t k) { return (cp[k] >= 'a' && cp[k] <= 'z') || (cp[k] >= 'A' && cp[k] <= 'Z'); };
  bool in_word = false;
  for (size_t k = 0; k < cp.size(); ++k) {
    if (latin(k) && !in_word) ++m.words;
    in_word = latin(k) || (in_word && (cp[k] == '-' || cp[k] == '\''));
    m.cjk += IsCjk(cp[k]) ? 1 : 0;
    m.digits += digit(k) ? 1 : 0;
  }
  for (size_t i = 0; i < cp.size();) {
    if (!digit(i)) {
      ++i;
      continue;
    }
    size_t end = i;
    while (digit(end)) ++end;
    const bool joined_before = i > 0 && (cp[i - 1] == ',' || cp[i - 1] == '.');
    const bool joined_after = end < cp.size() && (cp[end] == ',' || cp[end] == '.') && digit(end + 1);
    const bool percent = end < cp.size() && (cp[end] == '%' || cp[end] == U'％');
    const bool year = end - i == 4 && (cp[i] == '1' ? cp[i + 1] == '9' : cp[i] == '2' && cp[i + 1] == '0') &&
                      !joined_before && !joined_after && !percent;
    size_t after = end;
    while (after < cp.size() && cp[after] == ' ') ++after;
    const bool date = after < cp.size() && (cp[after] == U'月' || cp[after] == U'日' || cp[after] == U'号');
    const bool name = i > 0 && (latin(i - 1) || (cp[i - 1] == '-' && i > 1 && latin(i - 2)));
    if (!year && !date && !name) {
      ++m.figures;
      if (!joined_after) ++(percent ? m.percentages : m.other_numbers);
    }
    i = end;
  }
  return m;
}

// At most kShortCjk ideographs (and two Latin words) in Chinese, kShortWords words otherwise.
bool IsShort(const SentenceMakeup& m) { return m.cjk > 0 ? m.cjk <= kShortCjk && m.words <= 2 : m.words <= kShortWords; }

}  // namespace

bool AnnouncesNext(const std::string& text) {
  const SentenceMakeup m = MakeupOf(text);
  // (A figure says what it says; an English announcement is two words at least.)
  return m.statement && m.digits == 0 && IsShort(m) && (m.cjk > 0 || m.words >= 2);
}


bool BacksWithAFigure(const std::string& claim, const std::string& next) {
  const SentenceMakeup c = MakeupOf(claim), n = MakeupOf(next);
  return c.statement && n.statement && c.figures == 0 && n.figures > 0 && c.code_points <= kMaxClaimChars &&
         n.code_points <= kMaxBackingChars;
}

bool AddsAFigure(const std::string& text, const std::string& next) {
  const SentenceMakeup t = MakeupOf(text), n = MakeupOf(next);
  // Or a breakdown going on, percentages only and twice as long at most: "Buses carry 23% of
  // commuters, the metro 17%, and bicycles 9%." after "…46% of respondents drive alone."
  const bool breakdown = t.percentages > 0 && n.percentages >= 2 && n.other_numbers == 0 &&
                         (n.cjk > 0 ? n.cjk <= 2 * kShortCjk : n.words <= 2 * kShortWords);
  return t.statement && n.statement && t.figures > 0 && n.figures > 0 && (IsShort(n) || breakdown);
}

bool AddsAParallelClaim(const std::string& text, const std::string& next, const std::string& after_next) {
  return MakeupOf(text).figures > 0 && OnlyAdds(next) && BacksWithAFigure(next, after_next);
}

bool BorneOutBySourcedFigures(const std::string& claim, const std::string& middle, const std::string& evidence) {
  const SentenceMakeup c = MakeupOf(claim);
  // ("据此，…", "根据这些…" and "According to these figures" point back: no source.)
  const bool sourced = (evidence.starts_with("根据") || evidence.starts_with("据") ||
                        evidence.starts_with("According to ")) &&
                       !PointsBackAfterItsOpening(evidence) && !evidence.starts_with("据此") &&
                       !evidence.starts_with("According to these") && !evidence.starts_with("According to this") &&
                       !evidence.starts_with("According to them") && !evidence.starts_with("According to it");
  return sourced && c.statement && c.figures == 0 && c.code_points <= kMaxClaimChars &&
         BacksWithAFigure(middle, evidence);
}

bool GivesTheWholeOrAShare(const std::string& text, const std::string& next) {
  static constexpr std::string_view kWholeOrShare[] = {"整体", "总体", "合计", "总计", "占总", "比重",
                                                       " in total", " of the total", " overall", " combined"};
  static constexpr std::string_view kComparisonOpeners[] = {"相较", "相比", "与之相比", "Compared with",
                                                            "Compared to", "By contrast", "In contrast"};
  for (std::string_view opener : kComparisonOpeners) {
    if (next.starts_with(opener)) return false;
  }
  const bool whole = std::any_of(std::begin(kWholeOrShare), std::end(kWholeOrShare),
                                 [&](std::string_view marker) { return next.find(marker) != std::string::npos; });
  const SentenceMakeup t = MakeupOf(text), n = MakeupOf(next);
  return whole && t.statement && n.statement && t.figures > 0 && n.figures > 0 && n.code_points <= kMaxBackingChars;
}

bool OneSideAnnouncesTheOther(const std::string& text, const std::string& next) {
  const bool one_side = text.find("一方面") != std::string::npos || text.find("On the one hand") != std::string::npos ||
                        text.find("on the one hand") != std::string::npos;
  return one_side && (next.starts_with("另一方面") || next.starts_with("On the other hand"));
}

namespace {

// A word's letters in lower case, without the punctuation around it; a plural as its singular
// ("batteries" → "battery", "rules" → "rule"), so that either names the other.
std::string SingularWord(std::string_view word) {
  while (!word.empty() && !std::isalnum(static_cast<unsigned char>(word.back()))) word.remove_suffix(1);
  while (!word.empty() && !std::isalnum(static_cast<unsigned char>(word.front()))) word.remove_prefix(1);
  std::string out(word);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (out.size() > 4 && out.ends_with("ies")) return out.substr(0, out.size() - 3) + "y";
  if (out.size() > 4 && out.ends_with("s") && !out.ends_with("ss") && !out.ends_with("us") && !out.ends_with("is")) {
    out.pop_back();
  }
  return out;
}

// Whether a word before a noun reads as its modifier: a common adjective, or an adjective's or
// a participle's ending ("the annual report", "the installed base").
bool IsModifier(const std::string& word) {
  static constexpr std::string_view kAdjectives[] = {"new", "old", "recent", "latest", "large", "small", "big", "high",
                                                     "low", "entire", "overall", "remaining", "early", "late"};
  static constexpr std::string_view kEndings[] = {"al", "ive", "ous", "ic", "ful", "able", "ible", "ary", "ed"};
  if (std::find(std::begin(kAdjectives), std::end(kAdjectives), word) != std::end(kAdjectives)) return true;
  for (std::string_view ending : kEndings) {
    if (word.size() > ending.size() + 2 && word.ends_with(ending)) return true;
  }
  return false;
}

std::vector<std::string_view> SpaceSeparated(std::string_view text, size_t most) {
  std::vector<std::string_view> words;
  size_t at = 0;
  while (at < text.size() && words.size() < most) {
    while (at < text.size() && text[at] == ' ') ++at;
    const size_t end = std::min(text.find(' ', at), text.size());
    if (end > at) words.push_back(text.substr(at, end - at));
    at = end;
  }
  return words;
}

}  // namespace

bool TakesUpItsPredecessorsThing(const std::string& text, const std::string& predecessor) {
  // A quoted name opening it that the sentence before introduced: "“天工 3.0”在语义理解…能力实现飞升"
  // after "公司发布“天工 3.0”大模型…" (which one? what is it?).
  constexpr std::string_view kOpen = "“", kClose = "”";
  constexpr size_t kLongestName = 24 * 3;
  if (text.starts_with(kOpen)) {
    const size_t close = text.find(kClose, kOpen.size());
    if (close != std::string::npos && close > kOpen.size() && close - kOpen.size() <= kLongestName) {
      return predecessor.find(text.substr(0, close + kClose.size())) != std::string::npos;
    }
    return false;
  }
  constexpr size_t kOpeningWords = 8, kShortestNoun = 4;
  const std::vector<std::string_view> words = SpaceSeparated(text, kOpeningWords + 1);
  std::set<std::string> before;
  for (std::string_view word : SpaceSeparated(predecessor, std::string::npos)) before.insert(SingularWord(word));
  const size_t opening = std::min(words.size(), kOpeningWords);
  for (size_t k = 0; k < opening; ++k) {
    if (SingularWord(words[k]) != "the") continue;
    // The noun right after "the", or after one modifier ("the new capacity").
    for (size_t n = k + 1; n < std::min(k + 3, opening); ++n) {
      const std::string_view word = words[n];
      const bool lower_case = std::all_of(word.begin(), word.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || ch == '-' || ch == ',' || ch == '.' || ch == ';';
      });
      if (!lower_case) break;
      const std::string noun = SingularWord(word);
      // (Words of time, rank and amount are no thing introduced: "the year", "the most", "the same".)
      static constexpr std::string_view kGeneral[] = {
          "year", "month", "week", "time", "period", "most", "same", "first", "last", "next", "other", "rest",
          "whole", "past", "future", "previous", "following", "current", "average", "total", "main", "best",
          "largest", "biggest", "lowest", "highest", "world", "end", "start", "beginning"};
      if (std::find(std::begin(kGeneral), std::end(kGeneral), noun) != std::end(kGeneral)) continue;  // a modifier
      const bool defined_here = n + 1 < words.size() && (words[n + 1] == "of" || words[n + 1] == "for");
      if (noun.size() >= kShortestNoun && !defined_here && before.contains(noun)) return true;
      if (!word.empty() && !std::isalpha(static_cast<unsigned char>(word.back()))) break;  // the phrase ends
      // Past a modifier only: after a noun comes its verb ("the company said" after "Acme said…").
      if (!IsModifier(noun)) break;
    }
  }
  return false;
}

bool EndsOnAClause(const std::string& text) { return text.ends_with("；") || text.ends_with(";"); }

bool AnnouncesAList(const std::string& text) { return text.ends_with("：") || text.ends_with(":"); }

bool InSameParagraph(const PassageSentence& before, const PassageSentence& after) {
  return before.end <= after.start && after.start - before.end <= 1;
}

bool FollowsDirectly(const PassageSentence& before, const PassageSentence& after) {
  constexpr uint64_t kAdjacent = 3;
  return before.end <= after.start && after.start - before.end <= kAdjacent;
}

}  // namespace memory::internal
