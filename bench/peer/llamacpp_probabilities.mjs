// llama.cpp's side of the quality comparison (bench/peer/quality.sh): reads a GGUF file through
// node-llama-cpp's prebuilt CPU build, evaluates each window of token ids from an empty context,
// and writes the next-token distribution after every position as raw little-endian float32
// [positions, vocabulary] — softmax of the logits at temperature 1 with no top-k, top-p or min-p
// cut, so that it can be set beside agentd's logits position by position.
//
//   node llamacpp_probabilities.mjs --peer-dir DIR --model model.gguf --windows windows.json --out probs.f32
// windows.json: [[id, id, ...], ...]
import fs from "node:fs";
import {loadLlama, parseArgs} from "./common.mjs";

const args = parseArgs(process.argv, {windows: "", out: "", threads: "2"});
const windows = JSON.parse(fs.readFileSync(args.windows, "utf8"));
const vocabulary = Number(process.env.AGENTD_PEER_VOCABULARY ?? 0);
const llama = await loadLlama(args.peerDir, Number(args.threads));
const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0, useMmap: true});
const size = vocabulary || model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const longest = Math.max(...windows.map((w) => w.length));
const context = await model.createContext({sequences: 1, contextSize: longest + 16, threads: Number(args.threads)});
const sequence = context.getSequence();
const out = fs.openSync(args.out, "w");
const all = {temperature: 1, topK: 0, topP: 1, minP: 0};
for (const ids of windows) {
  await sequence.clearHistory();  // each window from an empty context
  const results = await sequence.controlledEvaluate(
      ids.map((id) => [id, {generateNext: {probabilities: true, options: all}}]));
  const rows = new Float32Array(ids.length * size);
  results.forEach((result, position) => {
    const probabilities = result?.next?.probabilities;
    if (probabilities == null) throw new Error(`no probabilities at position ${position}`);
    for (const [token, p] of probabilities) {
      if (token < size) rows[position * size + token] = p;
    }
  });
  fs.writeSync(out, Buffer.from(rows.buffer));
}
fs.closeSync(out);
await context.dispose();
await model.dispose();
await llama.dispose();
