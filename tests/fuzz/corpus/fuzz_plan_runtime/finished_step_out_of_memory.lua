-- A plan that fills its memory and asks for a finished step's output again: its checkpoint was
-- pushed unprotected and leaked on the memory error (found by review, session 44).
plan{name = "leak", run = function(ctx, inputs)
  local big = string.rep("a", 6 << 20)
  local first = ctx.step("s", function() return big end)
  local hog = {}
  while true do
    local ok, s = pcall(string.rep, "b", 256 << 10)
    if not ok then break end
    hog[#hog + 1] = s
  end
  -- host.finished("s") pushes the 6 MiB checkpoint with lua_pushlstring inside Guarded's scope
  local again = ctx.step("s", function() return 1 end)
  return {content = tostring(#hog), media_type = "text/plain"}
end}
