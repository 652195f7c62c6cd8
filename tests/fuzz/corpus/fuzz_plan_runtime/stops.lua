-- Calls that end the run (the fuzz host answers "cancel", "deadline" and "budget" as a daemon
-- does), caught by the plan, which must not be able to go on past them.
plan{
  name = "stops",
  run = function(ctx, inputs)
    local caught = {}
    for _, name in ipairs({"budget", "deadline", "cancel"}) do
      caught[#caught + 1] = tostring(pcall(ctx.step, "call " .. name, function()
        return ctx.tools.call(name, {})
      end))
      caught[#caught + 1] = tostring(pcall(ctx.step, name, function() return 1 end))
    end
    local more = ctx.step("after", function() return ctx.llm.generate{prompt = "still here?"} end)
    return {media_type = "text/plain", content = table.concat(caught, ",") .. more.text}
  end,
}
