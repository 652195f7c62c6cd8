// llama.cpp's side of the agreement check (bench/peer/agreement.sh): reads a GGUF file through
// node-llama-cpp's prebuilt CPU build and decodes greedily after a prompt of token ids from the
// same xorshift as bench/engine_throughput.cc, printing {"prompt": [...], "generated": [...]}.
//
//   node llamacpp_greedy.mjs --peer-dir DIR --model model.gguf --prompt 32 --generate 32
import {benchPrompt, loadLlama, parseArgs, promptVocabulary} from "./common.mjs";

const args = parseArgs(process.argv, {prompt: "32", generate: "32", threads: "2", seed: "1"});
const llama = await loadLlama(args.peerDir, Number(args.threads));
const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0, useMmap: true});
const vocab = promptVocabulary(model);
const prompt = benchPrompt(Number(args.prompt), vocab, Number(args.seed));
const generate = Number(args.generate);
const context = await model.createContext({sequences: 1, contextSize: prompt.length + generate + 16,
                                           threads: Number(args.threads)});
const sequence = context.getSequence();
const generated = [];
for await (const token of sequence.evaluate(prompt, {temperature: 0})) {
  generated.push(token);
  if (generated.length >= generate) break;
}
console.log(JSON.stringify({prompt, generated}));
await context.dispose();
await model.dispose();
await llama.dispose();
