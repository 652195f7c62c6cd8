-- Every kind of call the runtime carries: steps, ctx.map's concurrent tasks, the model, memory,
-- tools and the agent loop, a failing tool caught, and a task's coroutine resumed by the plan.
plan{
  name = "every_call",
  description = "fuzz seed",
  inputs = {type = "object", properties = {topic = {type = "string"}}},
  run = function(ctx, inputs)
    local outline = ctx.step("outline", function()
      return ctx.llm.chat{messages = {{role = "user", content = inputs.topic}}, max_tokens = 8}
    end)
    local found = ctx.map("search", inputs.items, function(item, i)
      local hits = ctx.memory.search{collection = "c", query = tostring(item), k = 2}
      local told = ctx.tools.call("echo", {i = i})
      return {hits = #hits.hits, told = told.tool}
    end, {concurrency = 3})
    local agent = ctx.step("agent", function()
      return ctx.agent{messages = {{role = "user", content = "go"}}, tools = {"echo"}, max_rounds = 2}
    end)
    local failed = ctx.step("fails", function()
      local ok, err = pcall(ctx.tools.call, "fails", {})
      ctx.warn(err)
      return ok
    end)
    local sentences = ctx.step("sentences", function()
      return ctx.memory.sentences{query = "q", passages = {{text = "a. b."}}}
    end)
    local co
    ctx.map("rogue", {1, 2}, function(item)
      co = coroutine.running()
      return ctx.llm.generate{prompt = "p" .. item}
    end)
    if co then pcall(coroutine.resume, co, true, {text = "made up"}) end
    local tokens = ctx.llm.count_tokens(outline.text) + ctx.llm.context_length()
    return {media_type = "text/markdown", content = outline.text .. json.encode(found) .. tostring(tokens),
            references = {agent.text, failed, #sentences.sentences, #ctx.tools.list(), ctx.current_step()}}
  end,
}
