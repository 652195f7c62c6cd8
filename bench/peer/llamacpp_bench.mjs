// llama.cpp's side of the peer benchmark, through node-llama-cpp's prebuilt binaries (the CPU
// build that picks its kernels for this CPU at run time): prefill at each prompt length (best of
// 3, on an empty sequence), greedy decode after the first prompt, and aggregate decode with S
// sequences of one context decoding together. Token ids come from the same xorshift and seeds as
// bench/engine_throughput.cc, so both engines read the same prompts.
//
//   node llamacpp_bench.mjs --peer-dir DIR --model model.gguf --threads 2 --prompt 128,512 \
//        --decode 64 --sequences 4,16
import {performance} from "node:perf_hooks";
import {benchPrompt, loadLlama, parseArgs, promptVocabulary} from "./common.mjs";

const raw = parseArgs(process.argv, {threads: 2, prompt: "128", decode: 64, sequences: ""});
const args = {
  peerDir: raw.peerDir, model: raw.model, threads: Number(raw.threads), decode: Number(raw.decode),
  prompts: String(raw.prompt).split(",").filter(Boolean).map(Number),
  sequences: String(raw.sequences).split(",").filter(Boolean).map(Number),
};
const llama = await loadLlama(args.peerDir, args.threads);
const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0, useMmap: true});
const vocab = promptVocabulary(model);
const maxPrompt = Math.max(...args.prompts);

async function newContext(sequences, contextSize) {
  return await model.createContext({sequences, contextSize, batchSize: Math.max(512, maxPrompt), threads: args.threads});
}

const result = {engine: "llama.cpp (node-llama-cpp " + (process.env.NODE_LLAMA_CPP_VERSION ?? "3.21.1") + ")",
                threads: args.threads, prefill_tps: {}, decode_tps: 0, aggregate_tps: {}};
{
  const context = await newContext(1, maxPrompt + args.decode + 16);
  const sequence = context.getSequence();
  // Warm-up: page the weights in.
  await sequence.evaluateWithoutGeneratingNewTokens(benchPrompt(64, vocab, 7));
  await sequence.clearHistory();
  for (const n of args.prompts) {
    const prompt = benchPrompt(n, vocab, 1);
    let best = Infinity;
    for (let round = 0; round < 3; ++round) {
      await sequence.clearHistory();
      const start = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      best = Math.min(best, (performance.now() - start) / 1000);
    }
    result.prefill_tps[n] = n / best;
    console.error(`prefill ${n} tokens: ${(n / best).toFixed(1)} tokens/s (${(best * 1000).toFixed(0)} ms)`);
  }
  // Decode after the first prompt: its last token is evaluated by the generator, then each step
  // is one token.
  await sequence.clearHistory();
  const prompt = benchPrompt(args.prompts[0], vocab, 1);
  await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
  let produced = 0, start = 0;
  for await (const token of sequence.evaluate(prompt.slice(-1), {temperature: 0})) {
    if (produced === 0) start = performance.now();  // the first token closes the prefill
    if (++produced > args.decode) break;
  }
  result.decode_tps = args.decode / ((performance.now() - start) / 1000);
  console.error(`decode ${args.decode} tokens: ${result.decode_tps.toFixed(1)} tokens/s`);
  await context.dispose();
}
for (const s of args.sequences) {
  const context = await newContext(s, s * (args.prompts[0] + args.decode + 16));
  const sequences = [];
  for (let i = 0; i < s; ++i) sequences.push(context.getSequence());
  const prompts = sequences.map((_, i) => benchPrompt(args.prompts[0], vocab, 100 + i));
  await Promise.all(sequences.map((seq, i) => seq.evaluateWithoutGeneratingNewTokens(prompts[i].slice(0, -1))));
  const start = performance.now();
  await Promise.all(sequences.map(async (seq, i) => {
    let produced = 0;
    for await (const token of seq.evaluate(prompts[i].slice(-1), {temperature: 0})) {
      if (++produced >= args.decode) break;
    }
  }));
  result.aggregate_tps[s] = s * args.decode / ((performance.now() - start) / 1000);
  console.error(`aggregate decode, ${s} sequences: ${result.aggregate_tps[s].toFixed(1)} tokens/s`);
  await context.dispose();
}
console.log(JSON.stringify(result));
await model.dispose();
await llama.dispose();
