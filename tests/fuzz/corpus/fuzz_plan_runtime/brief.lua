-- A research brief: search a collection for each question (fanned out, one checkpointed step
-- per question), quote the sentence that answers it best and let the model add one more under a
-- quote constraint (so every sentence is copied verbatim from a passage and cited), compute a
-- figure with a tool, and return Markdown with numbered references that resolve to the passages.
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
      -- Whole sentences around each hit, so that a chunk's cut does not halve the answer.
      local found = ctx.memory.search{collection = inputs.collection, query = question, k = 6, whole_sentences = true}
      -- Sentences ranked against the question: the ranker prefers one that states what is asked
      -- (an amount for "多少", a date for "哪天", a place for "where").
      local ranked = #found.hits > 0
        and ctx.memory.sentences{query = question, passages = found.hits, k = 6, headings = 0}.sentences or {}
      -- Scores are relative to the best sentence; shares_terms says whether it has any word of
      -- the question at all (or only the embedding model's vague likeness).
      if #ranked == 0 or not ranked[1].shares_terms then
        ctx.warn("nothing found for: " .. question)
        return {question = question, text = "", passages = found.hits}
      end
      -- The best-ranked sentence answers. The model chooses one more among the others that rank
      -- close to it, under a quote constraint: copied verbatim with its citation, by construction.
      local best = ranked[1]
      local text = best.text .. "[" .. best.passage .. "]"
      local others, longest = {}, 0
      for i = 2, #ranked do
        if ranked[i].shares_terms and ranked[i].score >= 0.6 * best.score then
          others[#others + 1] = {text = ranked[i].text, citation = ranked[i].passage}
          longest = math.max(longest, #ranked[i].text)
        end
      end
      if #others > 0 then
        local reply = ctx.llm.chat{
          messages = {{role = "user", content = "Question: " .. question .. "\nAnswer: " .. best.text ..
                                                "\nOne more sentence from the sources on the question:"}},
          quote = {sentences = others, min = 1, max = 1},
          -- Room for the longest at one token a byte: under the constraint a model may spell a
          -- quote in smaller tokens than its tokenizer would, and a quote cut short is lost.
          max_tokens = 16 + longest, temperature = 0,
        }
        if reply.text:find("%]$") then text = text .. " " .. reply.text end
      end
      return {question = question, text = text, passages = found.hits}
    end)

    -- A tool call in its own step: how many words the brief quotes.
    local all_text = {}
    for _, a in ipairs(answers) do all_text[#all_text + 1] = a.text end
    local counted = ctx.step("count", function()
      return ctx.tools.call("word_count", {text = table.concat(all_text, " ")})
    end)

    -- Markdown with references: [n] in an answer is passage n of its question's hits; the
    -- passages cited are numbered across the brief, in the order they are first cited.
    local lines, references = {"# Brief", ""}, {}
    for _, a in ipairs(answers) do
      lines[#lines + 1] = "## " .. a.question
      lines[#lines + 1] = ""
      local number_of = {}
      local text = a.text:gsub("%[(%d+)%]", function(n)
        local hit = a.passages[tonumber(n)]
        if number_of[hit] == nil then
          references[#references + 1] = {number = #references + 1, collection = inputs.collection, title = hit.title,
                                          document = hit.document, chunk_id = hit.chunk_id, offsets = hit.offsets}
          number_of[hit] = #references
        end
        return "[" .. number_of[hit] .. "]"
      end)
      lines[#lines + 1] = text ~= "" and text or "_The collection says nothing about this._"
      lines[#lines + 1] = ""
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
