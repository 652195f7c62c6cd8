-- A research brief: search a collection for each question (fanned out, one checkpointed step
-- per question), let the model pick the most relevant sentences under a quote constraint (so
-- every sentence is copied verbatim from a passage and cited), compute a figure with a tool, and
-- return Markdown with numbered references that resolve to the passages.
--
--   agentd --data-dir var/agentd --plans-dir examples/plans --tools-dir examples/tools
--   agentctl run brief --collection reports \
--     --inputs-json '{"questions": ["2023年中国AI Agent市场规模是多少？", "DeepSeek-V3 的训练成本是多少？"]}'
plan{
  name = "brief",
  description = "Answers each question with sentences quoted from a collection, with references.",
  -- Checked when the run is started: other inputs are refused, naming the key.
  inputs = {
    type = "object",
    properties = {
      collection = {type = "string", minLength = 1, description = "the collection to search"},
      questions = {type = "array", minItems = 1, maxItems = 16, items = {type = "string", minLength = 1}},
    },
    required = {"collection", "questions"},
  },
  run = function(ctx, inputs)

    -- One step per question, up to 4 at once; a resumed run reuses the answers already found.
    local answers = ctx.map("answer", inputs.questions, function(question)
      local found = ctx.memory.search{collection = inputs.collection, query = question, k = 4}
      if #found.hits == 0 then
        ctx.warn("nothing found for: " .. question)
        return {question = question, text = "", passages = {}}
      end
      -- Candidate sentences, ranked against the question, then quoted by the model.
      local ranked = ctx.memory.sentences{query = question, passages = found.hits, k = 6, headings = 0}
      local quotable, lengths = {}, {}
      for i, s in ipairs(ranked.sentences) do
        quotable[i] = {text = s.text, citation = s.passage}
        lengths[i] = #s.text
      end
      -- Room for the two longest at one token a byte: under the constraint a model may spell a
      -- quote in smaller tokens than its tokenizer would, and a quote cut short is lost.
      table.sort(lengths, function(a, b) return a > b end)
      local budget = 32 + (lengths[1] or 0) + (lengths[2] or 0)
      local reply = ctx.llm.chat{
        messages = {{role = "user", content = "Answer with sentences from the sources: " .. question}},
        quote = {sentences = quotable, min = 1, max = 2},
        max_tokens = budget, temperature = 0,
      }
      return {question = question, text = reply.text, passages = found.hits}
    end)

    -- A tool call in its own step: how many words the brief quotes.
    local all_text = {}
    for _, a in ipairs(answers) do all_text[#all_text + 1] = a.text end
    local counted = ctx.step("count", function()
      return ctx.tools.call("word_count", {text = table.concat(all_text, " ")})
    end)

    -- Markdown with references: [n] in the text is passage n of its question's hits; the
    -- references are numbered across the brief.
    local lines, references = {"# Brief", ""}, {}
    for _, a in ipairs(answers) do
      lines[#lines + 1] = "## " .. a.question
      lines[#lines + 1] = ""
      local base = #references
      local text = a.text:gsub("%[(%d+)%]", function(n) return "[" .. (base + tonumber(n)) .. "]" end)
      lines[#lines + 1] = text ~= "" and text or "_The collection says nothing about this._"
      lines[#lines + 1] = ""
      for _, hit in ipairs(a.passages) do
        references[#references + 1] = {number = #references + 1, collection = inputs.collection, title = hit.title,
                                        document = hit.document, chunk_id = hit.chunk_id, offsets = hit.offsets}
      end
    end
    lines[#lines + 1] = "## References"
    lines[#lines + 1] = ""
    for _, r in ipairs(references) do
      lines[#lines + 1] = string.format("[%d] %s (%s, characters %d–%d)", r.number, r.title ~= "" and r.title or r.document,
                                        r.document, r.offsets[1], r.offsets[2])
    end
    lines[#lines + 1] = ""
    lines[#lines + 1] = string.format("_%d CJK characters and %d words quoted._", counted.cjk_characters, counted.words)
    return {media_type = "text/markdown", content = table.concat(lines, "\n") .. "\n", references = references}
  end,
}
