-- The built-in `report` plan: outline → search → draft → revise, then a Markdown report whose
-- every [n] points at a retrieved passage listed under References.
--
-- Inputs (JSON object):
--   topic            string, required, at most 500 characters: what the report is about; its
--                    language (Chinese or English) is the report's language.
--   collection       string, required: the memory collection to search.
--   max_sections     integer 2..8, default 4.
--   passages         passages kept per section, 1..12, default 6.
--   web              boolean, default false: also call the web_search tool per section when
--                    the daemon has one.
--   style            "extractive", "abstractive" or "auto" (default): how sections are written.
--                    Extractive: every sentence is quoted verbatim from a retrieved passage and
--                    cited to it (the quote constraint; the model chooses which sentences, in
--                    what order, and when to stop); headings come from the sources. Abstractive:
--                    the model writes cited free text. Auto: extractive when the model's
--                    directory declares it (agentd_model.json, as the shipped default model
--                    does), abstractive for any other checkpoint.
--   sentences        most sentences per section in extractive style, 2..12, default 4.

local function is_chinese(text)
  -- Any CJK Unified Ideograph (U+4E00..U+9FFF: UTF-8 lead bytes E4..E9).
  return text:find("[\228-\233][\128-\191][\128-\191]") ~= nil
end

local function clip(text, max_chars)
  if utf8.len(text) == nil or utf8.len(text) <= max_chars then return text end
  return text:sub(1, utf8.offset(text, max_chars + 1) - 1) .. "…"
end

local function trim(text)
  return (text:gsub("^%s+", ""):gsub("%s+$", ""))
end

local L = {
  en = {
    system = "You are a careful research analyst. You write clear, factual reports grounded only in the sources you are given.",
    outline = "Write the outline of a research report on the topic below as JSON: a title and %d to %d sections, each with a heading and the question the section answers.\n\nTopic: %s\n\nNotes from the collection:\n%s",
    queries = "Report: %s\nSection: %s (%s)\n\nPropose up to 3 short search queries that would find evidence for this section. Answer as JSON.",
    draft = "Write the section \"%s\" of a report titled \"%s\" (%s).\nUse only the numbered passages below and cite each claim with its passage number in square brackets, like [1]. Write one or two paragraphs.\n\n%s",
    no_passages = "Write the section \"%s\" of a report titled \"%s\" (%s) in one short paragraph. No sources were found, so say what evidence would be needed.",
    critique = "Here is a draft section and the passages it may cite.\n\nPassages:\n%s\n\nDraft:\n%s\n\nList the draft's problems briefly: claims without a citation, citations that do not support their claim, missing key facts from the passages.",
    rewrite = "Rewrite the draft section fixing the problems listed. Keep only claims the passages support and cite each with [n].\n\nPassages:\n%s\n\nDraft:\n%s\n\nProblems:\n%s\n\nRewritten section:",
    references = "References",
    span = "%s, characters %d–%d",
    issued_by = "%s, %s",
    table_source = "(Table quoted from [%d].)",
    sources_note = "Sources consulted",
    key_findings = "Key findings",
    nothing_found = "The collection \"%s\" has nothing on this topic: none of its passages shares a word that names something with it. Ingest documents on it, or ask about what the collection holds.",
    not_mentioned = "None of the sources found mentions %s: what follows is what they hold nearest to the question.",
    not_answered = "None of the sources found answers this directly: what follows is what they hold nearest to the question.",
    name_joiner = " or ",
    choose_headings = "Choose the %d headings, from the list allowed, that best divide a research report on the topic below into sections.\n\nTopic: %s\n\nCandidate headings:\n%s",
    quote_draft = "Write the section \"%s\" of a report titled \"%s\" by quoting the sentences below that best answer: %s\nCopy each chosen sentence exactly and cite it with its passage number in square brackets, like [1].\n\n%s",
    quote_revise = "Revise the section \"%s\" (%s). Keep the sentences that answer it, most important first, drop repetitions, and add any sentence below that the section misses. Copy each sentence exactly with its citation.\n\nSentences:\n%s\n\nDraft:\n%s\n\nRevised section:",
  },
  zh = {
    system = "你是一名严谨的研究分析师，只依据提供的资料撰写清晰、准确的研究报告。",
    outline = "请为下面的主题撰写研究报告提纲，以 JSON 输出：一个标题和 %d 到 %d 个章节，每个章节包含标题和该章节要回答的问题。\n\n主题：%s\n\n资料摘录：\n%s",
    queries = "报告：%s\n章节：%s（%s）\n\n请给出最多 3 个简短的检索词，用于查找本章节的证据。以 JSON 输出。",
    draft = "请撰写报告《%s》中的章节“%s”（%s）。\n只使用下面编号的资料，每个论断后用方括号标注资料编号，例如 [1]。写一到两段。\n\n%s",
    no_passages = "请用一小段话撰写报告《%s》中的章节“%s”（%s）。没有找到资料，请说明需要哪些证据。",
    critique = "下面是一段章节草稿及其可引用的资料。\n\n资料：\n%s\n\n草稿：\n%s\n\n请简要列出草稿的问题：没有引用的论断、引用与论断不符、遗漏资料中的关键事实。",
    rewrite = "请根据所列问题改写该章节。只保留资料支持的论断，并用 [n] 标注引用。\n\n资料：\n%s\n\n草稿：\n%s\n\n问题：\n%s\n\n改写后的章节：",
    references = "参考文献",
    span = "%s，第 %d–%d 字",
    issued_by = "%s《%s》",
    table_source = "（表格摘自资料 [%d]）",
    sources_note = "参考资料",
    key_findings = "核心结论",
    nothing_found = "资料库“%s”中没有关于这个主题的内容：没有任何段落与它有共同的实词。请先导入相关文档，或就资料库中已有的内容提问。",
    not_mentioned = "检索到的资料均未提及 %s，以下摘录的是资料中与问题最接近的内容。",
    not_answered = "检索到的资料未直接回答这一问题，以下摘录的是资料中与问题最接近的内容。",
    name_joiner = "、",
    choose_headings = "请从允许的列表中选出 %d 个标题，作为下面主题研究报告的章节标题。\n\n主题：%s\n\n候选标题：\n%s",
    quote_draft = "请撰写报告《%s》中的章节“%s”：从下列句子中摘录最能回答“%s”的句子。\n每句照原文摘录，并在句后用方括号标注资料编号，例如 [1]。\n\n%s",
    quote_revise = "请修改章节“%s”（%s）：保留回答该问题的句子，重要的在前，删去重复，并补充下列句子中遗漏的要点。每句照原文摘录并保留引用。\n\n句子：\n%s\n\n草稿：\n%s\n\n修改后的章节：",
  },
}

