// Renders reference chat prompts with the official tokenizer_config.json templates through
// @huggingface/jinja (npm), for tests/data/chat/*.jsonl.
//   npm install @huggingface/jinja
//   node render_chat_with_jinja.js TOKENIZER_DIR CONVERSATIONS.jsonl > rendered.jsonl
const { Template } = require("@huggingface/jinja");
const fs = require("fs");
const [dir, input] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(dir + "/tokenizer_config.json", "utf8"));
const template = new Template(cfg.chat_template);
const bos = typeof cfg.bos_token === "string" ? cfg.bos_token : (cfg.bos_token ? cfg.bos_token.content : "");
for (const line of fs.readFileSync(input, "utf8").split("\n")) {
  if (!line) continue;
  const c = JSON.parse(line);
  const vars = { messages: c.messages, add_generation_prompt: c.add_generation_prompt, bos_token: bos };
  if (c.tools) vars.tools = c.tools;
  if (c.enable_thinking === false) vars.enable_thinking = false;
  console.log(JSON.stringify({ ...c, rendered: template.render(vars) }));
}
