// Produces reference tokenizations with transformers.js (npm @lenml/tokenizers), an
// implementation independent of ours, for tests/data/tokenizers/*/corpus_cases.jsonl.
//   npm install @lenml/tokenizers
//   node tokenize_with_transformers_js.js TOKENIZER_DIR INPUT.jsonl > ids.txt
// INPUT.jsonl has one {"text": ...} per line; the output one JSON array of ids per line.
const { TokenizerLoader } = require("@lenml/tokenizers");
const fs = require("fs");
const [dir, input] = process.argv.slice(2);
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(dir + "/tokenizer.json", "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(dir + "/tokenizer_config.json", "utf8")),
});
for (const line of fs.readFileSync(input, "utf8").split("\n")) {
  if (!line) continue;
  const text = JSON.parse(line).text;
  console.log(JSON.stringify(tokenizer.encode(text, { add_special_tokens: false })));
}
