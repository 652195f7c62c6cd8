// Encode throughput of transformers.js (npm @lenml/tokenizers) on a directory of .txt files, the
// reference for bench/tokenizer_throughput in BENCHMARKS.md.
//   npm install @lenml/tokenizers
//   node tokenizer_throughput_transformers_js.js TOKENIZER_DIR CORPUS_DIR
const { TokenizerLoader } = require("@lenml/tokenizers");
const fs = require("fs");
const [dir, corpus] = process.argv.slice(2);
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(dir + "/tokenizer.json", "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(dir + "/tokenizer_config.json", "utf8")),
});
const docs = fs.readdirSync(corpus).filter(f => f.endsWith(".txt")).map(f => fs.readFileSync(corpus + "/" + f, "utf8"));
const bytes = docs.reduce((a, d) => a + Buffer.byteLength(d), 0);
let best = 1e9;
for (let r = 0; r < 6; r++) { const s = process.hrtime.bigint(); for (const d of docs) tok.encode(d, { add_special_tokens: false }); const t = Number(process.hrtime.bigint() - s) / 1e9; if (r > 0) best = Math.min(best, t); }
console.log(`transformers.js ${dir}: warm ${(bytes / best / 1e6).toFixed(2)} MB/s`);
