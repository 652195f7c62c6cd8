-- A plan that runs until its time limit: the limit's message was built in std::strings that the
-- Lua error's longjmp skipped, a leak per run that ended so (found by this target, session 44).
plan{name = "deadline", run = function(ctx)
  while true do local ok = pcall(string.rep, "b", 16) end
end}