local function numbered(passages, max_chars)
  local lines = {}
  for i, p in ipairs(passages) do
    lines[#lines + 1] = string.format("[%d] %s%s", i, p.title ~= "" and (p.title .. ": ") or "", clip(p.text, max_chars))
  end
  return table.concat(lines, "\n")
end

-- Keeps [n] only for 1 <= n <= count; returns the text, the numbers cited, and how many of its
-- sentences carry at least one citation.
local function check_citations(text, count)
  local dropped = 0
  local cleaned = text:gsub("%[(%d+)%]", function(n)
    n = tonumber(n)
    if n >= 1 and n <= count then return nil end
    dropped = dropped + 1
    return ""
  end)
  local cited, seen = {}, {}
  for n in cleaned:gmatch("%[(%d+)%]") do
    n = tonumber(n)
    if not seen[n] then seen[n] = true; cited[#cited + 1] = n end
  end
  local sentences, with_citation = 0, 0
  -- (Each full-width stop marked by a line break: a character class is a set of bytes, and
  -- "。" shares its bytes with many other characters.)
  local marked = cleaned:gsub("。", "。\n"):gsub("！", "！\n"):gsub("？", "？\n")
  for sentence in (marked .. "\n"):gmatch("(.-[%.!?\n])") do
    if sentence:find("%S") then
      sentences = sentences + 1
      if sentence:find("%[%d+%]") then with_citation = with_citation + 1 end
    end
  end
  return cleaned, cited, dropped, sentences, with_citation
end

-- Character bigrams of a text (its code points pairwise), for near-duplicate checks; with
-- letters_only, of its letters and digits alone (punctuation and spaces skipped, so "AI+影视："
-- and "AI+影视: " read alike).
local function is_letter(cp)
  return (cp >= 48 and cp <= 57) or (cp >= 65 and cp <= 90) or (cp >= 97 and cp <= 122) or (cp >= 0x4E00 and cp <= 0x9FFF)
end
local function bigrams(text, letters_only)
  local set, count, previous = {}, 0, nil
  for _, cp in utf8.codes(text) do
    if not letters_only or is_letter(cp) then
      if previous ~= nil then
        local key = previous .. ":" .. cp
        if not set[key] then set[key] = true; count = count + 1 end
      end
      previous = cp
    end
  end
  return set, count
end

local function overlap(a, b)
  local sa, na = bigrams(a)
  local sb, nb = bigrams(b)
  local shared = 0
  for key in pairs(sa) do if sb[key] then shared = shared + 1 end end
  local union = na + nb - shared
  return union == 0 and 1 or shared / union
end

-- The numbers a text states, as runs of digits ("1,570" as 1570; "557.6" as 557 and 6, so that
-- "557 万美元" is among them).
local function numbers_of(text)
  local set = {}
  for run in text:gsub("(%d),(%d)", "%1%2"):gmatch("%d+") do set[run] = true end
  return set
end

-- Whether a states a number b does not: then it says something b does not, however many of its
-- words b holds ("10G光芯片国产化率约60%；" beside "…仅在2.5G和10G光芯片领域…，2.5G及以下速率光芯片
-- 国产化率超过90%；", the answer to "10G光芯片的国产化率是多少？", had gone as its restatement).
-- (Of their numbers, numbers_of: a report's checks compare each candidate with every sentence
-- taken, each read once.)
local function adds_a_number(of_a, of_b)
  for run in pairs(of_a) do
    if not of_b[run] then return true end
  end
  return false
end

-- The share of a's letter-and-digit bigrams that b has: near 1, a says nothing b does not.
local function contained(a, b)
  if adds_a_number(numbers_of(a), numbers_of(b)) then return 0 end
  local sa, na = bigrams(a, true)
  local sb = bigrams(b, true)
  if na == 0 then return 1 end
  local shared = 0
  for key in pairs(sa) do if sb[key] then shared = shared + 1 end end
  return shared / na
end

-- "text[n]text[m]" → {{text = ..., citation = n}, ...}; a unit cut short has no "[n]" and is left out.
local function quoted_units(text)
  local units = {}
  for sentence, n in text:gmatch("(.-)%[(%d+)%]") do
    sentence = trim(sentence)
    if sentence ~= "" then units[#units + 1] = {text = sentence, citation = tonumber(n)} end
  end
  return units
end

-- Numbers the cited passages across the whole report: returns the Markdown of a section with
-- its [n] rewritten, the references list growing as new passages are cited.
local function cite_across_report(text, passages, references, number_of, collection)
  return (text:gsub("%[(%d+)%]", function(n)
    local p = passages[tonumber(n)]
    local key = p.document .. "#" .. p.chunk_id
    if number_of[key] == nil then
      references[#references + 1] = {number = #references + 1, collection = p.collection or collection,
                                     document = p.document, chunk_id = p.chunk_id, title = p.title,
                                     source = p.source, offsets = p.offsets, text = p.text, issuer = p.issuer,
                                     issuer_name = p.issuer_name}
      number_of[key] = #references
    end
    return "[" .. number_of[key] .. "]"
  end))
end

-- Both styles end here: title, sections, references, stats.
-- A title, a source or a heading as the report prints it: one line (control characters as
-- spaces, C1 ones too), and square brackets as round ones. A document's or a web result's title
-- is whatever its author wrote: "Q3 results [2]" made a citation of another passage on the
-- References line, and a newline in it a "## Verified by the auditors" heading and entries
-- "[8]", "[9]" that cite nothing.
local function one_line(text)
  return (tostring(text):gsub("\194[\128-\159]", " "):gsub("%c", " "):gsub("%[", "("):gsub("%]", ")"))
end

-- A source's heading as the report shows it: without the source's own numbering ("3.1 电影市场：
-- 经营恢复正常" is the third chapter's first section there, not here; "一、", "（二）", "第三章",
-- "2. "). (Kept whole where it would leave nothing.)
-- (A Lua character class is a set of bytes: "[章节部分篇]" took the first byte of "类" in "第一类
-- 盟友…", a table cell read as a heading, and left the rest of the character as invalid UTF-8 in
-- the report. The Chinese forms are read a character at a time.)
local HEADING_NUMBERS = {"^%d%d?%.[%d%.]*%s+", "^%d%d?、%s*", "^%(%d+%)%s*"}
local CHINESE_NUMERALS = {}
for _, numeral in ipairs({"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}) do CHINESE_NUMERALS[numeral] = true end
-- A count in words ("十多个", "三家", "两款"): its numerals and the measure word after them.
local CHINESE_COUNT_NUMERALS = {["两"] = true, ["百"] = true, ["千"] = true, ["万"] = true, ["几"] = true}
for numeral in pairs(CHINESE_NUMERALS) do CHINESE_COUNT_NUMERALS[numeral] = true end
local COUNT_WORDS = {}
for _, word in ipairs({"个", "家", "款", "座", "台", "块", "部", "名", "位", "项", "条", "只", "种", "倍", "所", "支"}) do
  COUNT_WORDS[word] = true
end
-- (Not "一个", "一种", "几家": an article, or no number. As memory's answer types read a count.)
-- (Nor an ordinal, "《封神第二部》", nor hundreds without their multiplier: "百家号", "万一家里".)
local BARE_MULTIPLIERS = {["百"] = true, ["千"] = true, ["万"] = true}
local function has_chinese_count(text)
  if utf8.len(text) == nil then return false end  -- (utf8.codes would raise on a malformed text)
  local run, first, before, ordinal = 0, "", "", false
  for _, cp in utf8.codes(text) do
    local c = utf8.char(cp)
    if CHINESE_COUNT_NUMERALS[c] then
      if run == 0 then first, ordinal = c, before == "第" end
      run = run + 1
    elseif run > 0 and (c == "多" or c == "余") then
      -- ("十多个": still the count)
    else
      local article = run == 1 and (first == "一" or first == "几")
      if run > 0 and not article and not ordinal and not BARE_MULTIPLIERS[first] and COUNT_WORDS[c] then return true end
      run = 0
    end
    before = c
  end
  return false
end
local function unnumbered(heading)
  for _, pattern in ipairs(HEADING_NUMBERS) do
    local rest = heading:gsub(pattern, "", 1)
    if rest ~= heading and rest:find("%S") then return rest end
  end
  -- The first byte after the numerals from `at` (Chinese ones, and digits where `digits`).
  local function numerals_end(at, digits)
    while true do
      local c = heading:match("^[%z\1-\127\194-\244][\128-\191]*", at)
      if c == nil or c == "" or not (CHINESE_NUMERALS[c] or (digits and c:find("^%d$"))) then return at end
      at = at + #c
    end
  end
  local function after(at, words)
    for _, word in ipairs(words) do
      if heading:sub(at, at + #word - 1) == word then return at + #word end
    end
    return nil
  end
  local rest = nil
  local ends = numerals_end(1, false)
  if ends > 1 then rest = after(ends, {"、"}) end                                         -- "一、"
  if rest == nil and after(1, {"（"}) then
    local from = after(1, {"（"})
    ends = numerals_end(from, true)
    if ends > from then rest = after(ends, {"）"}) end                                    -- "（二）"
  end
  if rest == nil and after(1, {"第"}) then
    local from = after(1, {"第"})
    ends = numerals_end(from, true)
    if ends > from then rest = after(ends, {"章", "节", "部分", "篇"}) end                -- "第三章"
  end
  if rest ~= nil then
    local stripped = heading:sub(rest):gsub("^%s+", "")
    if stripped:find("%S") then return stripped end
  end
  return heading
end

local function assemble(ctx, T, title, headings, texts, passages_of, collection, sentences, cited_sentences)
  local references, number_of = {}, {}
  local parts = {"# " .. one_line(title), ""}
  for i, heading in ipairs(headings) do
    parts[#parts + 1] = "## " .. one_line(unnumbered(heading))
    parts[#parts + 1] = ""
    parts[#parts + 1] = cite_across_report(texts[i], passages_of[i], references, number_of, collection)
    parts[#parts + 1] = ""
  end
  parts[#parts + 1] = "## " .. T.references
  parts[#parts + 1] = ""
  for _, ref in ipairs(references) do
    local where = string.format(T.span, ref.document, ref.offsets[1], ref.offsets[2])
    -- A web source's address is worth showing; a local file's path repeats the document name.
    local link = (ref.source or ""):match("^https?://%S+$") and (" " .. one_line(ref.source)) or ""
    -- Who issued it comes first, as a citation names a research institute's report ("华龙证券研究所
    -- 《DeepSeek 重塑 AI 产业格局…》"), unless its title names it already.
    local named = ref.title ~= "" and ref.title or ref.document
    local issuer = type(ref.issuer) == "string" and ref.issuer or ""
    local issuer_name = type(ref.issuer_name) == "string" and ref.issuer_name ~= "" and ref.issuer_name or issuer
    if issuer ~= "" and not named:find(issuer_name, 1, true) then named = string.format(T.issued_by, issuer, named) end
    parts[#parts + 1] = string.format("[%d] %s%s (%s)", ref.number, one_line(named), link, one_line(where))
  end
  if #references == 0 then
    ctx.warn("the report cites no passages")
    -- Still say where the evidence was looked for.
    parts[#parts + 1] = T.sources_note .. ": " .. collection
  end
  return {
    media_type = "text/markdown",
    content = table.concat(parts, "\n") .. "\n",
    references = references,
    stats = {sentences = sentences, cited_sentences = cited_sentences},
  }
end

-- The hits of `lists`, in order, each chunk once, at most `limit`.
local function distinct_hits(lists, limit)
  local out, seen = {}, {}
  for _, list in ipairs(lists) do
    for _, hit in ipairs(list) do
      local key = hit.document .. "#" .. hit.chunk_id
      if not seen[key] and #out < limit then
        seen[key] = true
        out[#out + 1] = hit
      end
    end
  end
  return out
end

-- Retrieval for one section: each query's hits, merged without repeats, at most `limit` — the
-- first query's first (a heading's own passages before its topic's), or, `in_turn`, each query's
-- best, then each one's second, ... (the aspects of a topic, none crowding out another).
local function gather(ctx, collection, queries, limit, in_turn)
  local found = {}
  for q, query in ipairs(queries) do
    found[q] = ctx.memory.search{collection = collection, query = query, k = limit, whole_sentences = true}.hits
  end
  local order = {}
  if in_turn then
    for rank = 1, limit do
      for q = 1, #queries do order[#order + 1] = found[q][rank] end
    end
  else
    for q = 1, #queries do
      for _, hit in ipairs(found[q]) do order[#order + 1] = hit end
    end
  end
  return distinct_hits({order}, limit)
end

-- Whether `text` holds `name` (plainly), a Latin name as a word of its own ("Acme" not in
-- "Acmes"), as the ranker reads an issuer's name (memory/document_issuer.h NamesIssuer).
local function names_as_word(text, name)
  local from = 1
  while true do
    local b, e = text:find(name, from, true)
    if b == nil then return false end
    local before, after = text:sub(b - 1, b - 1), text:sub(e + 1, e + 1)
    local open = not name:find("^%w") or not before:find("^%w")
    local close = not name:find("%w$") or not after:find("^%w")
    if open and close then return true end
    from = b + 1
  end
end

-- A question naming a document's issuer ("华龙证券的报告列出了哪些风险提示？") is on that document:
-- the rest of its words are searched for there, and those hits come first. Searched for with the
-- name, the legal notices naming "华龙证券股份有限公司" had been found, not the report's risks (and
-- another brokerage's opened the report).
local function search_the_issuers(ctx, collection, topic, passages, limit)
  local documents, seen, name = {}, {}, nil
  for _, p in ipairs(passages) do
    -- (By the name a question calls it: "华龙证券" of 华龙证券研究所, "银河证券" of 中国银河证券研究院.)
    local issued_by = type(p.issuer_name) == "string" and p.issuer_name ~= "" and p.issuer_name or nil
    if issued_by ~= nil and names_as_word(topic, issued_by) and not seen[p.document] then
      seen[p.document] = true
      documents[#documents + 1] = p.document
      name = name or issued_by
    end
  end
  if name == nil or #topic > 480 then return passages end
  local from, to = topic:find(name, 1, true)
  local rest = trim(topic:sub(1, from - 1) .. topic:sub(to + 1))
  if rest == "" then return passages end
  local hits = ctx.memory.search{collection = collection, query = rest, k = limit, whole_sentences = true,
                                 documents = documents}.hits
  return distinct_hits({hits, passages}, limit)
end

local function web_passages(ctx, query, passages, limit)
  for _, tool in ipairs(ctx.tools.list()) do
    if tool.name == "web_search" then
      local web = ctx.tools.call("web_search", {query = query, max_results = 3})
      -- A search service's results are web pages' words: whatever is not a string is left out.
      local function text_of(v) return type(v) == "string" and v or nil end
      for _, r in ipairs(type(web.results) == "table" and web.results or {}) do
        local text = type(r) == "table" and (text_of(r.content) or text_of(r.snippet)) or nil
        if text ~= nil and #passages < limit then
          local url = text_of(r.url) or ""
          passages[#passages + 1] = {text = text, title = text_of(r.title) or "", source = url, document = url,
                                     chunk_id = "", offsets = {0, 0}, collection = ""}
        end
      end
    end
  end
end

-- How a question asks where, as subject_keys stems it: "Where is Harbor Robotics based?" is
-- answered by "headquartered in Rotterdam", which says none of these.
local WHERE_WORDS = {based = true, locat = true, situat = true, headquarter = true}

-- The measures a Chinese question of an amount asks, each with the words that name it: a
-- company's 收入 is its 营收, a market's 规模 its 市场空间 (as the sentence ranker reads them,
-- memory/src/answer_type.h NamesTheMeasureAsked).
local MEASURE_FAMILIES_ZH = {{"票房"}, {"收入", "营收", "销售额"}, {"利润", "净利", "盈利"}, {"规模", "市场空间", "市场容量"},
                             {"人次"}, {"票价"}, {"市值"}, {"估值"}, {"毛利率"}, {"国产化率"}, {"渗透率"},
                             {"份额", "市占率"}, {"参数"}}

-- Words before a Chinese question's measure that are not whose measure it asks: times, the
-- measure's qualifiers, words any holder takes and scopes (as memory/src/measures.h
-- MeasureHolderTerms reads them, with the scopes besides: here a holder is looked for as written).
-- Longer words first: "一季度" goes before "季度" can split it.
local NOT_THE_HOLDER_ZH = {"一季度", "二季度", "三季度", "四季度", "上半年", "下半年", "这几年", "近几年", "近年来", "季度",
                           "全年", "今年", "去年", "前年", "明年", "年初", "年末", "年底", "以来", "同期", "年度", "归母",
                           "扣非", "营业", "实际", "销售", "累计", "平均", "整体", "板块", "行业", "市场", "公司", "全国",
                           "中国", "国内", "我国", "全球", "请问", "根据", "截至", "关于", "激活", "总", "的", "年", "月",
                           "日", "号"}

-- The heads of the names a Chinese question asks a measure of: "2024年万达电影的票房收入是多少？" →
-- {"万达"}, "2024年一季度影视院线板块归母净利润同比增长多少？" → {"影视"}: each name's first two
-- characters, or its first Latin word. Empty when the question names no measure, or nothing but
-- times and such words before it.
local function measure_holder_heads_zh(topic)
  local first = nil
  for _, family in ipairs(MEASURE_FAMILIES_ZH) do
    for _, word in ipairs(family) do
      local at = topic:find(word, 1, true)
      if at ~= nil and (first == nil or at < first) then first = at end
    end
  end
  if first == nil then return {} end
  -- Each of `words` in `text` as a "|", found as plain text.
  local function as_breaks(text, words)
    for _, word in ipairs(words) do
      local out, at = {}, 1
      while true do
        local from, to = text:find(word, at, true)
        if from == nil then break end
        out[#out + 1] = text:sub(at, from - 1) .. "|"
        at = to + 1
      end
      text = table.concat(out) .. text:sub(at)
    end
    return text
  end
  -- Numbers become breaks (not a digit inside a name: "DeepSeek-V3", "910C"), then the words.
  -- (Full-width marks are several bytes: a class of them would split the characters that share
  -- those bytes, 亚 of 比亚迪, 伟 of 英伟达.)
  local before = ("|" .. topic:sub(1, first - 1)):gsub("([^%w%-])%d[%d%.%s]*", "%1|")
  before = as_breaks(as_breaks(before, NOT_THE_HOLDER_ZH), {"，", "、", "：", "？"})
  -- At most a few, each once: a topic is a question, and each head is looked for in passages.
  local heads, seen = {}, {}
  for piece in before:gmatch("[^|:?%s]+") do
    local latin = piece:match("^%a[%w%-]*")
    local head = nil
    if latin ~= nil and #latin >= 2 then
      head = latin:lower()
    elseif piece:byte(1) >= 0x80 and #piece >= 6 then
      head = piece:sub(1, 6)  -- two CJK characters (three bytes each)
    end
    if head ~= nil and not seen[head] and #heads < 8 then
      seen[head] = true
      heads[#heads + 1] = head
    end
  end
  return heads
end

-- The head of what a Chinese question of a count asks about when it names no measure: the thing
-- counted after "多少个" ("…有多少个IMAX影厅？": "imax"), else the holder before "有多少" past its
-- last "的" ("截至2024年底国内已开业的杜比影院有多少家？": "杜比", whose count the sources do not
-- give: CINITY's "国内已开业 CINITY 影厅180个" had answered it, unwarned). Empty when neither reads.
local COUNTERS_ZH = {"个", "家", "座", "台", "款", "名", "位", "部", "种", "只", "条", "项"}
local function counted_heads_zh(topic)
  local at = topic:find("多少", 1, true)
  if at == nil then return {} end
  local function head_of(piece)
    piece = piece:gsub("^%s+", ""):gsub("[%s%?]+$", "")
    while piece:sub(-#"？") == "？" do piece = piece:sub(1, -#"？" - 1):gsub("%s+$", "") end
    local latin = piece:match("^%a[%w%-]*")
    if latin ~= nil and #latin >= 2 then return latin:lower() end
    if (piece:byte(1) or 0) >= 0x80 and #piece >= 6 then return piece:sub(1, 6) end
    return nil
  end
  local after = topic:sub(at + #"多少")
  for _, counter in ipairs(COUNTERS_ZH) do
    if after:sub(1, #counter) == counter then
      local head = head_of(after:sub(#counter + 1))
      if head ~= nil then return {head} end
      break
    end
  end
  local before = topic:sub(1, at - 1)
  if before:sub(-#"有") == "有" then before = before:sub(1, -#"有" - 1) end
  local last_of = nil
  for from in before:gmatch("()的") do last_of = from end
  if last_of == nil then return {} end
  local head = head_of(before:sub(last_of + #"的"))
  return head ~= nil and {head} or {}
end

-- Words that make a heading ask for a quantity: a market's size, growth, share, revenue, a cost.
-- A company's figures an English question asks by name ("What was … revenue …?"): each is said
-- by its own word in the answer ("Revenue for the year reached $312 million").
-- (And what foretells them: "What was Harbor Robotics' order backlog at the end of 2023?" took the
-- year 2023 from "Revenue for the year reached $312 million, up 27% from $246 million in 2023.".)
local FINANCIAL_MEASURES_EN = {"revenue", "revenues", "sales", "profit", "profits", "income", "earnings", "margin",
                               "margins", "turnover", "ebitda", "backlog", "bookings"}
local MONTHS_EN = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                   "November", "December"}

local MEASURES = {"规模", "增速", "增长", "增长率", "占比", "份额", "收入", "营收", "出货量", "渗透率", "成本", "价格",
                  "估值", "投资额", "size", "growth", "share", "revenue", "rate", "volume", "cost", "price", "valuation"}

-- The words of a topic that frame it rather than name its subject: where ("中国", "全球"), what
-- is measured (MEASURES), how the question is put ("是多少", "影响", "how") and the joints
-- between them ("与", "的", "and"). "中国云计算市场规模" shares all of its words with
-- "中国AI Agent市场规模与增长" but the subject, so it is no section of that report.
local FRAMING_ZH = {"市场规模", "什么时候", "为什么", "是什么", "是多少", "中国", "我国", "国内", "全球", "世界",
                    "海外", "市场", "行业", "产业", "领域", "发展", "趋势", "现状", "前景", "影响", "分析", "研究",
                    "报告", "情况", "多少", "什么", "哪些", "如何", "怎样", "是否", "以及", "及其", "达到", "一度",
                    -- and a question's other function words: "游戏企业主要关注 AIGC 在哪些方面的应用"
                    -- headed a section of "DeepSeek 团队成员主要来自哪些高校？" through "主要" alone.
                    "主要", "来自", "哪家", "哪个", "哪里", "哪天", "哪年", "多久", "多大", "截至", "截止",
                    -- and how a change or a comparison is asked: "历年上座率变化趋势" headed a section
                    -- of "2024年一季度游戏板块归母净利润同比变化多少？" through "变化" alone.
                    "变化", "走势", "比较", "对比", "预测", "历年", "概况", "同比", "环比", "怎么", "这几年",
                    "近几年",
                    -- and the words a measure's movement or a time is told in: "2024 年原生 APP 整体月活跃
                    -- 用户规模及同比增速" headed a section of "2010-2022年全球数通光模块的整体功耗提升了多少倍？"
                    -- and two other questions on optics through "整体" alone.
                    "整体", "目前", "当前", "提升", "降低",
                    -- and demand, which any market has: "中国互联网龙头带动软件服务业务需求" headed a
                    -- section of "AI 数据中心的能耗与电力需求" through "需求" alone.
                    "需求",
                    "与", "和", "及", "的", "对", "在", "上", "中", "了", "是", "年", "月", "日"}
local FRAMING_EN = {}
for _, w in ipairs({"the", "and", "for", "with", "what", "how", "why", "when", "which", "who", "whom", "whose",
                    "where", "are", "was", "were", "does", "did", "has", "have", "had", "from", "into", "about",
                    "its", "their", "much", "many", "between", "market", "markets", "china", "chinese", "global",
                    "world", "industry", "trend", "trends", "impact", "effect", "effects", "analysis", "report",
                    "overview", "outlook",
                    -- what is asked of the subject, not the subject: "How did staff turnover change
                    -- at Harbor Robotics?" is no report on "What would change behaviour".
                    "change", "changed", "changes", "rise", "rose", "risen", "fall", "fell", "fallen",
                    "grow", "grew", "grown", "increase", "increased", "decrease", "decreased", "drop",
                    "dropped",
                    -- when, in time: "the arabica price at the end of 2024" is not about anything
                    -- else that ended in 2024 (an inference price "between early 2023 and the end
                    -- of 2024" joined that report's key findings through "end").
                    "end", "ended", "start", "started", "beginning", "early", "late", "year", "years",
                    "month", "months", "quarter", "week", "weeks", "day", "days", "today", "now", "last",
                    "next", "first", "since", "after", "before", "during", "until",
                    -- and the rest of a question's function words
                    "this", "that", "these", "those", "than", "then", "there", "here", "over", "under",
                    "per", "each", "all", "any", "some", "most", "more", "less", "other", "such", "only",
                    "also", "very", "can", "could", "would", "should", "will", "may", "might", "must",
                    "not", "you", "your", "our", "they", "them", "his", "her", "she", "him", "one", "two",
                    "been", "being", "use", "used", "make", "made", "get", "got", "give", "gave", "say",
                    "said", "tell", "name", "named", "names", "list", "describe", "explain", "part", "parts",
                    "kind", "kinds", "type", "types", "main", "mainly",
                    -- how a rate is asked: "…and how fast did it grow?" is on the revenue's growth,
                    -- which no sentence calls fast (the answer was left under a not-answered notice)
                    "fast", "faster", "quickly", "quick", "slowly",
                    -- "How does speculative decoding work?" is not on anything else that works:
                    -- a headcount "of whom about 700 work in engineering" and a survey of "how
                    -- people travel to work" joined its key findings.
                    "work", "works", "worked", "working", "across", "among", "within", "through",
                    "against", "toward", "towards",
                    -- how a comparison or a movement is asked: "How did robusta prices move compared
                    -- with arabica in 2024?" took an inference price "for a model of comparable
                    -- quality" into its key findings.
                    "compare", "compared", "comparing", "comparison", "versus", "move", "moved", "moves"}) do
  FRAMING_EN[w] = true
end
for _, w in ipairs(MEASURES) do if not is_chinese(w) then FRAMING_EN[w] = true end end

-- A Latin word as a key: its stem, which `names` matches where a word starts (and at most four
-- letters on), so that a question's "commuters" finds "How people commute", "installed" finds
-- "installations" and "batteries" finds "battery". At least five letters stay ("based",
-- "indeed", "evening" stay whole: "inde" would find "index", "even" "events").
-- (A final "e" too: "assemble" is "assembly"'s; the answer "…moved assembly to a contract
-- manufacturer in Gdansk." had not counted as naming what "Where does Harbor Robotics assemble its
-- machines?" asks.)
local STEM_SUFFIXES = {"ations", "ation", "ings", "ing", "ies", "ers", "es", "ed", "s", "e"}
local function stem(word)
  for _, suffix in ipairs(STEM_SUFFIXES) do
    local cut = #word - #suffix
    -- ("process", "analysis", "status" end in an "s" of their own)
    if cut >= 5 and word:sub(cut + 1) == suffix and not (suffix == "s" and word:find("[isu]s$") ~= nil) then
      return word:sub(1, cut)
    end
  end
  return word
end

-- What a topic is about, as keys that a heading on it contains: the topic's Latin words of three
-- letters or more and the character pairs of its Chinese words, once the framing is taken out
-- ("中国AI Agent市场规模与增长" → "agent"; "AI 大模型对传媒与影视行业的影响" → 大模, 模型, 传媒, 影视).
-- Second, the word each key is of, numbered: a Latin word is one key's, a run of Chinese
-- characters between framing words is all its pairs' ("芯片出口管制": 芯片, 片出, 出口, 口管, 管制).
local function subject_keys(topic)
  local text = topic:lower()
  local framing = {}
  for _, w in ipairs(FRAMING_ZH) do framing[#framing + 1] = w end
  for _, w in ipairs(MEASURES) do if is_chinese(w) then framing[#framing + 1] = w end end
  table.sort(framing, function(a, b) return #a > #b end)  -- "市场规模" before "规模"
  for _, w in ipairs(framing) do text = text:gsub(w, "|") end  -- no pattern characters in them
  -- (Each key once: "芯片封装芯片测试" names 芯片 twice, and a heading naming it alone would count
  -- as naming two of the word's pairs.)
  local keys, word_of, seen = {}, {}, {}
  local function add(key, word)
    if seen[key] then return end
    seen[key] = true
    keys[#keys + 1] = key
    word_of[#keys] = word
  end
  for word in text:gmatch("%a[%w]*") do
    if #word >= 3 and not FRAMING_EN[word] then add(stem(word), #keys + 1) end
  end
  local previous, word = nil, nil
  for _, cp in utf8.codes(text) do
    local cjk = cp >= 0x4E00 and cp <= 0x9FFF
    if cjk and previous ~= nil then
      word = word or -(#keys + 1)  -- (negative: apart from the Latin words' numbers)
      add(utf8.char(previous, cp), word)
    end
    if not cjk then word = nil end
    previous = cjk and cp or nil
  end
  return keys, word_of
end

-- Headings compare without case, spaces or hyphens: "DeepSeek-V3" is "DeepSeek V3".
local function squashed(text)
  return (text:lower():gsub("[%s%-]", ""))
end

-- Whether `text` names `key`: a Chinese pair anywhere (squashed: "大 模型" is "大模型"), a Latin
-- word where a word starts and at most four letters longer ("169 GWh of" does not name "who";
-- "International" does not name "interest"; hyphens dropped, "DeepSeek-V3" names "deepseekv3").
--
-- A key `stem` kept whole for its four letters before "ing" or "ed" ("joining", "joined") is also
-- named by another ending of those four ("joined" names "joining": "Where did Tomas Berg work
-- before joining Harbor Robotics?" was said to go unanswered beside "…Tomas Berg, joined in 2021
-- from a logistics private-equity fund."). Only by an ending, not the four letters alone or with
-- any other: "evening" is not named by "even", "indeed" not by "index".
local VERB_ENDINGS = {ing = true, ed = true, s = true, es = true, er = true, ers = true}
local function names(text, key)
  if key:find("^[%w]+$") then
    local lower = text:lower():gsub("%-", "")
    local at = 1
    while true do
      local b, e = lower:find("%f[%w]" .. key, at)
      if b == nil then break end
      local tail = lower:match("^%w*", e + 1)
      if #tail <= 4 then return true end
      at = e + 1
    end
    local verb = #key == 7 and key:sub(5) == "ing" and key:sub(1, 4) or #key == 6 and key:sub(5) == "ed" and key:sub(1, 4)
    if verb and verb:find("^%a+$") then
      for ending in lower:gmatch("%f[%w]" .. verb .. "(%w*)") do
        if VERB_ENDINGS[ending] then return true end
      end
    end
    return false
  end
  return squashed(text):find(key, 1, true) ~= nil
end

-- The candidates that name the topic's subject, in their order.
local function on_subject(candidates, keys)
  local found = {}
  for _, h in ipairs(candidates) do
    for _, key in ipairs(keys) do
      if names(h, key) then
        found[#found + 1] = h
        break
      end
    end
  end
  return found
end

-- A Chinese question's own subject, when it opens on one: "网易" of "网易在AI大模型上做了什么？",
-- "台积电股价" of "1月27日台积电股价跌了多少？" — the Han characters after any date, up to a word
-- that ends a subject ("在", "的", "是", "和", a question word). Not one the question opens with
-- a question word ("哪个模型是…") or its framing ("中国…", "国内…"). Its key is its first two
-- characters: "阿里云百炼" is mentioned where "阿里" is.
local SUBJECT_ENDS_ZH = {"在", "的", "是", "对", "和", "与", "及", "有", "于", "从", "将", "把", "被", "为", "比",
                         "向", "跟", "同", "等", "已", "曾", "还", "也", "都", "又", "就", "能", "会", "要", "可",
                         "最", "哪", "怎", "如何", "何", "多少", "几", "什么", "谁", "做", "用", "推出", "发布",
                         "上", "下", "今年", "去年", "近年", "目前", "主要", "预计", "公布", "宣布",
                         -- and what is asked of it: "台积电" of "台积电股价跌了多少？"
                         "股价", "股票", "市值", "估值", "营收", "收入", "销量", "跌", "涨", "一度"}
-- Openings that name no one: "2023年全年电影票房…", "全国累计票房…".
local SUBJECTLESS_ZH = {"全年", "全国", "今年", "去年", "前年", "上半", "下半", "年初", "年底", "近期", "近年"}
local QUESTION_OPENERS_ZH = {"哪", "什么", "谁", "为什么", "为何", "如何", "怎", "多少", "是否", "请", "有哪些", "有没有"}
local function asked_subject_zh(topic)
  local rest = topic
  repeat
    local before = rest
    rest = rest:gsub("^[%s%d%-/.]+", "")
    for _, unit in ipairs({"年", "月", "日", "号"}) do
      if rest:sub(1, #unit) == unit then rest = rest:sub(#unit + 1) end
    end
  until rest == before
  for _, opener in ipairs(QUESTION_OPENERS_ZH) do
    if rest:sub(1, #opener) == opener then return nil end
  end
  local subject, at = {}, 1
  for _, cp in utf8.codes(rest) do
    if cp < 0x4E00 or cp > 0x9FFF then break end
    local tail = rest:sub(at)
    local ends = false
    if #subject >= 2 then
      for _, word in ipairs(SUBJECT_ENDS_ZH) do
        if tail:sub(1, #word) == word then ends = true break end
      end
    end
    if ends or #subject >= 6 then break end
    subject[#subject + 1] = utf8.char(cp)
    at = at + #utf8.char(cp)
  end
  if #subject < 2 then return nil end
  local word = table.concat(subject)
  for _, opening in ipairs(SUBJECTLESS_ZH) do
    if word:sub(1, #opening) == opening then return nil end
  end
  for _, framing in ipairs(FRAMING_ZH) do
    if utf8.len(framing) >= 2 and word:sub(1, #framing) == framing then return nil end
  end
  return {word = word, key = subject[1] .. subject[2], literal = true}
end

-- A Chinese topic's names made of a Latin word and the Han characters it qualifies: "AI芯片" of
-- "2023年中国AI芯片行业规模是多少？" ("ai芯片", the word "ai" and the pair "芯片"), "910C芯片".
-- The pair alone names any kind of chip: "我国光芯片市场规模" headed a section of that question,
-- and the 光芯片 market's size followed its answer. Not a word followed by a particle or
-- another word's joint ("OpenAI的估值", "DeepSeek-R1 在"), nor digits alone ("2023年").
local HAN = "[\228-\233][\128-\191][\128-\191]"
local function qualified_names(topic)
  local out = {}
  if not is_chinese(topic) then return out end
  for word, first, second in topic:gmatch("%f[%w]([%w][%w%-%.]*) ?(" .. HAN .. ")(" .. HAN .. ")") do
    local qualifier = squashed(word)  -- "deepseekv3" of "DeepSeek-V3", "qwen2.5" of "Qwen2.5"
    local joint = false
    for _, w in ipairs(SUBJECT_ENDS_ZH) do joint = joint or first == w or (first .. second):sub(1, #w) == w end
    for _, w in ipairs(FRAMING_ZH) do joint = joint or (first .. second):sub(1, #w) == w end
    if qualifier:find("%a") and not joint then
      out[#out + 1] = {qualifier = qualifier, pair = first .. second, key = qualifier .. first .. second}
    end
  end
  return out
end

-- Whether `text` names a qualifier (qualified_names): where a word starts ("AI 算力芯片", "中国AI芯片",
-- "DeepSeek-V3" for "v3"; not "OpenAI" for "ai"), or one of three characters or more anywhere
-- once spaces and hyphens are dropped ("DeepSeek V3 模型" for "deepseekv3").
local function names_qualifier(text, qualifier)
  local lower, at = text:lower(), 1
  while true do
    local b, e = lower:find(qualifier, at, true)
    if b == nil then break end
    if b == 1 or not lower:sub(b - 1, b - 1):find("%w") then return true end
    at = b + 1
  end
  return #qualifier >= 3 and squashed(text):find(qualifier, 1, true) ~= nil
end

-- Whether a Chinese text names a kind of what the topic qualifies (qualified_names) and not the
-- topic's: "10G光芯片国产化率约60%；" (optical chips) under "国产 AI 芯片与 GPU 厂商对 DeepSeek 的适配"
-- opened its key findings beside the adaptations of AI chips. A kind is a character or a Latin
-- word written before the pair ("光芯片", "EML 芯片"); one that says whose or which ("国产芯片",
-- "本土芯片", "其芯片") is no other kind, and a text that also names the pair so, or the
-- qualifier anywhere, names the topic's.
local NO_KIND_BEFORE = {"国产", "本土", "中国", "国内", "我国", "自研", "自主", "高端", "先进", "主流", "算力", "相关",
                        "核心", "全球", "海外", "美国"}
local NO_KIND_CHAR = {"的", "等", "和", "与", "及", "其", "该", "此", "这", "个", "款", "类", "种", "为", "是", "、",
                      "，", "（", "“", "《", "些", "在", "年", "月", "日", "颗", "块", "枚", "张", "台", "套", "家",
                      "从", "向", "对", "于", "将", "把", "被", "给", "以", "用", "由", "至", "到", "或", "也", "都",
                      "还", "就", "又", "已", "有", "无", "各", "每", "本", "全", "之", "上", "下", "中", "内", "外",
                      "前", "后", "里", "新", "多", "少", "了", "让", "使", "买", "卖", "造", "做"}
local function names_only_another_kind(text, kinds)
  for _, q in ipairs(kinds) do
    if text:find(q.pair, 1, true) and not names_qualifier(text, q.qualifier) then
      local another, plain, at = false, false, 1
      while true do
        local b = text:find(q.pair, at, true)
        if b == nil then break end
        at = b + #q.pair
        local before = text:sub(math.max(1, b - 24), b - 1):gsub(" +$", "")  -- (what is written just before)
        local char = before:match("(" .. HAN .. ")$")
        local kind
        if char ~= nil then
          kind = true
          for _, w in ipairs(NO_KIND_CHAR) do kind = kind and char ~= w end
          for _, w in ipairs(NO_KIND_BEFORE) do kind = kind and before:sub(-#w) ~= w end
        else
          kind = before:find("%w$") ~= nil
        end
        if kind then another = true else plain = true break end
      end
      if another and not plain then return true end
    end
  end
  return false
end

-- The names a question asks about: "Tesla" of "What is Tesla's market share in grid batteries?".
-- In English its capitalised words past the first (not all-capital ones: "wat causd robusta
-- prices to RISE"), and any word with a capital or a digit inside ("DeepSeek", "GPT4"); in a
-- Chinese question its Latin words with a capital or a digit ("Tesla", "o1", not "hours").
-- A word is what spaces and punctuation bound ("Nestlé", "k1.5"), less a suffix that makes a
-- place an attribute ("Rotterdam-based"). Each with its key: lower case, no hyphens or dots, no
-- plural "s" ("GPUs" is "gpu"). A Chinese question's subject (asked_subject_zh) comes first,
-- with `literal` set: it is mentioned where its key is found as it is.
local NAME_SUFFIXES = {"-based", "-led", "-owned", "-made", "-backed", "-born", "-style", "-like", "-related",
                       "-linked", "-listed", "-era"}
local function asked_names(topic)
  local chinese = is_chinese(topic)
  local words = {}
  for word in topic:gmatch(chinese and "[%w][%w%-%.]*" or "[%w\128-\255][%w%-%.\128-\255]*") do
    word = word:gsub("[%-%.]+$", "")
    for _, suffix in ipairs(NAME_SUFFIXES) do
      if #word > #suffix and word:sub(-#suffix):lower() == suffix then word = word:sub(1, -#suffix - 1) end
    end
    if word ~= "" then words[#words + 1] = word end
  end
  -- A capital or a digit past its first character, with a small letter, in four characters or
  -- more: "kWh" is a unit, which "per kilowatt-hour" states.
  local function marked(word)
    return #word >= 4 and word:sub(2):find("[%u%d]") ~= nil and word:find("%l") ~= nil
  end
  local out, seen = {}, {}
  for k, word in ipairs(words) do
    local key = word:lower():gsub("[%-%.]", "")
    if #key > 3 and key:find("[^s]s$") then key = key:sub(1, -2) end
    local letters = select(2, word:gsub("%a", ""))
    local name
    if chinese then
      name = letters >= 1 and word:find("[%u%d]") ~= nil and not FRAMING_EN[key]
    else
      name = marked(word) or (k > 1 and letters >= 3 and word:find("^%u[%l\128-\255]") ~= nil and not FRAMING_EN[key])
    end
    if name and not seen[key] then
      seen[key] = true
      out[#out + 1] = {word = word, key = key}
    end
  end
  local subject = chinese and asked_subject_zh(topic) or nil
  if subject ~= nil then table.insert(out, 1, subject) end
  return out
end

-- Whether `text` mentions the name of `key` (asked_names): a word of it (lower case, hyphens and
-- dots dropped) starting with the key — with its first four letters and all but three more when
-- it is longer ("Korean" in "South Korea", "Vietnamese" in "Vietnam") — after any character but
-- a letter (PDF text glues names to figures: "获得了 2029Elo 的评级"); or, for a key of at most
-- five letters, the initials of consecutive words ("MoE": "mixture-of-experts model"). A
-- `literal` key (a Chinese subject's first two characters) is mentioned where it is found.
local function mentions(text, key, literal)
  if literal then return text:find(key, 1, true) ~= nil end
  local lower = text:lower()
  local stem = #key > 4 and key:sub(1, math.max(4, #key - 3)) or key
  if lower:gsub("[%-%.]", ""):find((key:find("^%d") and "%f[%w]" or "%f[%a]") .. stem) then return true end
  if #key <= 5 and key:find("^%a+$") then
    local initials = {}
    for word in lower:gmatch("%w+") do initials[#initials + 1] = word:sub(1, 1) end
    if table.concat(initials):find(key, 1, true) then return true end
  end
  return false
end

-- The framing words ending a Chinese text and what comes before them: "市场前景" and "光芯片" of
-- "光芯片市场前景"; "" and the text when it ends on none.
local function framing_tail(text)
  local tail, rest, again = "", trim(text), true
  while again do
    again = false
    for _, word in ipairs(FRAMING_ZH) do
      if (utf8.len(word) or 0) >= 2 and #rest > #word and rest:sub(-#word) == word then
        tail, rest, again = word .. tail, trim(rest:sub(1, -#word - 1)), true
        break
      end
    end
  end
  return tail, rest
end

-- A topic that joins aspects ("DeepSeek-V3 的训练成本与技术创新") is also searched for each one
-- on its own, the later ones with the first one's subject ("DeepSeek-V3 的技术创新"): searched
-- whole, the second aspect's passages crowd out the first's figures.
local function aspects(topic)
  local joined = topic:gsub("以及", "|"):gsub("与", "|"):gsub("及", "|"):gsub(" and ", "|")
  local parts = {}
  for part in joined:gmatch("[^|]+") do
    part = trim(part)
    if utf8.len(part) and utf8.len(part) >= 2 then parts[#parts + 1] = part end
  end
  if #parts < 2 then return {} end
  -- The subject: the first part up to its last "的" or "对" (or " of "/" on "), else all of it.
  local first, cut = parts[1], nil
  for _, mark in ipairs({"的", "对", " of ", " on "}) do
    local at = 1
    while true do
      local b, e = first:find(mark, at, true)
      if b == nil then break end
      if cut == nil or e > cut then cut = e end
      at = e + 1
    end
  end
  local subject = cut ~= nil and first:sub(1, cut) or (first .. " ")
  -- In English, a first part that ends on what is measured ("Grid battery storage growth")
  -- has the words before it as its subject: "… growth and economics" asks for the economics of
  -- grid battery storage, not of its growth.
  local head, last = first:match("^(.-%S)%s+(%a+)$")
  if cut == nil and head ~= nil and FRAMING_EN[last:lower()] then subject = head .. " " end
  -- Two Chinese subjects before one framing ("光模块与光芯片市场前景") share it: the aspects are
  -- "光模块市场前景" and "光芯片市场前景" (searched as "光模块" and "光模块 光芯片市场前景", the modules'
  -- market outlook, LightCounting's 28% a year, was never asked for).
  if #parts == 2 and cut == nil and is_chinese(topic) and not first:find("：", 1, true) then
    -- (Not a first part that is only framing itself: "市场与市场前景" asks one thing.)
    local tail, head = framing_tail(parts[2])
    if tail ~= "" and #subject_keys(head) > 0 and #subject_keys(first) > 0 and framing_tail(first) == "" and
       first .. tail ~= parts[2] then
      return {first .. tail, parts[2]}
    end
  end
  -- A part that is only framing ("市场规模与增长": growth is a measure of the same subject) is
  -- no aspect of its own.
  local out = {first}
  for k = 2, #parts do
    if #subject_keys(parts[k]) > 0 then out[#out + 1] = subject .. parts[k] end
  end
  return #out > 1 and out or {}
end

-- A topic that asks one thing of several listed subjects ("Supply bottlenecks and regulatory
-- risks across commodities, batteries and port automation", "光模块、光芯片与服务器的市场规模")
-- is answered subject by subject: a section each, searched for what is asked of it. Searched as
-- a whole, one subject's document filled the report (only batteries' constraints, none of
-- coffee's regulation or Harbor Robotics' lidar supplier). Returns {framing =, items = {...}}
-- or nil. A list is two to six distinct names of at most four words (twelve characters in
-- Chinese); two only after "across" or "among" ("in 2024: causes and impact…" is no list).
local LIST_WORDS_EN = {"across", "among", "in", "for", "of"}
local function listed_subjects(topic)
  local text = trim(topic):gsub("[%?%.]$", ""):gsub("？$", ""):gsub("。$", "")
  local function item_of(piece, chinese)
    piece = trim(piece)
    if chinese then
      -- "人才上的差距" → "人才"; not "线上" (a word of its own).
      for _, place in ipairs({"方面", "领域", "上"}) do
        if #piece > #place and piece:sub(-#place) == place and (utf8.len(piece:sub(1, -#place - 1)) or 0) >= 2 then
          piece = trim(piece:sub(1, -#place - 1))
          break
        end
      end
      -- (Plain finds: a byte class of "，" would match bytes of other ideographs.) A piece with
      -- its own "的" asks its own question ("光模块的功耗、光芯片的成本").
      for _, mark in ipairs({",", "，", ":", "：", ";", "；", "的", "？", "！", "　"}) do
        if piece:find(mark, 1, true) then return nil end
      end
      local n = utf8.len(piece)
      return n and n >= 1 and n <= 12 and (is_chinese(piece) or piece:find("%w")) and piece or nil
    end
    piece = piece:gsub("^[Tt]he ", "")
    if not piece:find("^%a[%a%- ]*$") or select(2, piece:gsub("%S+", "")) > 4 then return nil end
    -- (A list word inside it nests another list: "banks and insurers in Europe, Asia and Africa".)
    for _, word in ipairs(LIST_WORDS_EN) do
      if (" " .. piece .. " "):find(" " .. word .. " ", 1, true) then return nil end
    end
    return piece
  end
  local function distinct(items)
    local seen = {}
    for _, item in ipairs(items) do
      if seen[item:lower()] then return false end
      seen[item:lower()] = true
    end
    return true
  end
  if is_chinese(text) then
    local comma = text:find("、", 1, true)
    local de = comma and text:find("的", comma, true)
    if de == nil then return nil end
    local framing = trim(text:sub(de + #"的"))
    local pieces = {}
    for piece in (text:sub(1, de - 1) .. "、"):gmatch("(.-)、") do pieces[#pieces + 1] = piece end
    -- What the first item follows ("大模型在", "中美在") stays with every item's question.
    local prefix = ""
    local at = pieces[1]:find("在", 1, true)
    if at ~= nil and at > 1 then
      prefix = pieces[1]:sub(1, at + #"在" - 1)
      pieces[1] = pieces[1]:sub(at + #"在")
    end
    local last = pieces[#pieces]
    local cut, cut_end = nil, nil
    for _, word in ipairs({"以及", "和", "与", "及"}) do
      local b, e = last:find(word, 1, true)
      if b and (cut == nil or b < cut) then cut, cut_end = b, e end
    end
    if cut then
      pieces[#pieces] = last:sub(1, cut - 1)
      pieces[#pieces + 1] = last:sub(cut_end + 1)
    end
    local items = {}
    for _, piece in ipairs(pieces) do
      local item = item_of(piece, true)
      if item == nil then return nil end
      items[#items + 1] = item
    end
    if #items < 2 or #items > 6 or (utf8.len(framing) or 0) < 2 or not distinct(items) then return nil end
    return {framing = framing, items = items, prefix = trim(prefix), chinese = true}
  end
  -- ("between X and Y" relates the two: "the relationship between interest rates and inflation".)
  for _, word in ipairs(LIST_WORDS_EN) do
    local from = 1
    while true do
      local b, e = text:find(" " .. word .. " ", from, true)
      if b == nil then break end
      local framing, tail = trim(text:sub(1, b - 1)), text:sub(e + 1)
      local commas = tail:find(",", 1, true) ~= nil
      local items = {}
      for piece in (tail:gsub(",? and ", ",") .. ","):gmatch("(.-),") do
        local item = item_of(piece, false)
        if item == nil then items = nil break end
        items[#items + 1] = item
      end
      local enough = items ~= nil and #items >= 2 and #items <= 6 and distinct(items) and
                     (commas and #items >= 3 or word == "across" or word == "among")
      if enough and framing:find("%a") then return {framing = framing, items = items} end
      from = e
    end
  end
  return nil
end

-- What a listed topic asks of one of its subjects: "Supply bottlenecks … in batteries",
-- "光芯片的市场规模", "大模型在金融的应用".
local function asked_of(listed, item)
  if listed.chinese then return (listed.prefix or "") .. item .. "的" .. listed.framing end
  return listed.framing .. " in " .. item
end

-- A listed topic's outline: the key findings, then a section for each subject, headed by its
-- name. A document that names another listed subject and not this one stays out of this one's
-- section: searched for "… in commodities", Harbor Robotics' lidar supplier ranked first (no
-- source says "commodities"; the coffee market update is found by its likeness alone).
local function listed_outline(ctx, c, listed)
  -- (Any subject's search may find the passage naming another: each hit is read for each one.)
  local hits, keys_of = {}, {}
  for k, item in ipairs(listed.items) do
    keys_of[k] = subject_keys(item)
    for _, hit in ipairs(ctx.memory.search{collection = c.collection, query = asked_of(listed, item),
                                           k = 2 * c.per_section}.hits) do
      hits[#hits + 1] = hit
    end
  end
  local named_by = {}
  for k in ipairs(listed.items) do
    named_by[k] = {}
    for _, hit in ipairs(hits) do
      if #keys_of[k] > 0 and #on_subject({(hit.title or "") .. "\n" .. (hit.text or "")}, keys_of[k]) > 0 then
        named_by[k][hit.document] = true
      end
    end
  end
  local sections = {{heading = c.T.key_findings, question = c.topic}}
  for k, item in ipairs(listed.items) do
    -- (A subject with no key of its own, "EU", names nothing: no document is another's for it.)
    local elsewhere, seen = {}, {}
    for j in ipairs(#keys_of[k] > 0 and listed.items or {}) do
      for document in pairs(j ~= k and named_by[j] or {}) do
        if not named_by[k][document] and not seen[document] then
          seen[document] = true
          elsewhere[#elsewhere + 1] = document
        end
      end
    end
    table.sort(elsewhere)  -- (a checkpointed outline reads the same on every run)
    local heading = listed.chinese and item or (item:sub(1, 1):upper() .. item:sub(2))
    sections[#sections + 1] = {heading = heading, question = asked_of(listed, item), subject = item,
                               elsewhere = elsewhere}
  end
  return {title = trim(c.topic), sections = sections, listed = listed}
end

-- Extractive: headings from the sources, every sentence quoted from a passage and cited to
-- it by construction; the model chooses headings, sentences and their order.
local function extractive_outline(ctx, c)
  local T, topic, collection, lang = c.T, c.topic, c.collection, c.lang
  do
    local notes = ctx.memory.search{collection = collection, query = topic, k = 12, whole_sentences = true}
    local found = ctx.memory.sentences{query = topic, passages = notes.hits, k = 1, headings = 24}
    -- When no sentence shares a word that names something with the topic ("火星的首都是哪里？"
    -- over reports on AI), the best-ranked ones are there for the embedding model's vague
    -- likeness alone: a report of them would answer nothing. It says so instead.
    if found.sentences[1] == nil or not found.sentences[1].shares_terms then
      return {title = trim(topic), sections = {{heading = T.key_findings, question = topic}}, nothing_found = true}
    end
    local listed = listed_subjects(topic)
    if listed ~= nil and #listed.items <= c.max_sections - 1 then return listed_outline(ctx, c, listed) end
    -- Headings in the topic's language, none repeating the topic or each other.
    -- Sources in another language than the topic's leave too few: then theirs.
    -- The document the best sentence stands in answers the topic: its own short headings
    -- ("Satisfaction" over "Punctuality received the lowest score…") are on the subject whatever
    -- their words.
    local best_hit = notes.hits[found.sentences[1].passage]
    local answer_document = best_hit and best_hit.document or nil
    local candidates, seen, document_title, document_of = {}, {[trim(topic)] = true}, {}, {}
    for _, any_language in ipairs({false, true}) do
      for _, h in ipairs(found.headings) do
        -- Headings far from the topic (scores are scaled to the best one) make sections that
        -- drift; a shorter report beats a padded one.
        -- A line that lists names ("中际旭创、新易盛、光迅科技、华工科技、剑桥科技、天孚通信等", a
        -- table's cell) is no heading.
        local list = select(2, h.text:gsub("、", "")) >= 3 or h.text:find("等$") ~= nil
        if h.score >= 0.3 and not list and (any_language or is_chinese(h.text) == (lang == "zh")) and not seen[h.text] then
          seen[h.text] = true
          candidates[#candidates + 1] = h.text
          local hit = notes.hits[h.passage]
          document_title[h.text] = hit and hit.title or ""
          document_of[h.text] = hit and hit.document or nil
        end
      end
      if #candidates >= 2 then break end
    end
    for _, hit in ipairs(notes.hits) do  -- documents' titles when the passages had no heading
      local title = trim(hit.title or "")
      if #candidates == 0 and utf8.len(title) and utf8.len(title) >= 4 and not seen[title]
         and is_chinese(title) == (lang == "zh") and not title:find("%.%w+$") then
        seen[title] = true
        candidates[#candidates + 1] = title
      end
    end
    -- Headings that share only the framing with the topic are on another subject: only those
    -- that name the topic's subject make sections — or, a short one ("Prices", "Risks" in a
    -- Markdown report; four words at most: "What would change behaviour" is the half of "How
    -- commuters get to work and what would shift drivers to public transport" that it words
    -- otherwise), in English, whose document's title names it or whose document answers the
    -- topic. (Chinese headings are short by their spaces alone: "AI 大模型降本趋势明确" is
    -- two words, and the answer's report has headings on every subject it covers; four of the
    -- five Chinese reports' titles name DeepSeek, and "我国光芯片市场规模" headed sections of
    -- reports on AI chips and on chip export controls through theirs.)
    -- A question is answered by its key findings and the sections on what it asks: when it asks
    -- something of its subject (asked_keys below), a section headed by a document's own title is
    -- that document's overview (every question on Harbor Robotics ended on "Harbor Robotics:
    -- annual review 2024": what it makes, when it was founded, its lidar risk), not an answer.
    -- (A question on the subject itself, "What does Harbor Robotics make?", keeps it.)
    local asked = topic:find("%?%s*$") ~= nil or topic:find("？%s*$") ~= nil
    local keys, key_word = subject_keys(topic)
    -- And a question's sections are on what it asks of its subject: its keys that no source's
    -- title names ("团队", "成员", "高校" of "DeepSeek 团队成员主要来自哪些高校？", whose sources'
    -- titles all name DeepSeek), when it has such keys. Its subject alone made sections of
    -- "FP8 训练混合精度框架" and "DeepSeek 发展历程" there. So are a Chinese topic's: under
    -- "DeepSeek 应用的用户增长与下载表现", "DeepSeek-V3 实现多项评测成绩领先" named DeepSeek alone
    -- and made a section of benchmark scores. (Not an English topic's: its short headings,
    -- "Hardware" and "Quantization" under "Techniques that speed up language-model inference",
    -- name none of its words and are its sections.)
    local asked_keys = {}
    if asked or lang == "zh" then
      for _, key in ipairs(keys) do
        local titled = false
        for _, hit in ipairs(notes.hits) do
          if type(hit.title) == "string" and names(hit.title, key) then titled = true break end
        end
        if not titled then asked_keys[#asked_keys + 1] = key end
      end
      if #asked_keys == #keys then asked_keys = {} end  -- no title names its subject: as before
    end
    -- A pair the topic holds only in a qualified name (qualified_names: "芯片" of "AI芯片") names
    -- its subject in a heading that also names the qualifier: "中国 AI 算力芯片需求…", not
    -- "我国光芯片市场规模".
    local qualifiers = {}
    for _, q in ipairs(qualified_names(topic)) do
      qualifiers[q.pair] = qualifiers[q.pair] or {}
      table.insert(qualifiers[q.pair], q.qualifier)
    end
    for pair, list in pairs(qualifiers) do
      if select(2, squashed(topic):gsub(pair, "")) > #list then qualifiers[pair] = nil end  -- also unqualified
    end
    -- A heading names the topic's subject by two of a long Chinese word's pairs (five or more:
    -- some three words run together): "我国光芯片市场规模" named only 芯片 of "芯片出口管制" and
    -- headed a section of "中美 AI 竞争：芯片出口管制与投资差距". (A shorter word is named by any
    -- of its pairs: "电影市场：经营恢复正常" is on "2023年全年电影票房收入有多少亿元？".)
    local pairs_of_word = {}
    for k in ipairs(keys) do pairs_of_word[key_word[k]] = (pairs_of_word[key_word[k]] or 0) + 1 end
    local function heading_names(h, list, word_of)
      local named_of_word = {}
      for k, key in ipairs(list) do
        local named = false
        if names(h, key) then
          named = qualifiers[key] == nil
          for _, qualifier in ipairs(qualifiers[key] or {}) do named = named or names_qualifier(h, qualifier) end
        end
        if named then
          if word_of == nil then return true end
          local word = word_of[k]
          named_of_word[word] = (named_of_word[word] or 0) + 1
          if named_of_word[word] >= ((pairs_of_word[word] or 1) >= 5 and 2 or 1) then return true end
        end
      end
      return false
    end
    local named = {}
    for _, h in ipairs(candidates) do
      local short = select(2, h:gsub("%S+", "")) <= 4 and (utf8.len(h) or math.huge) <= 32
      if asked and #asked_keys > 0 and trim(document_title[h] or "") == trim(h) then
        -- left out
      elseif #asked_keys > 0 and not heading_names(h, asked_keys) then
        -- left out
      elseif heading_names(h, keys, key_word) or
         (short and not is_chinese(h) and (#on_subject({document_title[h] or ""}, keys) > 0 or
                                            (answer_document ~= nil and document_of[h] == answer_document))) then
        named[#named + 1] = h
      end
    end
    if #named > 0 then
      candidates = named
    else
      -- None says what the topic is about: the key findings alone, not a padded report. The
      -- heading closest to the topic made a section of whatever its words matched: "Why prices
      -- rose" (a coffee market update) over "Overall satisfaction with public transport rose…"
      -- under "Which aspect of public transport scored lowest?".
      candidates = {}
    end
    while #candidates > c.max_sections + 4 do table.remove(candidates) end
    local wanted = math.min(c.max_sections - 1, #candidates)
    local headings = {T.key_findings}
    if wanted > 0 then
      local lines = {}
      for i, h in ipairs(candidates) do lines[i] = "- " .. h end
      local reply = c.chat(string.format(T.choose_headings, wanted, topic, table.concat(lines, "\n")), {
        json_schema = {type = "object", required = {"sections"}, properties = {
          sections = {type = "array", minItems = wanted, maxItems = wanted, items = {enum = candidates}}}},
        max_tokens = 64 + 48 * wanted})
      local chosen = {}
      for _, h in ipairs(reply.json and reply.json.sections or {}) do
        if not chosen[h] then chosen[h] = true; headings[#headings + 1] = h end
      end
      for _, h in ipairs(candidates) do  -- the model repeated itself: the best-ranked others
        if #headings >= wanted + 1 then break end
        if not chosen[h] then chosen[h] = true; headings[#headings + 1] = h end
      end
    end
    local sections = {}
    for i, h in ipairs(headings) do
      sections[i] = {heading = h, question = i == 1 and topic or (h .. " " .. topic)}
    end
    return {title = trim(topic), sections = sections}
  end
end


-- The terms of a text, lower-cased: its Latin words and numbers ("pass", "1" of "pass@1") and
-- its Chinese character pairs (a lone character alone).
local function cell_terms(text)
  local terms = {}
  for word in text:lower():gmatch("[%w]+") do terms[#terms + 1] = word end
  local run = {}
  local function flush()
    if #run == 1 then terms[#terms + 1] = utf8.char(run[1]) end
    for k = 2, #run do terms[#terms + 1] = utf8.char(run[k - 1], run[k]) end
    run = {}
  end
  for _, cp in utf8.codes(text) do
    if cp >= 0x4E00 and cp <= 0x9FFF then run[#run + 1] = cp else flush() end
  end
  flush()
  return terms
end
-- The columns a question names whole: every term of the column's header is in the question
-- ("AIME 2024 pass@1" of "DeepSeek-R1-Distill-Qwen-32B 在 AIME 2024 上的 pass@1 是多少？", not
-- "AIME 2024 cons@64" nor "MATH-500 pass@1"; "DeepSeekV3" of "DeepSeek-V3和GPT-4的训练成本相比
-- 如何？"). nil when it names none, or all.
local function named_columns(header, question)
  local asked = {}
  for _, term in ipairs(cell_terms(question)) do asked[term] = true end
  -- And its hyphenated names as one word: "DeepSeek-V3" names the column "DeepSeekV3".
  for word in question:lower():gsub("%-", ""):gmatch("[%w]+") do asked[word] = true end
  local named, count = {}, 0
  for k = 2, #header do
    local terms = cell_terms(header[k])
    local whole = #terms > 0
    for _, term in ipairs(terms) do whole = whole and asked[term] == true end
    if whole then named[k] = true; count = count + 1 end
  end
  if count == 0 or count == #header - 1 then return nil end
  return named
end

-- Whether a table's rows give a figure where the question looks: a number in a column the
-- question names (all of them when it names none). R1's column of "-" under "DeepSeek-R1的训练用
-- 了多少H800 GPU小时？" gives none: V3's subjectless "完整训练仅需 278.8 万 H800 GPU 小时" above it had
-- stood unwarned as R1's, a table row counting as an answer.
--
-- A row under a header of years gives none for a year the header lacks: "2030年中国AI Agent市场规模
-- 预计是多少？" went unwarned beside the table of 2023 to 2028E.
local function header_lacks_the_year(header, question)
  local asked = question:match("%f[%d](20%d%d)%f[%D]") or question:match("%f[%d](19%d%d)%f[%D]")
  if asked == nil then return false end
  local years = 0
  for _, cell in ipairs(header) do
    local year = cell:match("^%s*((%d%d)%d%d)")
    if year ~= nil and (year:sub(1, 2) == "19" or year:sub(1, 2) == "20") then
      if year == asked then return false end
      years = years + 1
    end
  end
  return years >= 2
end

local function rows_give_a_figure(rows, question)
  for _, r in ipairs(rows) do
    local named = named_columns(r.header, question)
    if header_lacks_the_year(r.header, question) then named = {} end
    for k = 2, #r.cells do
      if (named == nil or named[k]) and r.cells[k]:find("%d") then return true end
    end
  end
  return false
end

local function asks_for_figures(heading)
  local lower = heading:lower()
  for _, word in ipairs(MEASURES) do
    if lower:find(word, 1, true) then return true end
  end
  return false
end

local function extractive(ctx, inputs, c, outline)
  if outline.nothing_found and not inputs.web then
    ctx.warn("nothing in collection " .. c.collection .. " on: " .. c.topic)
    return {media_type = "text/markdown",
            content = "# " .. one_line(outline.title) .. "\n\n" .. string.format(c.T.nothing_found, one_line(c.collection)) .. "\n",
            references = {}, stats = {sentences = 0, cited_sentences = 0}}
  end
  local T, topic, collection, lang = c.T, c.topic, c.collection, c.lang
  local max_sentences = c.max_sentences
  local separator = lang == "zh" and "" or " "
  local asked = topic:find("%?%s*$") ~= nil or topic:find("？%s*$") ~= nil
  -- A topic's report whose sources have no section on it has its key findings alone: they quote
  -- twice as many sentences (a report on "DeepSeek 应用的用户增长与下载表现" had five, and left
  -- out the downloads by country and day the sources give).
  -- (And the model quotes at least two more than a section's share, the plan filling up to them
  -- from the best-ranked: the model's context shows it four or five Chinese sentences.)
  local most_sentences = (#outline.sections == 1 and not asked) and 2 * max_sentences or max_sentences
  local least_sentences = most_sentences > max_sentences and max_sentences + 2 or 2

  -- Read once for every section: the topic's keys (subject_keys), the kinds of what it qualifies
  -- and whether it asks about risks.
  local topic_keys = subject_keys(topic)
  -- A sentence naming only another kind of what the topic qualifies is left out
  -- (names_only_another_kind), unless the topic also names it unqualified. A kind is a word the
  -- pair ends ("AI 芯片与…"), not one that goes on ("AI 资本开支": "中国互联网巨头的整体资本支出…或
  -- 接近翻倍" is on the topic, 整体 no kind of capital; "AI 大模型": 星火大模型 is one of them).
  local kinds = {}
  for _, q in ipairs(qualified_names(topic)) do
    local at = topic:find(q.pair, 1, true)
    local after = at and topic:sub(at + #q.pair):gsub("^ +", "") or ""
    local ends = after:find("^" .. HAN) == nil
    for _, list in ipairs({SUBJECT_ENDS_ZH, FRAMING_ZH, MEASURES}) do
      for _, w in ipairs(list) do ends = ends or after:sub(1, #w) == w end
    end
    if ends and select(2, squashed(topic):gsub(q.pair, "")) == 1 then kinds[#kinds + 1] = q end
  end
  -- A brokerage's risk notice ("**上海电影：**IP 开发业务进度不及预期，新 IP 开发成果不及预期…",
  -- "技术研发进展不及预期：如果…") answers a question on risks, not a report on the company's
  -- recovery, whose key findings it opened.
  local asks_risks = lang ~= "zh" or topic:find("风险", 1, true) ~= nil or topic:find("隐患", 1, true) ~= nil or
                     topic:find("不确定", 1, true) ~= nil or topic:find("不及预期", 1, true) ~= nil
  local function risk_notice(text)
    return select(2, text:gsub("不及预期", "")) >= 2 or text:find("不及预期：", 1, true) ~= nil or
           text:find("不及预期:", 1, true) ~= nil or text:find("风险提示", 1, true) ~= nil
  end

  local evidence = ctx.map("search", outline.sections, function(section, i)
    local queries = {section.heading, section.question}
    if i == 1 then
      queries = {topic}
      if outline.listed ~= nil then
        for _, item in ipairs(outline.listed.items) do queries[#queries + 1] = asked_of(outline.listed, item) end
      else
        for _, q in ipairs(aspects(topic)) do queries[#queries + 1] = q end
      end
      -- What a term is, asked in Chinese: also the way a definition is written ("AI Agent 是一种…的
      -- 智能体。", a passage the question alone ranked eighth of six kept, below the many that only
      -- name the term).
      local asked_what = trim(topic):gsub("？$", ""):gsub("%?$", "")
      local term = asked_what:match("^什么是(.+)$") or asked_what:match("^(.+)是什么$")
      if term ~= nil and #term >= 2 and #term <= 30 and not term:find("的", 1, true) then
        queries[#queries + 1] = term .. "是一种"
      end
    end
    local elsewhere = section.elsewhere ~= nil and #section.elsewhere > 0
    local passages = gather(ctx, collection, queries, elsewhere and 2 * c.per_section or c.per_section, i == 1)
    if i == 1 then passages = search_the_issuers(ctx, collection, topic, passages, c.per_section) end
    if elsewhere then  -- another listed subject's documents
      local other, kept = {}, {}
      for _, document in ipairs(section.elsewhere) do other[document] = true end
      for _, p in ipairs(passages) do
        if not other[p.document] and #kept < c.per_section then kept[#kept + 1] = p end
      end
      passages = kept
    end
    if inputs.web then web_passages(ctx, section.question, passages, c.per_section + 3) end
    if #passages == 0 then
      ctx.warn("no passages found for section \"" .. section.heading .. "\"")
      return {queries = queries, passages = passages, candidates = {}}
    end
    -- A heading's section quotes sentences on the heading's own subject, not ones that share
    -- only the topic's words with it. (Not a listed subject's, whose name is the topic's and
    -- need not be the sentence's: "Analysts point to fire safety and grid connection queues…"
    -- is on batteries by its document; its passages are already those on no other subject.)
    -- In Chinese, where a subject's name is in most sentences that are not on what is asked of
    -- it ("光模块加驱动 SerDes 的功耗占比在 40~45%" under "光模块的市场规模"), what is asked is the
    -- focus.
    local focus = i > 1 and section.heading or nil
    if section.subject ~= nil then focus = lang == "zh" and outline.listed.framing or nil end
    local found = ctx.memory.sentences{query = section.question, passages = passages, k = 2 * max_sentences + 4,
                                       headings = 0, rows = 3, focus = focus, background = focus and topic or nil}
    -- A heading that asks for a quantity ("中国云计算市场规模") is answered with figures: when
    -- some sentences state a number, those without one (cloud providers adopting a model, under
    -- the cloud market's size) are left out.
    local function figures_first(list, only)
      local with_figures, without = {}, {}
      for _, s in ipairs(list) do
        -- A number standing on its own ("37%", "2024 年"), not a name's digits ("O1", "H800").
        if s.text:find("%f[%w]%d") then with_figures[#with_figures + 1] = s else without[#without + 1] = s end
      end
      if #with_figures == 0 then return list end
      if not only then
        for _, s in ipairs(without) do with_figures[#with_figures + 1] = s end
      end
      return with_figures
    end
    local sentences = found.sentences
    -- (A listed subject's section asks what the topic asks: "光芯片的市场规模".)
    if i > 1 and asks_for_figures(section.subject ~= nil and section.question or section.heading) then
      sentences = figures_first(sentences, true)
    end
    -- The first section answers each aspect of a joined topic: the sentences ranked for the
    -- whole topic and for each aspect alone, taken in turn (an aspect that asks for a quantity,
    -- "训练成本", with its figures first), so the generic sentences that match every aspect a
    -- little do not crowd out the one that answers the first.
    if i == 1 and #queries > 1 then
      local lists = {sentences}
      for q = 2, #queries do
        local ranked = ctx.memory.sentences{query = queries[q], passages = passages, k = 2 * max_sentences + 4,
                                            headings = 0, rows = 0}.sentences
        lists[#lists + 1] = asks_for_figures(queries[q]) and figures_first(ranked, false) or ranked
      end
      -- (What a sentence tells of a difference asked is the whole topic's: "training" alone
      -- asks none.)
      local merged, seen, tells = {}, {}, {}
      for _, s in ipairs(sentences) do tells[s.text] = s.tells end
      for rank = 1, 2 * max_sentences + 4 do
        for _, list in ipairs(lists) do
          local s = list[rank]
          if s ~= nil and not seen[s.text] then
            seen[s.text] = true
            s.tells = tells[s.text]
            merged[#merged + 1] = s
          end
        end
      end
      -- (A difference's other side comes second, ahead of the aspects' best: "How do the costs of
      -- training and serving a language model differ?" took "Serving a large language model has
      -- become much cheaper…" of its second aspect, and training's side went unquoted.)
      local side = merged[1] ~= nil and merged[1].tells or nil
      if side == 1 or side == 2 then
        for k = 3, #merged do
          if merged[k].tells == 3 - side or merged[k].tells == 3 then
            table.insert(merged, 2, table.remove(merged, k))
            break
          end
        end
      end
      sentences = merged
    end
    -- Sentences far below the best one (scores are scaled to it) answer something else, and so,
    -- in a report in English, does one that names none of the topic's subject while its
    -- document's title does not either (a lidar supplier under a report on grid batteries,
    -- found by the word "risk"). Chinese subjects are pairs of characters that many unrelated
    -- sentences share: there the filter only let other noise in (BENCHMARKS.md).
    -- But under a heading of a Chinese report the subject's Latin names count ("AI Agent" →
    -- "agent"): a section on "2023-2028 中国 AI Agent 行业市场规模及预测" took the AI chip market's
    -- size, which shares the heading's years and "行业" but names no agent. (The key findings
    -- keep every sentence: "谷歌" in "2017年谷歌训练Transformer模型花了多少钱？" is no Latin name.)
    local keys = topic_keys
    if lang == "zh" then
      local latin = {}
      for _, key in ipairs(keys) do if i > 1 and key:find("^[%w]+$") then latin[#latin + 1] = key end end
      keys = latin
    else
      -- A measure in the plural ("prices" of "How did robusta prices move…?") is what is asked,
      -- as in the singular, not the subject: an inference price "for a model of comparable
      -- quality" and battery-pack prices joined that report through it.
      local subject = {}
      for _, key in ipairs(keys) do
        local measure = false
        for _, word in ipairs(MEASURES) do measure = measure or (not is_chinese(word) and key == stem(word .. "s")) end
        if not measure then subject[#subject + 1] = key end
      end
      keys = subject
    end
    -- A listed topic's subjects are its sections': there a sentence names the section's subject
    -- (or its passage's title does) when some passage names it at all — no source says
    -- "commodities", and the coffee market update is on them. Its key findings quote the best
    -- on any of them.
    if outline.listed ~= nil then
      keys = {}
      for _, key in ipairs(section.subject ~= nil and subject_keys(section.subject) or {}) do
        for _, p in ipairs(passages) do
          if names((p.title or "") .. "\n" .. (p.text or ""), key) then keys[#keys + 1] = key break end
        end
      end
    end
    -- Of the topic's words, those a source's title names are its subject ("coffee" in "Why did
    -- arabica coffee prices rise?", from "Coffee market update"); the rest ("prices", "rise") are
    -- what is asked about it, and any document has sentences on prices.
    local titled = {}
    for _, key in ipairs(keys) do
      for _, p in ipairs(passages) do
        if type(p.title) == "string" and names(p.title, key) then
          titled[#titled + 1] = key
          break
        end
      end
    end
    -- What the question asks about its subject: its keys that no source's title names
    -- ("suppl", "risk" of "What supply risk does Harbor Robotics name?"), and what it measures
    -- ("revenue" of "What was Harbor Robotics revenue in 2024?").
    local asked_keys = {}
    if #titled > 0 then
      local in_title = {}
      for _, key in ipairs(titled) do in_title[key] = true end
      for _, key in ipairs(keys) do if not in_title[key] then asked_keys[#asked_keys + 1] = key end end
      for _, word in ipairs(MEASURES) do
        if not is_chinese(word) and names(topic, word) then asked_keys[#asked_keys + 1] = word end
      end
    end
    if #titled > 0 then keys = titled end
    local function names_subject(s)
      if #keys == 0 then return true end
      local p = passages[s.passage]
      return #on_subject({s.text}, keys) > 0 or (p ~= nil and type(p.title) == "string" and #on_subject({p.title}, keys) > 0)
    end
    -- The key findings answer the topic: there a sentence of another document than the best
    -- one's must score half the best's ("公有云IaaS 方面，2023 年阿里云……占据市场份额前五。"
    -- under "阿里云百炼qwen-max系列模型调价通知是哪天发布的？"); one of the same document, which
    -- goes on with the answer's subject, a third, as elsewhere.
    local best_document = sentences[1] ~= nil and passages[sentences[1].passage] ~= nil
                          and passages[sentences[1].passage].document or nil
    -- And there, when the best sentence names the subject, a sentence of its document is on it
    -- in whatever words if it scores half the best's, as another document's must: "What would
    -- persuade drivers to use public transport?" is answered by "…respondents most often named
    -- more frequent service (58%)…", which shares no word with it, in the survey whose opening
    -- sentence the question matches.
    local answer_document = i == 1 and sentences[1] ~= nil and names_subject(sentences[1]) and best_document or nil
    local function on_topic(s)
      local p = passages[s.passage]
      return names_subject(s) or (answer_document ~= nil and p ~= nil and p.document == answer_document and s.score >= 0.5)
    end
    local candidates = {}
    local function enough(s)
      if i > 1 then return s.score >= 0.35 or #candidates < 2 end
      local p = passages[s.passage]
      return #candidates == 0 or s.score >= ((p ~= nil and p.document == best_document) and 0.35 or 0.5)
    end
    -- Under a heading of a Chinese report, a sentence shares at least one of the topic's words
    -- (its Latin names or character pairs) besides the heading's: "2024年，国内电影产业降温明显。"
    -- met "2024 年至今国内互联网大厂 AI 重要进展梳理" through "2024" and "国内" in a report on
    -- internet giants' AI capital spending.
    -- Under a listed subject of a Chinese report, the words are those of what is asked of it:
    -- "自 AIGC 出现后，腾讯视频在动画行业中…" names 腾讯 of "腾讯、阿里巴巴和字节跳动的AI资本开支",
    -- not its capital spending.
    local shared_keys = topic_keys
    if section.subject ~= nil and outline.listed ~= nil then shared_keys = subject_keys(outline.listed.framing) end
    local function shares_the_topic(text)
      if lang ~= "zh" or i == 1 or #shared_keys == 0 then return true end
      for _, key in ipairs(shared_keys) do
        if names(text, key) then return true end
      end
      return false
    end
    for _, s in ipairs(sentences) do
      local read = s.text .. "\n" .. (s.previous or "")
      if on_topic(s) and enough(s) and shares_the_topic(read) and not names_only_another_kind(read, kinds) and
         (asks_risks or not risk_notice(s.text)) then
        candidates[#candidates + 1] = s
      end
    end
    -- A table row that covers most of the question (a figure no sentence states) is quoted with
    -- its header, with the other good rows of the same table.
    -- A row most of whose values are blanks or dashes says next to nothing: "| Architecture | - | - |
    -- MoE | - | - | MoE |" was quoted alone, under the benchmark table's caption, for a question on
    -- DeepSeek's open-source strategy.
    local function informative(r)
      local told, values = 0, 0
      for k = 2, #r.cells do
        values = values + 1
        local cell = r.cells[k]:gsub("%s", "")
        if cell ~= "" and cell ~= "-" and cell ~= "—" and cell ~= "–" and cell:upper() ~= "N/A" then told = told + 1 end
      end
      return values > 0 and told * 2 >= values
    end
    local rows = {}
    local best = found.rows[1]
    if best ~= nil and best.coverage >= 0.6 then
      for _, r in ipairs(found.rows) do
        if r.passage == best.passage and table.concat(r.header, "\t") == table.concat(best.header, "\t") and informative(r) then
          rows[#rows + 1] = r
        end
      end
    end
    -- A question on a subject that a source's title names (a company's annual review) finds
    -- every sentence of that source on its subject: there the key findings hold the answer and
    -- what says more of what is asked, not the rest of the document. Past the best one, a
    -- sentence names what is asked or stands in the answer's own passage. By the title's words
    -- alone the CEO's career and the board's chair joined "What supply risk does Harbor Robotics
    -- name?", and the backlog and the headcount "Who is the CEO of Harbor Robotics?".
    -- (Questions whose answer shares no word with them, "What would persuade drivers to use
    -- public transport?" → "respondents most often named more frequent service", name no title
    -- either: they keep every candidate, and the model's choice.)
    -- A Chinese question is on what its Latin names name when its answer names them ("OpenAI",
    -- "MoE", "DeepSeek"): its character pairs are mostly its wording. "2024年9月OpenAI的估值达到了
    -- 多少？" had GPT-4's launch and 豆包's users after the valuation; "DeepSeek 团队成员主要来自哪些
    -- 高校？" a sentence on AI in marketing.
    local focus_keys = asked_keys
    if i == 1 and asked and lang == "zh" and candidates[1] ~= nil then
      focus_keys = {}
      for _, key in ipairs(topic_keys) do
        if key:find("^[%w]+$") and names(candidates[1].text, key) then focus_keys[#focus_keys + 1] = key end
      end
      -- And on a name a Latin word qualifies ("AI芯片"), when the answer names it: the 光芯片 and
      -- AI Agent markets' sizes of 2023 followed the AI chip market's.
      for _, q in ipairs(qualified_names(topic)) do
        if names(candidates[1].text, q.key) then focus_keys[#focus_keys + 1] = q.key end
      end
    end
    if i == 1 and asked and #focus_keys > 0 and #candidates > 1 then
      local answer = candidates[1]
      local focused = {answer}
      for k = 2, #candidates do
        local s = candidates[k]
        if s.passage == answer.passage or #on_subject({s.text}, focus_keys) > 0 then focused[#focused + 1] = s end
      end
      candidates = focused
    elseif i == 1 and asked and lang == "zh" and #candidates > 1 then
      -- A Chinese question without a name to focus on: past the answer, a sentence of another
      -- passage shares two of its keys (its character pairs and Latin words, framing left out),
      -- not one word any sentence may have: "2023年全年票房收入已达548.47亿元…2024年前5月累计票房
      -- 达216.47亿元…" followed the answers on game licences ("累计") and game revenue ("收入").
      local keys = topic_keys
      local needed = math.min(2, #keys)
      local answer = candidates[1]
      local focused = {answer}
      for k = 2, #candidates do
        local s = candidates[k]
        local shared = 0
        for _, key in ipairs(keys) do
          if names(s.text, key) or names(s.previous or "", key) then shared = shared + 1 end
        end
        if s.passage == answer.passage or shared >= needed then focused[#focused + 1] = s end
      end
      candidates = focused
    end
    -- A name the question asks about that no source mentions ("What is Tesla's market share in
    -- grid batteries?" over sources that never name Tesla): the key findings say so first, for
    -- the quotes that follow are the sources' nearest, not its answer. Mentioned: a passage the
    -- key findings searched holds it, or one a search for the name alone finds does.
    local missing = {}
    if i == 1 and asked then
      local function named_in(list, name)
        for _, p in ipairs(list) do
          for _, text in ipairs({p.text, p.title}) do
            if type(text) == "string" and mentions(text, name.key, name.literal) then return true end
          end
        end
        return false
      end
      for _, name in ipairs(asked_names(topic)) do
        if not named_in(passages, name) and
           not named_in(ctx.memory.search{collection = collection, query = name.word, k = 5}.hits, name) then
          -- Names side by side in the question are one ("Elon Musk").
          local last = missing[#missing]
          if last ~= nil and topic:find(last .. " " .. name.word, 1, true) then
            missing[#missing] = last .. " " .. name.word
          else
            missing[#missing + 1] = name.word
          end
        end
      end
    end
    -- A question whose sources name its subject but not what it asks of it ("What was Harbor
    -- Robotics' net profit in 2024?" over a review that gives revenue, not profit): when neither
    -- of the key findings' best two sentences — with the sentence each leans on and its
    -- document's title — names a word the question asks beyond its names, and no table row
    -- answers, the key findings say that the sources do not answer it directly. (In English:
    -- a Chinese question's character pairs are mostly its wording.)
    local unanswered = false
    if i == 1 and asked and lang == "en" and #missing == 0 and not rows_give_a_figure(rows, topic) and candidates[1] ~= nil then
      local named = asked_names(topic)
      local wanted = {}
      for _, key in ipairs(topic_keys) do
        local a_name = WHERE_WORDS[key] ~= nil
        for _, name in ipairs(named) do a_name = a_name or names(name.word, key) end
        if not a_name then wanted[#wanted + 1] = key end
      end
      -- Named as a word starts it, or spelled out ("CEO": "chief executive officer").
      local function says(text, key) return names(text, key) or (#key <= 5 and mentions(text, key)) end
      -- A question on an amount ("What was the robusta price at the end of 2024?") is not answered
      -- by sentences without a figure, whatever words they share with it: "Robusta prices … rose
      -- even faster in relative terms." passed the check below as the answer. (A figure may be
      -- spelled: "fell tenfold", "a third of", "doubled".)
      local lower = topic:lower()
      -- ("Why did arabica coffee prices rise?" asks a cause: only "how much/many" and "what …"
      -- questions of a price, cost or share ask an amount.)
      -- (And "what was … revenue/profit/sales …" asks a company's figure: "What was Harbor Robotics'
      -- revenue from Southeast Asian ports in 2024?" was answered, unwarned, by "Two thirds of the
      -- backlog comes from ports in Southeast Asia…".)
      local asked_measures_en = {}
      for _, word in ipairs(FINANCIAL_MEASURES_EN) do
        if lower:find("%f[%a]" .. word .. "%f[%A]") then asked_measures_en[#asked_measures_en + 1] = word end
      end
      -- ("What is/was/did …": "What followed the sharp fall in battery prices?" asks what happened.)
      local what_is = false
      for _, verb in ipairs({"is", "was", "were", "are", "did", "will", "does", "do"}) do
        what_is = what_is or lower:find("^what%s+" .. verb .. "%f[%A]") ~= nil
      end
      -- A share asked ("What share of commuters used the metro in the 2022 survey?") is answered by
      -- a share, not any figure: the 2022 satisfaction score ("…from 6.4 in the 2022 survey") had
      -- stood as the metro's share, which the survey gives for 2024 only.
      local share = lower:find("^what share of") or lower:find("^what percentage") or lower:find("^what proportion") or
                    lower:find("^what fraction")
      -- ("What is the difference between training and serving costs?" asks how they differ, in
      -- words or figures: "Training remains expensive but happens once." answers.)
      local a_difference = lower:find("%f[%a]differences?%s+between%f[%A]") ~= nil
      local amount = lower:find("^how much") or lower:find("^how many") or share or
                     (what_is and not a_difference and (lower:find("%f[%a]prices?%f[%A]") or lower:find("%f[%a]costs?%f[%A]") or
                                               lower:find("%f[%a]share of%f[%A]") or lower:find("%f[%a]percentage%f[%A]") or
                                               lower:find("%f[%a]proportion%f[%A]") or #asked_measures_en > 0))
      if amount then
        local figure = false
        -- A year or a day of a month is no amount: "…postponed by twelve months to December 2025…"
        -- answered "How much coffee did China import in 2024?".
        local function states_a_number(text)
          local plain = text:gsub("%f[%d](1[89]%d%d)%f[%D]", ""):gsub("%f[%d](20%d%d)%f[%D]", "")
          for _, month in ipairs(MONTHS_EN) do
            plain = plain:gsub(month .. "%s+%d%d?%f[%D]", month):gsub("%f[%d]%d%d?%s+" .. month, month)
          end
          if share then
            local lowered = plain:lower()
            for _, spelled in ipairs({"%%", "%f[%a]percent", "%f[%a]per cent", "%f[%a]a third", "%f[%a]a quarter",
                                      "%f[%a]a fifth", "%f[%a]half%f[%A]", "%f[%a]thirds%f[%A]", "%f[%a]majority%f[%A]"}) do
              if lowered:find(spelled) then return true end
            end
            return false
          end
          return plain:find("%d") ~= nil
        end
        -- (The sentence before one counts when it names what is asked: "Robusta prices … rose even
        -- faster in relative terms." comes after arabica's "$3.44 per pound", which is no robusta
        -- price.)
        local function on_what_is_asked(text)
          if #wanted == 0 then return true end
          for _, key in ipairs(wanted) do
            if says(text, key) then return true end
          end
          return false
        end
        -- (And a figure of a name the question asks about comes with that name, in the sentence,
        -- the one it leans on or its document's title: the worldwide "169 GWh" had answered "How
        -- much grid battery storage did Germany add in 2024?", Germany named only in "Europe
        -- lagged: Germany, Italy and the United Kingdom added capacity…".)
        -- ("…raise throughput three to five times on the same hardware." answered "How much do
        -- batching, prefix caching and speculative decoding raise serving throughput?".)
        local function times_spelled(text)
          for _, n in ipairs({"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}) do
            if text:find("%f[%a]" .. n .. "%s+times%f[%A]") then return true end
          end
          return false
        end
        -- (And a width of weights asked, "8-bit", comes with its own: "Four-bit weights can make
        -- decoding up to three times faster…" is no answer to "How much faster does 8-bit
        -- quantization make decoding?".)
        local bits = lower:match("%f[%d](%d%d?)%-bits?%f[%A]")
        local SPELLED_BITS = {["2"] = "two", ["4"] = "four", ["8"] = "eight", ["16"] = "sixteen", ["32"] = "thirty%-two"}
        local function on_the_bits(text)
          if bits == nil then return true end
          local t = text:lower()
          return t:find("%f[%d]" .. bits .. "%-bit") ~= nil or
                 (SPELLED_BITS[bits] ~= nil and t:find("%f[%a]" .. SPELLED_BITS[bits] .. "%-bit") ~= nil)
        end
        local function on_the_name(k)
          if not on_the_bits(candidates[k].text .. " " .. (candidates[k].previous or "")) then return false end
          if #named == 0 then return true end
          local p = passages[candidates[k].passage]
          local read = candidates[k].text .. " " .. (candidates[k].previous or "") .. " " ..
                       (p ~= nil and type(p.title) == "string" and p.title or "")
          for _, name in ipairs(named) do
            if mentions(read, name.key) then return true end
          end
          return false
        end
        for k = 1, math.min(2, #candidates) do
          local previous = candidates[k].previous or ""
          if not on_what_is_asked(previous) then previous = "" end
          for _, text in ipairs(on_the_name(k) and {candidates[k].text, previous} or {}) do
            local spelled = text:lower()
            figure = figure or states_a_number(text) or
                     (not share and (spelled:find("fold%f[%A]") ~= nil or
                                     spelled:find("%f[%a]half%f[%A]") ~= nil or spelled:find("%f[%a]halve[sd]?%f[%A]") ~= nil or
                                     spelled:find("%f[%a]a third%f[%A]") ~= nil or
                                     spelled:find("%f[%a]a quarter%f[%A]") ~= nil or spelled:find("%f[%a]doubled%f[%A]") ~= nil or
                                     spelled:find("%f[%a]twice%f[%A]") ~= nil or spelled:find("%f[%a]tripled%f[%A]") ~= nil or
                                     times_spelled(spelled)))
          end
        end
        if not figure then unanswered = true end
        -- The measure asked, named by one of them (or the sentence it leans on).
        -- And where the question says what the measure comes from ("revenue from Southeast Asian
        -- ports"), the sentence naming it names that too: "Revenue for the year reached $312
        -- million…" beside "Two thirds of the backlog comes from ports in Southeast Asia…" had
        -- stood as the ports' revenue.
        if #asked_measures_en > 0 and not unanswered then
          local measured = false
          for k = 1, math.min(2, #candidates) do
            local text = (candidates[k].text .. " " .. (candidates[k].previous or "")):lower()
            for _, word in ipairs(asked_measures_en) do
              if text:find("%f[%a]" .. word .. "%f[%A]") ~= nil then
                local source = lower:match("%f[%a]" .. word .. "%s+from%s+(.-)%s+in%s+%d%d%d%d") or
                               lower:match("%f[%a]" .. word .. "%s+from%s+([^%?]-)%s*%?*%s*$")
                local from_named = source == nil
                for _, key in ipairs(source ~= nil and subject_keys(source) or {}) do
                  from_named = from_named or names(text, key)
                end
                measured = measured or from_named
              end
            end
          end
          if not measured then unanswered = true end
        end
      end
      -- A year the question names that neither of the best two sentences' passages (nor their
      -- titles) has: "What was Harbor Robotics' revenue in 2022?" was answered with 2024's revenue
      -- ("…up 27% from $246 million in 2023"), the review naming no 2022.
      -- A sentence that names years of its own (with the one it leans on) is of those; one that
      -- names none is of its document's, which a title naming a year says: "The operating margin
      -- improved to 9.8%…", in "Harbor Robotics: annual review 2024", answered "What was Harbor
      -- Robotics' operating margin in 2023?" unwarned (its passage names 2023 for the revenue).
      -- A question of a company's measure asks the year of a sentence that names the measure.
      local function years_of(text)
        local years = {}
        for y in text:gmatch("%f[%d]((%d%d)%d%d)%f[%D]") do
          if y:sub(1, 2) == "19" or y:sub(1, 2) == "20" then years[y] = true end
        end
        return next(years) ~= nil and years or nil
      end
      local function names_asked_measure(text)
        local lowered = text:lower()
        for _, word in ipairs(asked_measures_en) do
          if lowered:find("%f[%a]" .. word .. "%f[%A]") then return true end
        end
        return #asked_measures_en == 0
      end
      -- (Not where a year is what is asked: "Since which year had arabica prices not been as high
      -- as at the end of 2024?" is answered by "…the highest price since 1977…".)
      local asks_a_year = lower:find("%f[%a]which year%f[%A]") ~= nil or lower:find("%f[%a]what year%f[%A]") ~= nil
      for year in (asks_a_year and "" or topic):gmatch("%f[%d]((%d%d)%d%d)%f[%D]") do
        local century = tonumber(year:sub(1, 2))
        if century == 19 or century == 20 then
          local found = false
          for k = 1, math.min(2, #candidates) do
            local s = candidates[k]
            local p = passages[s.passage]
            local read = s.text .. " " .. (s.previous or "")
            local title = p ~= nil and type(p.title) == "string" and p.title or ""
            local of_read, of_title = years_of(read), years_of(title)
            if of_read ~= nil then
              found = found or (of_read[year] and names_asked_measure(read))
            elseif of_title ~= nil then
              found = found or of_title[year] ~= nil
            else
              found = found or (p ~= nil and p.text or ""):find("%f[%d]" .. year .. "%f[%D]") ~= nil
            end
          end
          if not found then unanswered = true end
        end
      end
      if #wanted > 0 and not unanswered then
        unanswered = true
        for k = 1, math.min(2, #candidates) do
          local s = candidates[k]
          local p = passages[s.passage]
          for _, text in ipairs({s.text, s.previous or "", p ~= nil and type(p.title) == "string" and p.title or ""}) do
            for _, key in ipairs(wanted) do
              if says(text, key) then unanswered = false end
            end
          end
        end
      end
      -- What a "What was the … of …?" asks is what stands before its "of": one of those words is
      -- said by the best two sentences (or what they lean on), not only the words of what it is
      -- of. "What was the average round-trip efficiency of the grid batteries installed in 2024?"
      -- had been answered, unwarned, by the year's 169 GWh.
      -- (Asked with a form of "be" only: "What limits the speed of generating tokens one at a
      -- time?" asks what limits it, not a speed.)
      -- (Spaces squeezed and "of" found plainly: ".-" between runs of spaces backtracked in cubic
      -- time over a topic of spaces.)
      local squeezed = lower:gsub("%s+", " ")
      local verb, rest = squeezed:match("^what (%a+) the (.*)$")
      local measure = nil
      if (verb == "is" or verb == "was" or verb == "are" or verb == "were") and rest ~= nil then
        local of = rest:find(" of ", 1, true)
        if of ~= nil then measure = rest:sub(1, of - 1) end
      end
      if measure ~= nil and not unanswered then
        local words = {}
        for word in measure:gmatch("%a+") do
          if #word >= 4 and not FRAMING_EN[word] then words[#words + 1] = stem(word) end
        end
        if #words > 0 then
          unanswered = true
          for k = 1, math.min(2, #candidates) do
            for _, text in ipairs({candidates[k].text, candidates[k].previous or ""}) do
              for _, key in ipairs(words) do
                if names(text, key) then unanswered = false end
              end
            end
          end
        end
      end
    end
    -- A Chinese question on an amount in a year ("2025年春节档总票房是多少？"): when neither of the
    -- key findings' best two sentences names that year (itself or in the sentence it leans on)
    -- beside a figure of its own — not a month or a day — and no table row answers, the sources
    -- do not give the amount asked. The source said the festival set a record, and the report
    -- quoted the 2024 special halls' takings as if they answered. (Character pairs are too much
    -- of a Chinese question's wording to tell what it asks, as the English check does above.)
    if i == 1 and asked and lang == "zh" and #missing == 0 and not rows_give_a_figure(rows, topic) and
       candidates[1] ~= nil then
      local year = topic:match("(%d%d%d%d)%s*年")
      if year ~= nil and topic:find("多少", 1, true) ~= nil then
        -- (A count may be written in Chinese numerals: "当时由于国内仅有十多个 IMAX 影厅" answers
        -- "2010年《阿凡达》在国内上映时有多少个IMAX影厅？", which was said to go unanswered.)
        local function figure_besides(text)
          for from, to in text:gmatch("()%d[%d%.,]*()") do
            local number = text:sub(from, to - 1)
            local unit = text:sub(to):gsub("^%s*", ""):sub(1, 3)
            if number ~= year and unit ~= "年" and unit ~= "月" and unit ~= "日" then return true end
          end
          return has_chinese_count(text)
        end
        -- The year named whole where the question asks the whole year: "2024 年前 5 月累计票房达
        -- 216.47 亿元" gives five months ("2024年全国电影观影总人次是多少？" had quoted it, and a
        -- company's 2023 admissions, as if they answered). A part: "前N月", "N月", "N-M月", "上半年",
        -- "一季度"; not "1-12月" or "12月31日".
        -- A range's dashes, and one taken off the front of a text (the rest, or nil).
        local DASHES = {"-", "~", "～", "至", "到", "—", "–"}
        local function take_dash(text)
          for _, dash in ipairs(DASHES) do
            if text:sub(1, #dash) == dash then return text:sub(#dash + 1) end
          end
          return nil
        end
        local function names_part(after)
          after = after:gsub("^%s+", "")
          for _, part in ipairs({"上半年", "下半年", "Q1", "Q2", "Q3", "Q4", "H1", "H2"}) do
            if after:sub(1, #part) == part then return true end
          end
          local first = after:sub(1, 3) == "前"
          if first then after = after:sub(4):gsub("^%s+", "") end
          if after:sub(1, 3) == "第" then after = after:sub(4) end
          local numerals = {["一"] = 1, ["二"] = 2, ["两"] = 2, ["三"] = 3, ["四"] = 4, ["五"] = 5, ["六"] = 6,
                            ["七"] = 7, ["八"] = 8, ["九"] = 9, ["十"] = 10}
          local function take()
            local digits = after:match("^%d%d?")
            if digits then after = after:sub(#digits + 1) return tonumber(digits) end
            local value = numerals[after:sub(1, 3)]
            if value == nil then return nil end
            after = after:sub(4)
            local more = numerals[after:sub(1, 3)]
            if value == 10 and more ~= nil and more <= 2 then after = after:sub(4) value = 10 + more end
            return value
          end
          local from = take()
          if from == nil then return false end
          after = after:gsub("^%s+", "")
          -- "1 月至 12 月", "1月-12月": the first month's 月 before the dash.
          local rest = after
          if rest:sub(1, 3) == "月" then rest = rest:sub(4):gsub("^%s+", "") end
          local to = nil
          local ranged = take_dash(rest)
          if ranged ~= nil then
            after = ranged:gsub("^%s+", "")
            to = take()
            if to == nil then return false end
            after = after:gsub("^%s+", "")
          end
          if after:sub(1, 3) == "个" then after = after:sub(4) end
          if after:sub(1, 3) == "月" then
            if to ~= nil then return not (from == 1 and to == 12) end
            if first then return from ~= 12 end
            return not (from == 12 and after:sub(4):gsub("^%s+", ""):sub(1, 2) == "31")
          end
          if after:sub(1, 3) == "季" then
            if to ~= nil then return not (from == 1 and to == 4) end
            return not (first and from == 4)
          end
          return false
        end
        -- (Any writing of the year counts, "2027E 年均增速" too, unless a part follows it.)
        -- (And its last two digits before 年: "AI 原生 APP 在 24 年 12 月的月活跃用户规模达到了 1.2
        -- 亿" answers "2024年12月AI原生APP的月活跃用户规模是多少？", which was said to go unanswered.)
        -- (Only before a month or a part of the year: "过去10年", "成立20年来" are durations. Each
        -- part compared whole: a character class is a set of bytes.)
        local YEAR_PARTS = {"上半", "下半", "全年", "年底", "底", "末", "初", "一季", "二季", "三季", "四季", "Q"}
        local function short_years(text)
          local found = {}
          for at in text:gmatch("%f[%d]" .. year:sub(3) .. "%f[%D]%s*年()") do
            local after = text:sub(at, at + 16):gsub("^%s*", "")
            local dated = after:find("^%d") ~= nil
            for _, part in ipairs(YEAR_PARTS) do dated = dated or after:sub(1, #part) == part end
            if dated then found[#found + 1] = at end
          end
          return found
        end
        local function years_whole(text)
          local ats = {}
          for at in text:gmatch(year .. "()") do ats[#ats + 1] = at end
          for _, at in ipairs(short_years(text)) do ats[#ats + 1] = at end
          for _, at in ipairs(ats) do
            local after = text:sub(at, at + 40):gsub("^[Ee]", ""):gsub("^%s*", "")  -- (a part is named at once)
            if after:sub(1, 3) == "年" then after = after:sub(4) end
            if not names_part(after) then return true end
          end
          return false
        end
        -- A year in a range ("2023-2027年") asks no whole year.
        -- (Each dash on its own: a class of "至" and "到" would hold their bytes, and "年" shares
        -- its first with "到".)
        local whole_year = years_whole(topic)
        for _, dash in ipairs(DASHES) do
          local d = (dash:gsub("%-", "%%-"))  -- a pattern's "-" escaped
          if topic:find(d .. " *" .. year) or topic:find(year .. " *" .. d) then whole_year = false end
        end
        local function in_year(text)
          if whole_year then return years_whole(text) end
          return text:find(year, 1, true) ~= nil or #short_years(text) > 0
        end
        -- And the measure the question asks ("观影总人次": a sentence on the box office gives
        -- another figure of that year).
        local asked_measures = {}
        for _, family in ipairs(MEASURE_FAMILIES_ZH) do
          for _, word in ipairs(family) do
            if topic:find(word, 1, true) then asked_measures[#asked_measures + 1] = family break end
          end
        end
        -- (A market's size is also told as the money it reaches, as the ranker reads it:
        -- "…400G+市场预计将…扩张，达 125 亿美元。")
        local function names_measure(text)
          if #asked_measures == 0 then return true end
          for _, family in ipairs(asked_measures) do
            for _, word in ipairs(family) do
              if text:find(word, 1, true) then return true end
              if word == "规模" and text:find("市场", 1, true) and
                 (text:find("亿美元", 1, true) or text:find("亿元", 1, true)) then
                return true
              end
            end
          end
          return false
        end
        -- A sentence that opens on a time relative to its document's ("年初以来，国内影院上座率为 6.5%")
        -- is of the year its passage names ("电影市场在 2024 年上半年延续了…"): "2024年上半年影院上座率
        -- 是多少？" was said to go unanswered.
        local RELATIVE_TIMES = {"年初以来", "今年以来", "年初至今", "今年", "本年", "年内"}
        local RELATIVE_YEARS = {"当年", "同年"}
        -- And whose measure it asks: "2024年万达电影的票房收入是多少？" was answered, unwarned, by
        -- "公司电影主业复苏态势明显，2023 年实现票房收入 6.32 亿元…" (上海电影, under its own heading),
        -- the sources naming 万达电影 only in lists of stocks. Named in the sentence, the one it
        -- leans on or its passage.
        local heads = measure_holder_heads_zh(topic)
        if #heads == 0 and #asked_measures == 0 then heads = counted_heads_zh(topic) end
        -- (A Latin head is a word: "ai" is not in "said".)
        local function names_holder(text)
          if #heads == 0 then return true end
          local plain = text:gsub("%s", ""):lower()
          local lower = text:lower()
          for _, head in ipairs(heads) do
            if head:byte(1) >= 0x80 then
              if plain:find(head, 1, true) then return true end
            else
              local escaped = head:gsub("%-", "%%-")
              if lower:find("%f[%w]" .. escaped .. "%f[%W]") then return true end
            end
          end
          return false
        end
        -- And a month the question names ("2024年5月中国游戏市场实际销售收入是多少？"): April's
        -- "2024年4月，我国游戏市场实际销售收入224.32亿元…" had stood as May's. (A month counted from,
        -- "4月以来", asks no one month; "前5月" is named so by its answer.)
        local month = topic:match("^.-%f[%d](%d%d?)%s*月")
        if month ~= nil then
          local after = topic:match("%f[%d]" .. month .. "%s*月(.*)$") or ""
          if after:find("^以来") or after:find("^起") or after:find("^至") or after:find("^开始") or after:find("^份以来") then
            month = nil
          end
        end
        -- A measure the sentence gives of the whole ("行业毛利率为67.8%") is no part's, whatever its
        -- passage names: it had stood as "2024年一季度影视院线板块的毛利率是多少？"'s answer, which the
        -- sources do not give (a sector's own is named in its sentence, or the one it leans on).
        local function of_the_whole(text)
          for _, family in ipairs(asked_measures) do
            for _, word in ipairs(family) do
              for _, whole in ipairs({"行业", "整体", "全行业", "大盘"}) do
                if text:find(whole .. word, 1, true) then return true end
              end
            end
          end
          return false
        end
        local function in_month(text)
          if month == nil then return true end
          for m in text:gmatch("%f[%d](%d%d?)%s*月") do
            if tonumber(m) == tonumber(month) then return true end
          end
          return false
        end
        unanswered = true
        for k = 1, math.min(2, #candidates) do
          local s = candidates[k]
          local read = (s.previous or "") .. s.text
          local p = passages[s.passage]
          local passage = p ~= nil and type(p.text) == "string" and p.text or ""
          -- (So does one that opens on a day without its year: "截至6月25日，传媒行业各子板块累计跌幅分别
          -- 为：…影视院线-19.7%…" answers "截至2024年6月25日，影视院线子板块今年累计跌幅是多少？".)
          local function dated_without_year(text)
            return text:find("^截至%s*%d%d?%s*月%s*%d%d?%s*日") ~= nil or text:find("^%d%d?%s*月%s*%d%d?%s*日") ~= nil
          end
          local relative = dated_without_year(s.text) or dated_without_year(s.previous or "")
          for _, time in ipairs(RELATIVE_TIMES) do
            relative = relative or s.text:sub(1, #time) == time or (s.previous or ""):sub(1, #time) == time
          end
          -- (And one that names the year its passage names before it, anywhere: "当年", "同年". Not
          -- "去年", a year before the document's: "特效厅去年的票房也整体下降23.4%" in an article on
          -- 2025's festival is 2024's, and had stood as "2025年春节档总票房".)
          for _, time in ipairs(RELATIVE_YEARS) do
            relative = relative or s.text:find(time, 1, true) ~= nil
          end
          if relative and passage ~= "" then read = passage .. read end
          if in_year(read) and in_month(read) and names_measure(read) and figure_besides(s.text) and
             names_holder(read .. passage) and (names_holder(read) or not of_the_whole(s.text)) then
            unanswered = false
          end
        end
      end
      -- A count of things the question names ("DeepSeek公司有多少名员工？": 员工) is answered by a
      -- sentence naming them beside a number: the report had opened on another company's Q&A and
      -- "目前公司一款…社交小游戏已完成了一轮内部测试", unwarned.
      -- (The noun's head is its last two characters: "多少个游戏版号" counts 版号.)
      local counted = nil
      for _, unit in ipairs({"名", "个", "家", "位", "款", "部", "台", "座"}) do
        local noun = topic:match("多少" .. unit .. "([\228-\233][\128-\191][\128-\191][\228-\233\128-\191]*)")
        if counted == nil and noun ~= nil and #noun >= 6 and #noun <= 24 then counted = noun:sub(-6) end
      end
      -- An amount of a titled work ("《哪吒之魔童闹海》的票房是多少？") is answered by a sentence naming
      -- the title beside a number: a list of the festival's films, "特效厅去年的票房也整体下降23.4%"
      -- after it, had stood as the film's box office.
      local open_title = topic:find("《", 1, true)
      local close_title = open_title and topic:find("》", open_title, true)
      local title = close_title ~= nil and topic:find("多少", 1, true) ~= nil and
                    topic:sub(open_title, close_title + #"》" - 1) or nil
      -- Whether one of the best two (with the sentence it leans on) names `word`, and itself a number.
      local function named_beside_a_number(word)
        for k = 1, math.min(2, #candidates) do
          local read = (candidates[k].previous or "") .. candidates[k].text
          if read:find(word, 1, true) and (candidates[k].text:find("%d") or has_chinese_count(candidates[k].text)) then
            return true
          end
        end
        return false
      end
      for _, word in ipairs({title or false, counted or false}) do
        if word and not unanswered then unanswered = not named_beside_a_number(word) end
      end
      -- An amount of one version of a name ("DeepSeek-R1的训练用了多少H800 GPU小时？") opens on a
      -- sentence of that version: one naming it (itself or the sentence it leans on), or naming no
      -- version where the last version its passage names before it is that one. V3's "完整训练仅需
      -- 278.8 万 H800 GPU 小时" (after "高效训练: DeepSeekV3 在一个配备 2048 块…") had stood as R1's.
      local base, version = topic:match("(%a[%w]*)%-(%w*%d%w*)")
      if base ~= nil and topic:find("多少", 1, true) ~= nil and not unanswered then
        version = version:lower()
        local pattern = base:lower() .. "%-?(%w*%d%w*)"
        local function versions_in(text)
          local found, last = {}, nil
          for v in text:lower():gsub("%s", ""):gmatch(pattern) do found[v] = true; last = v end
          return found, last
        end
        local s = candidates[1]
        local named = versions_in((s.previous or "") .. s.text)
        if next(named) == nil then
          local p = passages[s.passage]
          local text = p ~= nil and type(p.text) == "string" and p.text or ""
          local before = text:sub(1, (utf8.offset(text, (s.start or 0) + 1) or (#text + 1)) - 1)
          local _, last = versions_in(before)
          named = last ~= nil and {[last] = true} or {}
        end
        unanswered = next(named) ~= nil and named[version] == nil
      end
    end
    return {queries = queries, passages = passages, candidates = candidates, rows = rows, missing = missing,
            unanswered = unanswered}
  end)

  -- No sentence twice in one report. The key findings take their best two first (they always
  -- quote them), every other section its best, then the sections take turns, each its best
  -- sentence not yet taken: taken in
  -- one go, the key findings' six offered sentences (of which they quote three or four) had
  -- left a short source nothing for its own headings ("Prices", "Risks" under a report on grid
  -- batteries). Deterministic, so a resumed run assigns the same.
  local taken, offered, next_of = {}, {}, {}
  -- A sentence's context goes with it: the one it leans on (quoted before it) and the one it
  -- announces (quoted after it) are taken too, and a sentence whose predecessor another section
  -- already holds is not offered (quoted without it, it would lean on nothing). One whose
  -- predecessor its own section holds from the same passage is: revise quotes the two together
  -- (from another passage, a sentence two documents share, it would follow the other document's
  -- next sentence in reading order). ("但报告显示，国内 IMAX
  -- 影厅的票房已从2019年的24.3亿元降至 2024年的 14.36亿元" was left out of "IMAX 与 CINITY 在国内的
  -- 票房表现对比" because its key findings held "作为最为大众熟知的特效厅品牌，IMAX在国内市场长期占据
  -- 优势地位。": the report told of 《阿凡达》 in 2010 instead.)
  local function key_of(text) return (text:gsub("%s", "")) end
  -- Nor one that says again what a taken one says: the same sentence in two sources punctuated
  -- apart ("2025 年 1 月 20 日，DeepSeek 发布了…" and "2025 年 1 月 20 日, DeepSeek 发布了…"), or
  -- one whose words a taken one nearly all holds ("训练成本仅为 557 万美元。" beside "…仅用 557.6
  -- 万美元和 2048 块英伟达 H800 GPU 便完成了…"): 80% of the shorter one's letter bigrams, and no
  -- number the longer one lacks.
  local taken_bigrams, taken_from, announced_taken = {}, {}, {}
  local function take(text, section, passage)
    taken[key_of(text)] = section
    taken_from[key_of(text)] = passage
    local set, count = bigrams(text, true)
    taken_bigrams[#taken_bigrams + 1] = {set = set, count = count, numbers = numbers_of(text)}
  end
  local function says_again(text)
    local set, count = bigrams(text, true)
    if count < 8 then return false end
    local numbers = numbers_of(text)
    for _, t in ipairs(taken_bigrams) do
      local shorter, longer = numbers, t.numbers
      if t.count < count then shorter, longer = t.numbers, numbers end
      if t.count >= 8 and not adds_a_number(shorter, longer) then
        local shared = 0
        for key in pairs(set) do if t.set[key] then shared = shared + 1 end end
        if shared >= 0.8 * math.min(count, t.count) then return true end
      end
    end
    return false
  end
  local function offer(i)
    local list = evidence[i].candidates
    local function document_of(passage)
      local p = evidence[i].passages[passage]
      return p ~= nil and p.document or nil
    end
    while next_of[i] <= #list do
      local s = list[next_of[i]]
      next_of[i] = next_of[i] + 1
      local key = key_of(s.text)
      -- One taking up what the sentence before it introduced ("Most of the new capacity is
      -- paired with solar farms…" after the 169 GWh installed) reads well after an earlier
      -- section quoted that one: there it stands alone.
      if s.takes_up and s.previous ~= nil and (taken[key_of(s.previous)] or i) < i then
        s.leans, s.previous, s.takes_up = false, nil, nil
      end
      -- (Here: in this section, from the same passage or another of the same document's, where
      -- the sentence it leans on was taken as what a third one announced: "他们的主要担忧是：" after
      -- "88%的参与者…", which "LLM 单纯云端部署…并不广泛接受。" brought as its figures.)
      local previous_from = s.previous ~= nil and taken_from[key_of(s.previous)] or nil
      local context_here = s.leans and s.previous ~= nil and taken[key_of(s.previous)] == i and
                           (previous_from == s.passage or
                            (announced_taken[key_of(s.previous)] and document_of(previous_from) == document_of(s.passage)))
      local context_taken = s.leans and s.previous ~= nil and taken[key_of(s.previous)] ~= nil and not context_here
      -- Nor one whose context is two sentences back ("It now pays back within seven years." after
      -- "This changed storage economics."): after any other sentence its "It" names that one's
      -- subject ("Cell costs fell by a fifth…").
      -- (But the key findings' first: an answer quoted on its own beats an empty section.)
      local context_lost = s.leans and s.previous == nil and s.previous_leans and not (i == 1 and #offered[1] == 0)
      -- What comes with it (the sentence it leans on, the one it announces) must not say again
      -- what is taken either.
      local brings_again = (s.leans and s.previous ~= nil and not context_here and says_again(s.previous)) or
                           (s.next ~= nil and not taken[key_of(s.next)] and says_again(s.next))
      if not taken[key] and not context_taken and not context_lost and not says_again(s.text) and not brings_again then
        take(s.text, i, s.passage)
        if s.leans and s.previous ~= nil and not context_here then take(s.previous, i, s.passage) end
        if s.next ~= nil and not taken[key_of(s.next)] then
          take(s.next, i, s.passage)
          announced_taken[key_of(s.next)] = true
        end
        -- (A list's further items come with its first: see with_next below.)
        if s.next ~= nil then
          for _, item in ipairs(s.further or {}) do
            if not taken[key_of(item)] then take(item, i, s.passage) end
          end
        end
        offered[i][#offered[i] + 1] = s
        return true
      end
    end
    return false
  end
  for i in ipairs(outline.sections) do offered[i], next_of[i] = {}, 1 end
  if #outline.sections > 0 then
    for _ = 1, 2 do offer(1) end
    for i = 2, #outline.sections do offer(i) end
  end
  local more = true
  while more do
    more = false
    for i in ipairs(outline.sections) do
      if #offered[i] < most_sentences + 2 and offer(i) then more = true end
    end
  end

  -- The budget is what the quotes could take at one token a byte: under the constraint the
  -- model may spell a sentence in other tokens than the tokenizer's own (counted with
  -- count_tokens, the budget cut "When asked what would make them leave the car at home,
  -- respondents m…" short, and a quote without its "[n]" is lost). The constraint ends the
  -- answer once the quotes are done, and the context's end bounds it whatever the budget.
  local function quote_options(candidates, minimum)
    local quotes, bytes = {}, 0
    for k, s in ipairs(candidates) do
      quotes[k] = {text = s.text, citation = s.passage}
      bytes = bytes + #s.text + #separator + 8
    end
    return {quote = {sentences = quotes, min = math.min(minimum, #quotes), max = math.min(most_sentences, #quotes),
                     separator = separator},
            max_tokens = math.min(2048, bytes + 16)}
  end
  local function listing(candidates)
    local lines = {}
    for k, s in ipairs(candidates) do lines[k] = string.format("[%d] %s", s.passage, s.text) end
    return table.concat(lines, "\n")
  end

  -- A prompt lists whole sentences (a quote cannot be clipped). When one does not fit the
  -- model's context with room to quote the best of them, the worst-ranked go, then the topic as
  -- the prompt repeats it is clipped: a 500-character Chinese question failed its first draft
  -- ("prompt of 1170 tokens does not fit the context of 1024"). `build(shown, topic_chars)`
  -- writes the prompt; returned: the prompt and the candidates it shows, or nil when not even
  -- one sentence fits (a document's 289-character sentence of rare ideographs, 4 tokens each,
  -- failed every report quoting it): the section is then left to the plan's own choice of the
  -- best-ranked sentences (revise), without the model.
  local function fitted(build, candidates)
    local shown, topic_chars = {}, nil
    for _, s in ipairs(candidates) do
      if ctx.llm.count_tokens(s.text) <= c.context // 4 then shown[#shown + 1] = s end
    end
    while #shown > 0 do
      local prompt = build(shown, topic_chars)
      local room = ctx.llm.count_tokens(shown[1].text) + 16
      if ctx.llm.count_tokens(T.system .. prompt) + room + 48 <= c.context then return prompt, shown end
      if #shown > 1 then
        shown = table.move(shown, 1, #shown - 1, 1, {})
      elseif (topic_chars or math.huge) > 20 then
        topic_chars = (topic_chars or utf8.len(c.topic) or #c.topic) // 2
      else
        return nil
      end
    end
    return nil
  end
  local function clipped(text, chars) return chars and clip(text, chars) or text end

  local drafts = ctx.map("draft", outline.sections, function(section, i)
    local candidates = offered[i]
    if #candidates == 0 then return {units = {}} end
    local prompt, shown = fitted(function(list, chars)
      local title, question = clipped(outline.title, chars), clipped(section.question, chars)
      return lang == "zh" and string.format(T.quote_draft, title, section.heading, question, listing(list))
                          or string.format(T.quote_draft, section.heading, title, question, listing(list))
    end, candidates)
    if prompt == nil then return {units = {}} end
    local reply = c.chat(prompt, quote_options(shown, least_sentences))
    return {units = quoted_units(reply.text)}
  end)

  local revised = ctx.map("revise", outline.sections, function(section, i)
    local candidates = offered[i]
    local draft = drafts[i].units
    if #candidates == 0 then return {units = {}, sentences = 0} end
    local draft_text = {}
    for k, u in ipairs(draft) do draft_text[k] = u.text .. "[" .. u.citation .. "]" end
    local prompt, shown = fitted(function(list, chars)
      return string.format(T.quote_revise, section.heading, clipped(section.question, chars), listing(list),
                           table.concat(draft_text, separator))
    end, candidates)
    local units = prompt ~= nil and quoted_units(c.chat(prompt, quote_options(shown, least_sentences)).text) or {}
    if #units < 2 and #draft > #units then units = draft end
    -- The section's strongest evidence stays whatever the model chose (the best-ranked sentence;
    -- the best two in the first section, which answers the topic itself); near-duplicates go;
    -- the best-ranked unused candidates fill up to two sentences.
    local kept = {}
    -- A shorter sentence whose words a longer one nearly all holds ("AI+影视: 赋能生产全环节;" beside
    -- "AI+影视：AIGC 有望在影视生产全环节得到广泛应用。") says nothing more.
    local function restates(u, w) return #w.text > #u.text and contained(u.text, w.text) >= 0.7 end
    local function add(u)
      for _, k in ipairs(kept) do
        if k.text == u.text or overlap(k.text, u.text) > 0.6 or restates(u, k) then return end
      end
      kept[#kept + 1] = u
    end
    -- (The best three there when the best gives no answer of the kind asked: there for the
    -- question's words, it is the very fact a "why" asks about, "LLM 单纯云端部署（例如 ChatGPT）并不
    -- 广泛接受。", and the answer is among the next: the concerns, ranked third, had gone.)
    local strongest = i > 1 and 1 or (candidates[1].fits == false and 3 or 2)
    for k = 1, math.min(strongest, #candidates) do
      add({text = candidates[k].text, citation = candidates[k].passage})
    end
    for _, u in ipairs(units) do add(u) end
    -- And one kept before a longer one that restates it goes.
    local distinct = {}
    for _, u in ipairs(kept) do
      local restated = false
      for _, w in ipairs(kept) do if w ~= u and restates(u, w) then restated = true end end
      if not restated then distinct[#distinct + 1] = u end
    end
    kept = distinct
    for _, s in ipairs(candidates) do
      if #kept >= least_sentences then break end
      add({text = s.text, citation = s.passage})
    end
    -- Reading order: by source (as first cited), then position in it.
    local where = {}
    for _, s in ipairs(candidates) do where[s.text] = s end
    local passages = evidence[i].passages
    local source_rank = {}
    for _, u in ipairs(kept) do
      local document = passages[u.citation].document
      if source_rank[document] == nil then
        local n = 0
        for _ in pairs(source_rank) do n = n + 1 end
        source_rank[document] = n + 1
      end
    end
    local function position(u)
      local p = passages[u.citation]
      local s = where[u.text]
      return (p.offsets and p.offsets[1] or 0) + (s and s.start or 0)
    end
    table.sort(kept, function(a, b)
      local ra, rb = source_rank[passages[a.citation].document], source_rank[passages[b.citation].document]
      if ra ~= rb then return ra < rb end
      return position(a) < position(b)
    end)
    local function holds(text)
      for _, w in ipairs(kept) do if w.text == text then return true end end
      return false
    end
    -- Units first..last to the front, in their order.
    local function to_front(first, last)
      for m = first, last do table.insert(kept, m - first + 1, table.remove(kept, m)) end
    end
    -- The report's first sentence is where a reader looks for the answer: the best-ranked
    -- sentence leads the key findings, the rest follow in reading order. A kept sentence right
    -- before it in its source comes first when it is its lead-in, stating no figure ("中国 AI
    -- Agent 市场空间广阔…" before "2023 年中国 AI Agent 市场规模为 554 亿元…"). One with a figure
    -- is a fact of its own: "…a staff of 1,240" does not go before "Staff turnover fell to 6%…".
    -- (Also bringing one ranked within a tenth of the best put the answer first in one more
    -- English report and second in three Chinese ones: bench/report_quality.py, session 23.)
    -- (The best-ranked the section kept: the best itself may have gone as the restatement of a
    -- longer one, "2023年生成式AI总投资额达到252.3亿美元、同比+785.3%。" of "2023 年以来，伴随以
    -- ChatGPT 为代表的大模型持续获得关注，生成式 AI 总投资额达到 252.3 亿美元、同比+785.3%。")
    -- A topic put as a question ("What did a stationary LFP battery pack cost per kWh?") wants its
    -- answer first: there the lead-in follows it ("Falling cell prices drove the boom." opened
    -- that report, its $97 second).
    -- Whether kept unit `u` stands right before unit `v` in their passage (only spacing between).
    local function right_before(u, v)
      local su, sv = where[u.text], where[v.text]
      return u.citation == v.citation and su ~= nil and sv ~= nil and su.passage == sv.passage and
             su["end"] <= sv.start and sv.start - su["end"] <= 3
    end
    local best
    for _, s in ipairs(candidates) do
      if holds(s.text) then best = s.text break end
    end
    if i == 1 and best ~= nil then
      for k = 2, #kept do
        if kept[k].text == best then
          local first = k
          if right_before(kept[k - 1], kept[k]) and not kept[k - 1].text:find("%d") and not asked then
            first = k - 1
          end
          to_front(first, k)
          break
        end
      end
    end
    -- A difference asked ("DeepSeek-R1-Zero和DeepSeek-R1有什么区别？"): the best sentence on the
    -- other of the two follows the first ("Training remains expensive but happens once." came
    -- fourth, after two sentences on serving, behind "Serving costs, by contrast, grow…").
    if i == 1 and best ~= nil then
      local side = nil
      for _, s in ipairs(candidates) do
        if s.text == best then side = s.tells end
      end
      if side == 1 or side == 2 then
        for _, s in ipairs(candidates) do
          if (s.tells == 3 - side or s.tells == 3) and holds(s.text) then
            -- (Right after the best, which its lead-in may precede.)
            local at = 1
            for k = 1, #kept do if kept[k].text == best then at = k end end
            for k = at + 2, #kept do
              if kept[k].text == s.text then table.insert(kept, at + 1, table.remove(kept, k)) break end
            end
            -- (Before it, where the two stand so in one passage: "Training remains expensive but
            -- happens once." goes before "Serving costs, by contrast, grow with every user…",
            -- whose "by contrast" it answers.)
            local other, first = kept[at + 1], kept[at]
            if other ~= nil and other.text == s.text and first.text == best and other.citation == first.citation and
               where[other.text] and where[first.text] and where[other.text].start < where[first.text].start then
              kept[at], kept[at + 1] = other, first
            end
            break
          end
        end
      end
    end
    -- A sentence that leans on the one before it in its source ("它打破了……", "这可能会……") comes
    -- after that sentence, quoted too, when the section does not already hold it: after another
    -- sentence, "它" would name that one's subject.
    -- One whose predecessor the section holds from the same passage comes right after it, wherever
    -- the answer-first order put the two.
    local function holds_from(text, citation)
      for _, w in ipairs(kept) do if w.text == text and w.citation == citation then return true end end
      return false
    end
    -- But a comparison that answers a question asking which ("Which kind of coffee sets the cost
    -- of most instant coffee?") opens the key findings in its own words, the sentence it compares
    -- with right after it: "Robusta prices, which set the cost of most instant coffee, rose even
    -- faster in relative terms." had come second, after arabica's price.
    local lower_topic = topic:lower()
    local asks_which = lower_topic:find("^which%s") ~= nil or lower_topic:find("^what kinds?%s") ~= nil or
                       lower_topic:find("^what types?%s") ~= nil or lower_topic:find("^哪种") ~= nil or
                       lower_topic:find("^哪类") ~= nil or lower_topic:find("^哪一种") ~= nil
    -- So does an answer taking up what the sentence before it introduced ("Two thirds of the
    -- backlog comes from ports in Southeast Asia…" for "Which part of the Harbor Robotics backlog
    -- comes from Southeast Asia?"; "Most of the new capacity is paired with solar farms…"), that
    -- sentence right after it.
    local base_after = nil
    if i == 1 and kept[1] ~= nil then
      local s = where[kept[1].text]
      if s and s.leans and s.previous and ((asks_which and s.compares) or (asked and s.takes_up)) then base_after = kept[1] end
    end
    local follower = {}  -- predecessor's text and citation → the unit that leans on it
    for _, u in ipairs(kept) do
      local s = where[u.text]
      local before = s and s.leans and s.previous
      if before and u ~= base_after and holds_from(before, u.citation) then follower[before .. "\0" .. u.citation] = u end
    end
    -- What a unit announces and brings right after it (see with_next below): the sentence after
    -- it in its paragraph, when it was ranked in the passage it is cited to.
    local function announced_by(u)
      local s = where[u.text]
      return s and s.passage == u.citation and u ~= base_after and s.next or nil, s
    end
    -- A unit leaning on what another one announces ("他们的主要担忧是：" on "88%的参与者…", which
    -- "LLM 单纯云端部署…并不广泛接受。" brings as its figures) waits to follow it there: the
    -- announced sentence is not held yet, and quoting it before its leaner here would quote it
    -- away from its announcer.
    -- (With the units leaning on it in turn, up to its announcer; never the comparison quoted
    -- before the sentence it compares with, base_after.)
    local leaner_of, waiting, waiting_text, waiting_order = {}, {}, {}, {}
    for _, u in ipairs(kept) do
      local after = announced_by(u)
      if after and not holds(after) and leaner_of[after] == nil then
        local document = passages[u.citation] and passages[u.citation].document
        for _, f in ipairs(kept) do
          local fs = where[f.text]
          if f ~= u and f ~= base_after and not waiting[f] and fs and fs.leans and fs.previous == after and
             passages[f.citation] and passages[f.citation].document == document then
            leaner_of[after] = f
            while f ~= nil and f ~= u and f ~= base_after and not waiting[f] do
              waiting[f], waiting_text[f.text] = true, true
              waiting_order[#waiting_order + 1] = f
              f = follower[f.text .. "\0" .. f.citation]
            end
            break
          end
        end
      end
    end
    -- A waiting leaner and the units that lean on it in turn, each handed to `put` in order.
    local function release(f, put)
      while f ~= nil and waiting[f] do
        waiting[f], waiting_text[f.text] = nil, nil
        put(f)
        f = follower[f.text .. "\0" .. f.citation]
      end
    end
    local with_context, placed = {}, {}
    local function place(u)
      if placed[u] or waiting[u] then return end
      placed[u] = true
      with_context[#with_context + 1] = u
      local f = follower[u.text .. "\0" .. u.citation]
      if f ~= nil then place(f) end
    end
    if base_after ~= nil then
      local s = where[base_after.text]
      place(base_after)
      local held = nil
      for _, w in ipairs(kept) do
        if w.text == s.previous and w.citation == base_after.citation then held = w end
      end
      -- (After the sentence announcing it, when that is kept too: "Stationary batteries had their
      -- biggest year yet." had followed its own 169 GWh.)
      for _, w in ipairs(kept) do
        local ws = where[w.text]
        if w ~= base_after and w.citation == base_after.citation and ws and ws.next == s.previous then place(w) end
      end
      if held ~= nil then
        place(held)
      elseif not holds(s.previous) then
        with_context[#with_context + 1] = {text = s.previous, citation = base_after.citation, leans = s.previous_leans}
      end
    end
    for _, u in ipairs(kept) do
      local s = where[u.text]
      local before = s and s.leans and s.previous
      if placed[u] or waiting[u] then
      elseif not (before and holds_from(before, u.citation)) then
        if before and not holds(before) then
          with_context[#with_context + 1] = {text = before, citation = u.citation, leans = s.previous_leans}
          -- (Quoted here as this one's context, the sentence another unit announced brings the
          -- unit waiting on it.)
          release(leaner_of[before], function(f)
            placed[f] = true
            with_context[#with_context + 1] = f
          end)
        end
        place(u)
      end
    end
    for _, u in ipairs(kept) do place(u) end  -- (a cycle of followers, which no text has)
    kept = with_context
    -- A short sentence without a figure ("Lower prices changed project economics.") announces
    -- the one after it in its paragraph, which says what changed: that one follows it, quoted
    -- too, when the section does not already hold it.
    -- Only a sentence ranked in the passage it is cited to (a sentence two documents share is
    -- ranked in the first; its successor in the other may differ). One that leans itself is
    -- quoted right after the one it leans on (above), so what it announces follows both: "累计
    -- 观影人次 1224.76 万人…。" brings "票房市占率 1.17%、同比+0.25pct。" — but not the comparison
    -- quoted before the sentence it compares with (base_after): its announced sentence would
    -- come between the two. The announced one leans on its announcer: it never opens the
    -- section.
    local with_next, brought = {}, {}
    local function taken_here(text) return holds(text) or brought[text] or waiting_text[text] end
    local function bring(u)
      with_next[#with_next + 1] = u
      brought[u.text] = true
      local after, s = announced_by(u)
      if after and not taken_here(after) then
        brought[after] = true
        with_next[#with_next + 1] = {text = after, citation = u.citation, leans = true, announced = true}
        -- A list's announcement ("…具体特点包括：") promised the whole list: its further items
        -- follow the first, in their order (one the section holds is quoted where it is). So do
        -- the sentences the announced one announces in turn, up to one the section holds: that
        -- one brings what follows it itself, in its place.
        local list = s.text:sub(-3) == "：" or s.text:sub(-1) == ":"
        for _, item in ipairs(s.further or {}) do
          if not taken_here(item) then
            brought[item] = true
            with_next[#with_next + 1] = {text = item, citation = u.citation, leans = true, announced = true}
          elseif not list then
            break
          end
        end
        release(leaner_of[after], bring)
      end
    end
    for _, u in ipairs(kept) do bring(u) end
    for _, f in ipairs(waiting_order) do release(f, bring) end  -- (never expected: its announcer brings it)
    kept = with_next
    -- A sentence that leans on the one before it in its source ("这可能会……", "例如……") does
    -- not open the section when another one can (moved with the sentence it announces).
    local function leans(u) return u.leans or (where[u.text] ~= nil and where[u.text].leans) end
    if #kept > 1 and leans(kept[1]) and kept[1] ~= base_after then
      for k = 2, #kept do
        if not leans(kept[k]) then
          local last = k
          while kept[last + 1] ~= nil and kept[last + 1].announced do last = last + 1 end
          to_front(k, last)
          break
        end
      end
    end
    -- A kept sentence right before another in its source, stating no figure but years, is quoted
    -- right before it when the section has it later ("公司自 2020 年开始关注大模型和 AIGC 领域…" had
    -- come between the items of "公司 AI 大模型名为天工大模型, 发展历程如下:", which follows it).
    -- Not one that leans or brings what it announces (it would leave them behind), nor before a
    -- question's answer.
    local function figureless(text)
      for run in pairs(numbers_of(text)) do
        local year = tonumber(run)
        if #run ~= 4 or year < 1900 or year > 2099 then return false end
      end
      return true
    end
    for a = #kept - 1, 1, -1 do
      for b = a + 1, #kept do
        local u = kept[b]
        if right_before(u, kept[a]) and not leans(u) and not u.announced and
           not (kept[b + 1] ~= nil and kept[b + 1].announced) and figureless(u.text) and not (i == 1 and asked and a == 1) then
          table.insert(kept, a, table.remove(kept, b))
          break
        end
      end
    end
    -- "The company" comes after the company is named: where a unit says it of a document whose
    -- title names its subject ("Harbor Robotics: annual review 2024"), no earlier unit and not the
    -- topic naming that subject, the section's unit naming it goes first ("The order backlog stood
    -- at $540 million…, the largest in the company's history." had opened "Port automation demand
    -- in Southeast Asia", "Harbor Robotics designs autonomous straddle carriers…" last). Not
    -- before a question's answer.
    local function subject_of(u)
      local p = passages[u.citation]
      local title = p and type(p.title) == "string" and p.title or ""
      local subject = trim(title:match("^([^:]+):") or "")
      local words = select(2, subject:gsub("%S+", ""))
      -- (A name, not a period or a kind of text: "Q3 2024: …" names no one.)
      return (words >= 1 and words <= 4 and subject:find("^%u") and not subject:find("%d")) and subject or nil,
             p and p.document
    end
    if not (i == 1 and asked) then
      for a = 1, #kept do
        local subject, document = subject_of(kept[a])
        if subject ~= nil and (kept[a].text:find("[Tt]he company") or kept[a].text:find("[Tt]he firm")) then
          local named_before = topic:find(subject, 1, true) ~= nil
          for k = 1, a - 1 do named_before = named_before or kept[k].text:find(subject, 1, true) ~= nil end
          if not named_before then
            for b = a + 1, #kept do
              local u = kept[b]
              local _, other = subject_of(u)
              if other == document and u.text:find(subject, 1, true) and not leans(u) and not u.announced then
                local last = b
                while kept[last + 1] ~= nil and kept[last + 1].announced do last = last + 1 end
                -- (Before the unit announcing this one, when it is announced: the two stay together.)
                local at = a
                while at > 1 and kept[at].announced do at = at - 1 end
                for k = b, last do table.insert(kept, at + k - b, table.remove(kept, k)) end
                break
              end
            end
          end
          break
        end
      end
    end
    for _, u in ipairs(kept) do u.leans = leans(u) end
    -- When every sentence leans ("它打破了……" alone under its heading), the section would open on
    -- a subject the report never names: it is left out (the key findings stay, whatever they are).
    if i > 1 and #kept > 0 and leans(kept[1]) then kept = {} end
    return {units = kept, sentences = #kept}
  end)

  -- A quoted table: its header and rows cell for cell, then where it comes from. With
  -- `question`, a table whose header names columns the question names whole shows the row
  -- labels and those columns alone: the cell that answers is then what the reader sees.
  local function markdown_table(rows, question)
    local function line(cells)
      local out = {}
      -- '|' would split the cell; '[' and ']' would read as citations.
      for k, cell in ipairs(cells) do out[k] = (cell:gsub("|", "/"):gsub("%[", "("):gsub("%]", ")")) end
      return "| " .. table.concat(out, " | ") .. " |"
    end
    -- Rows in the source's order. A header without the row-label column gets an empty one; a
    -- row the passage cut off keeps its cells and blanks for the rest.
    local ordered = {}
    for k, r in ipairs(rows) do ordered[k] = r end
    table.sort(ordered, function(a, b) return a.start < b.start end)
    local width = #rows[1].header
    for _, r in ipairs(ordered) do width = math.max(width, #r.cells) end
    local header = {}
    for _ = 1, width - #rows[1].header do header[#header + 1] = "" end
    for _, cell in ipairs(rows[1].header) do header[#header + 1] = cell end
    local named = question ~= nil and named_columns(header, question) or nil
    local function shown(cells)
      if named == nil then return cells end
      local out = {cells[1]}
      for k = 2, width do if named[k] then out[#out + 1] = cells[k] end end
      return out
    end
    local lines = {line(shown(header)), "|" .. string.rep(" --- |", #shown(header))}
    for _, r in ipairs(ordered) do
      local cells = {}
      for k = 1, width do cells[k] = r.cells[k] or "" end
      lines[#lines + 1] = line(shown(cells))
    end
    lines[#lines + 1] = ""
    lines[#lines + 1] = string.format(T.table_source, rows[1].passage)
    return table.concat(lines, "\n"), named ~= nil
  end

  -- A table is quoted under the section its caption heads, where one does, else under the first
  -- section that offers it. The key findings had quoted "2023-2028 中国 AI Agent 行业市场规模及
  -- 预测" (the caption two lines under the forecast's rows, a section's heading) and left that
  -- section one sentence on another matter. A caption is a heading within a few lines of the
  -- rows (a source line between them), above or below, in a passage of the same document.
  local CAPTION_REACH = 160  -- code points
  local function table_span(i)
    local rows = evidence[i] ~= nil and evidence[i].rows or {}
    local p = rows[1] ~= nil and evidence[i].passages[rows[1].passage] or nil
    if p == nil or type(p.offsets) ~= "table" then return nil end
    local first, last = math.huge, 0
    for _, r in ipairs(rows) do first, last = math.min(first, r.start), math.max(last, r["end"]) end
    return {document = p.document, first = p.offsets[1] + first, last = p.offsets[1] + last}
  end
  local function captions(span, heading, passages)
    local length = utf8.len(heading)
    if length == nil then return false end
    for _, p in ipairs(passages) do
      if p.document == span.document and type(p.offsets) == "table" then
        -- Code points counted on from the last match, not from the passage's start each time, and
        -- no further than the reach past the table: a heading repeated thousands of times in a
        -- long passage is read once.
        local at, counted, before = 1, 1, 0
        while true do
          local b, e = p.text:find(heading, at, true)
          if b == nil then break end
          local more = utf8.len(p.text, counted, b - 1)
          if more == nil then break end
          before, counted = before + more, b
          local from = p.offsets[1] + before
          local to = from + length
          if (from >= span.last and from - span.last <= CAPTION_REACH) or
             (to <= span.first and span.first - to <= CAPTION_REACH) then
            return true
          end
          if from > span.last + CAPTION_REACH then break end
          at = e + 1
        end
      end
    end
    return false
  end
  local captioned = {}  -- section index → its table's span, where the section's heading captions it
  for i = 2, #outline.sections do
    local span = table_span(i)
    if span ~= nil and captions(span, outline.sections[i].heading, evidence[i].passages) then captioned[i] = span end
  end
  local function same_table(a, b) return a.document == b.document and a.first < b.last and b.first < a.last end
  local function overlaps_any(span, spans)
    for _, other in pairs(spans) do if same_table(span, other) then return true end end
    return false
  end

  -- Which section quotes which table, decided before any is written, so that no section defers to
  -- one that will not quote it: the key findings' table where narrowed to the question, then each
  -- captioned section's own, then the first section offering each of the rest. A span that
  -- overlaps one already chosen is the same table, not quoted again.
  local quotes_table, chosen = {}, {}
  local function choose(i, span)
    if span ~= nil and not overlaps_any(span, chosen) then
      quotes_table[i] = true
      chosen[#chosen + 1] = span
    end
  end
  if evidence[1] ~= nil and table_span(1) ~= nil and select(2, markdown_table(evidence[1].rows, topic)) then
    choose(1, table_span(1))
  end
  for i = 2, #outline.sections do if captioned[i] ~= nil then choose(i, captioned[i]) end end
  for i = 1, #outline.sections do if not quotes_table[i] then choose(i, table_span(i)) end end

  local headings, texts, passages_of, sentences = {}, {}, {}, 0
  -- Sections were written apart: a sentence one quoted for context (the one another leans on,
  -- the one a short one announces) may be another's own. The earlier section keeps it.
  -- (Offering takes a sentence's context with it, so this is rare.) A section left opening with
  -- a leaning sentence loses it, as revise would have done.
  local quoted = {}
  for i, section in ipairs(outline.sections) do
    local n = #headings + 1
    local units = {}
    for _, u in ipairs(revised[i].units) do
      if not quoted[key_of(u.text)] then units[#units + 1] = u end
    end
    if #units < #revised[i].units then
      local first = 1
      while units[first] ~= nil and units[first].leans do first = first + 1 end
      if units[first] ~= nil or i > 1 then
        local rest = {}
        for k = first, #units do rest[#rest + 1] = units[k] end
        units = rest
      end
    end
    local parts = {}
    for _, u in ipairs(units) do
      quoted[key_of(u.text)] = true
      parts[#parts + 1] = u.text .. "[" .. u.citation .. "]"
    end
    local text = table.concat(parts, separator)
    local rows = evidence[i].rows or {}
    if quotes_table[i] then
      -- Narrowed only under the key findings, by the topic, the reader's own question: a later
      -- heading is often the table's caption, which names the columns it compares ("DeepSeek
      -- 大模型与 GPT-4、Llama3.1405B 对比" would keep GPT-4's and Llama's and drop DeepSeek's).
      local quoted_table, narrowed = markdown_table(rows, i == 1 and topic or nil)
      if narrowed and #parts > 1 then
        -- Its cell is the answer: right after the first sentence, not after all of them.
        text = parts[1] .. "\n\n" .. quoted_table .. "\n\n" .. table.concat(parts, separator, 2)
      else
        text = text ~= "" and (text .. "\n\n" .. quoted_table) or quoted_table
      end
    end
    -- A heading the sources say nothing quotable about is left out rather than left empty.
    if text ~= "" or i == 1 then
      headings[n], texts[n], passages_of[n] = section.heading, text, evidence[i].passages
      sentences = sentences + #parts
    end
  end
  -- A name the question asks about that no source mentions is said first (see the key
  -- findings' search).
  local missing = evidence[1] ~= nil and evidence[1].missing or {}
  local notice = nil
  if #missing > 0 then
    notice = string.format(T.not_mentioned, table.concat(missing, T.name_joiner))
  elseif evidence[1] ~= nil and evidence[1].unanswered then
    notice = T.not_answered
  end
  if notice ~= nil and #headings > 0 then
    ctx.warn(notice)
    texts[1] = texts[1] ~= "" and (notice .. "\n\n" .. texts[1]) or notice
  end
  return assemble(ctx, T, outline.title, headings, texts, passages_of, collection, sentences, sentences)
end

-- Abstractive: the model writes the outline, the queries and cited free text.
local function abstractive_outline(ctx, c)
  local T, topic, collection, chat, fit = c.T, c.topic, c.collection, c.chat, c.fit
  local max_sections, context = c.max_sections, c.context
  do
    local notes = ctx.memory.search{collection = collection, query = topic, k = 5}
    local function notes_text(chars)
      local lines = {}
      for i, hit in ipairs(notes.hits) do lines[i] = "- " .. clip(hit.text, chars) end
      return table.concat(lines, "\n")
    end
    -- Bounded lengths keep the longest possible outline within the token budget, so even an
    -- untrained model's outline completes.
    local schema = {
      type = "object",
      properties = {
        title = {type = "string", minLength = 1, maxLength = 40},
        sections = {type = "array", minItems = 2, maxItems = max_sections, items = {
          type = "object",
          properties = {heading = {type = "string", minLength = 1, maxLength = 30},
                        question = {type = "string", minLength = 1, maxLength = 60}},
          required = {"heading", "question"}, propertyOrdering = {"heading", "question"}}},
      },
      required = {"title", "sections"},
      propertyOrdering = {"title", "sections"},
    }
    local budget = math.min(1600, math.max(256, context // 2))
    local reply = chat(fit(function(chars) return string.format(T.outline, 2, max_sections, topic, notes_text(chars)) end, budget),
                       {json_schema = schema, max_tokens = budget})
    if reply.json == nil then error("outline: the model's JSON was cut short (max_tokens)", 0) end
    local result = reply.json
    result.title = trim(result.title) ~= "" and trim(result.title) or topic
    for i, section in ipairs(result.sections) do
      if trim(section.heading) == "" then section.heading = string.format("%s %d", topic, i) end
    end
    return result
  end
end

local function abstractive(ctx, inputs, c, outline)
  local T, collection, lang, chat, fit = c.T, c.collection, c.lang, c.chat, c.fit
  local per_section = c.per_section

  local evidence = ctx.map("search", outline.sections, function(section)
    local reply = chat(string.format(T.queries, outline.title, section.heading, section.question), {
      json_schema = {type = "object", required = {"queries"}, properties = {
        queries = {type = "array", minItems = 1, maxItems = 3, items = {type = "string", minLength = 1, maxLength = 30}}}},
      max_tokens = 400})
    local queries = {section.heading .. " " .. section.question}
    for _, q in ipairs(reply.json and reply.json.queries or {}) do
      if trim(q) ~= "" then queries[#queries + 1] = trim(q) end
    end
    local passages = gather(ctx, collection, queries, per_section)
    if inputs.web then web_passages(ctx, section.heading, passages, per_section + 3) end
    if #passages == 0 then ctx.warn("no passages found for section \"" .. section.heading .. "\"") end
    return {queries = queries, passages = passages}
  end)

  local drafts = ctx.map("draft", outline.sections, function(section, i)
    local passages = evidence[i].passages
    if #passages == 0 then
      return {text = chat(string.format(T.no_passages, outline.title, section.heading, section.question)).text}
    end
    local prompt = fit(function(chars)
      if lang == "zh" then
        return string.format(T.draft, outline.title, section.heading, section.question, numbered(passages, chars))
      end
      return string.format(T.draft, section.heading, outline.title, section.question, numbered(passages, chars))
    end, 384)
    return {text = chat(prompt, {cite = #passages}).text}
  end)

  local revised = ctx.map("revise", outline.sections, function(section, i)
    local passages = evidence[i].passages
    local draft = drafts[i].text
    if #passages == 0 then return {text = draft, cited = {}, sentences = 0, cited_sentences = 0, dropped = 0} end
    local critique = chat(fit(function(chars)
      return string.format(T.critique, numbered(passages, chars), clip(draft, 4 * chars))
    end, 200), {max_tokens = 200}).text
    local rewrite = chat(fit(function(chars)
      return string.format(T.rewrite, numbered(passages, chars), clip(draft, 4 * chars), clip(critique, 2 * chars))
    end, 384), {cite = #passages}).text
    -- Keep the rewrite unless it lost every citation the draft had.
    local text = trim(rewrite) ~= "" and rewrite or draft
    local checked, cited, dropped, sentences, with_citation = check_citations(text, #passages)
    local _, draft_cited = check_citations(draft, #passages)
    if #cited == 0 and #draft_cited > 0 then
      checked, cited, dropped, sentences, with_citation = check_citations(draft, #passages)
    end
    if dropped > 0 then ctx.warn(string.format("section %d: dropped %d citation(s) to passages that do not exist", i, dropped)) end
    return {text = trim(checked), critique = critique, cited = cited, dropped = dropped,
            sentences = sentences, cited_sentences = with_citation}
  end)

  local headings, texts, passages_of, sentences, cited_sentences = {}, {}, {}, 0, 0
  for i, section in ipairs(outline.sections) do
    headings[i], texts[i], passages_of[i] = section.heading, revised[i].text, evidence[i].passages
    sentences = sentences + revised[i].sentences
    cited_sentences = cited_sentences + revised[i].cited_sentences
  end
  return assemble(ctx, T, outline.title, headings, texts, passages_of, collection, sentences, cited_sentences)
end

plan{
  name = "report",
  description = "Research report: outline → search → draft → revise, with citations to the collection.",
  -- Checked when a run is started (a run with other inputs is refused, naming the key); the
  -- checks in `run` below stay for what a schema cannot say (a topic of only spaces).
  inputs = {
    type = "object",
    properties = {
      -- A subject or a question, not a document: a longer one never fits the outline's prompt
      -- (the shipped model's context is 1024 tokens), and a plain error names the input.
      topic = {type = "string", minLength = 1, maxLength = 500, description = "the subject of the report (at most 500 characters)"},
      collection = {type = "string", minLength = 1, description = "the memory collection to search"},
      max_sections = {type = "integer", minimum = 2, maximum = 8, description = "sections, the key findings included (default 4)"},
      passages = {type = "integer", minimum = 1, maximum = 12, description = "passages per section (default 6)"},
      sentences = {type = "integer", minimum = 2, maximum = 12, description = "sentences per section (default 4)"},
      style = {enum = {"auto", "extractive", "abstractive"}, description = "how the report is written (default auto: the model's card)"},
      web = {type = "boolean", description = "also search the web (needs search_url and an allowlist)"},
    },
    required = {"topic", "collection"},
  },
  run = function(ctx, inputs)
    local topic = inputs.topic
    if type(topic) ~= "string" or trim(topic) == "" then error("inputs.topic: a non-empty string is required", 0) end
    local collection = inputs.collection
    if type(collection) ~= "string" or collection == "" then error("inputs.collection: a collection name is required", 0) end
    local max_sections = math.tointeger(inputs.max_sections or 4)
    if max_sections == nil or max_sections < 2 or max_sections > 8 then error("inputs.max_sections: an integer from 2 to 8", 0) end
    local per_section = math.tointeger(inputs.passages or 6)
    if per_section == nil or per_section < 1 or per_section > 12 then error("inputs.passages: an integer from 1 to 12", 0) end
    local requested_style = inputs.style or "auto"
    if requested_style ~= "auto" and requested_style ~= "extractive" and requested_style ~= "abstractive" then
      error("inputs.style: \"extractive\", \"abstractive\" or \"auto\"", 0)
    end
    local lang = is_chinese(topic) and "zh" or "en"
    local T = L[lang]

    -- Prompts must fit the model's context with room for the answer: `build(n)` writes the
    -- prompt with passages clipped to n characters, and n halves until it fits.
    local context = ctx.llm.context_length()
    -- 500 characters can be many tokens (rare ideographs, emoji: 1,352 tokens for one such
    -- topic): the outline's prompt says the topic whole, beside the headings to choose from.
    local topic_tokens = ctx.llm.count_tokens(topic)
    if topic_tokens > context // 2 then
      error(string.format("inputs.topic: %d tokens, at most %d for this model's context of %d", topic_tokens,
                          context // 2, context), 0)
    end
    local function fit(build, answer_tokens)
      local chars = 600
      while true do
        local prompt = build(chars)
        local needed = ctx.llm.count_tokens(T.system .. prompt) + answer_tokens + 48
        if needed <= context or chars <= 20 then return prompt end
        chars = chars // 2
      end
    end
    local function chat(user, extra)
      -- Greedy with a mild repetition penalty: small models otherwise fall into loops.
      local request = {messages = {{role = "system", content = T.system}, {role = "user", content = user}},
                       max_tokens = 384, temperature = 0, repetition_penalty = 1.2}
      for k, v in pairs(extra or {}) do request[k] = v end
      return ctx.llm.chat(request)
    end
    local max_sentences = math.tointeger(inputs.sentences or 4)
    if max_sentences == nil or max_sentences < 2 or max_sentences > 12 then error("inputs.sentences: an integer from 2 to 12", 0) end
    local c = {T = T, topic = trim(topic), collection = collection, lang = lang, max_sections = max_sections,
               per_section = per_section, max_sentences = max_sentences, context = context, fit = fit, chat = chat}
    -- The style is decided in the outline step and checkpointed with it: a run resumed under
    -- another model keeps the style it started with.
    local outline = ctx.step("outline", function()
      local style = requested_style
      local info = ctx.llm.info()
      if style == "auto" then
        style = (info.loaded and info.writing_style == "extractive") and "extractive" or "abstractive"
      elseif style == "abstractive" and info.loaded and info.writing_style == "extractive" then
        -- Asked for, so done; but the reader should know why the text reads as it does.
        ctx.warn("inputs.style: abstractive asked of " .. tostring(info.name or "the model") ..
                 ", whose card says it writes only extractively (it is too small to write free text worth reading); " ..
                 "style \"auto\" or \"extractive\" quotes the sources instead")
      end
      local result = style == "extractive" and extractive_outline(ctx, c) or abstractive_outline(ctx, c)
      result.style = style
      return result
    end)
    if outline.style == "extractive" then return extractive(ctx, inputs, c, outline) end
    return abstractive(ctx, inputs, c, outline)
  end,
}
