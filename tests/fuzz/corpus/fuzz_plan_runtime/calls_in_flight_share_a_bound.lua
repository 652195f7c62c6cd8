-- Sixteen calls in flight whose arguments reference one string many times: each call's
-- conversion had a bound of its own, 16 x 128 MiB outside the sandbox (review, session 44).
plan{name = "inflight", run = function(ctx, inputs)
  local s = string.rep("x", 1 << 20)
  local t = {}
  for i = 1, 120 do t[i] = s end
  local items = {}
  for i = 1, 16 do items[i] = i end
  local ok, err = pcall(ctx.map, "m", items, function(item, i)
    return ctx.tools.call("echo", {a = t})
  end, {concurrency = 16})
  return {content = tostring(err):sub(1, 120), media_type = "text/plain"}
end}
