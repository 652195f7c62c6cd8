-- inputs.n trivial steps, one after another: what a plan of many small steps costs in
-- checkpoints (bench/steps/step_checkpoints.sh).
plan{
  name = "steps",
  run = function(ctx, inputs)
    local total = 0
    for i = 1, inputs.n do
      total = total + ctx.step("step/" .. i, function() return i end)
    end
    return {media_type = "text/plain", content = tostring(total)}
  end,
}
