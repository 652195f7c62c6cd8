-- The shortest useful plan: one checkpointed step, and the artifact the run produces.
--   agentctl run hello --plan-file examples/plans/hello.lua --input name=Ada
plan{
  name = "hello",
  description = "Greets someone by name.",
  run = function(ctx, inputs)
    local greeting = ctx.step("greet", function()
      return "Hello, " .. (inputs.name or "world") .. "!"
    end)
    return {media_type = "text/plain", content = greeting}
  end,
}
