-- Example tools for research reports, loaded by `agentd --tools-dir examples/tools`.

tool{
  name = "growth_rate",
  description = "Compound annual growth rate between two values over a number of years, in percent.",
  params = {
    type = "object",
    properties = {
      start_value = {type = "number", exclusiveMinimum = 0},
      end_value = {type = "number", minimum = 0},
      years = {type = "number", exclusiveMinimum = 0},
    },
    required = {"start_value", "end_value", "years"},
    additionalProperties = false,
  },
  handler = function(args, ctx)
    local rate = ((args.end_value / args.start_value) ^ (1 / args.years) - 1) * 100
    return {cagr_percent = math.floor(rate * 100 + 0.5) / 100}
  end,
}

tool{
  name = "word_count",
  description = "Counts words (Latin) and CJK characters in a text.",
  params = {
    type = "object",
    properties = {text = {type = "string", maxLength = 1000000}},
    required = {"text"},
  },
  handler = function(args, ctx)
    local words = 0
    for _ in args.text:gmatch("%a+") do words = words + 1 end
    local cjk = 0
    for _, code in utf8.codes(args.text) do
      if code >= 0x4E00 and code <= 0x9FFF then cjk = cjk + 1 end
    end
    log.info("counted " .. words .. " words and " .. cjk .. " CJK characters")
    return {words = words, cjk_characters = cjk}
  end,
}
