// llama.cpp's tokenization of texts through a GGUF file's own vocabulary and pre-tokenizer
// (node-llama-cpp's prebuilt CPU build), the reference for the pre-tokenizers agentd reads from
// GGUF files (engine/src/gguf_checkpoint.cc): one {"text": ..., "ids": [...]} line per input
// line, special tokens in the text read as such (as Hugging Face tokenizers read them), no BOS
// added.
//
//   node llamacpp_tokenize.mjs --peer-dir DIR --model model.gguf --texts cases.jsonl > out.jsonl
import fs from "node:fs";
import {loadLlama, parseArgs} from "./common.mjs";

const args = parseArgs(process.argv, {texts: "", threads: "2"});
const llama = await loadLlama(args.peerDir, Number(args.threads));
const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0, useMmap: true, vocabOnly: true});
for (const line of fs.readFileSync(args.texts, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const {text} = JSON.parse(line);
  console.log(JSON.stringify({text, ids: Array.from(model.tokenize(text, true))}));
}
await model.dispose();
await llama.dispose();
