// llama.cpp's side of the peer benchmark, through node-llama-cpp's prebuilt binaries (the CPU
// build that picks its kernels for this CPU at run time): prefill at each prompt length (best of
// 3, on an empty sequence), greedy decode after the first prompt, and aggregate decode with S
// sequences of one context decoding together. Token ids come from the same xorshift and seeds as
// bench/engine_throughput.cc, so both engines read the same prompts.
//
//   node llamacpp_bench.mjs --peer-dir DIR --model model.gguf --threads 2 --prompt 128,512 \
//        --decode 64 --sequences 4,16
import path from "node:path";
import {pathToFileURL} from "node:url";
import {performance} from "node:perf_hooks";

function parseArgs(argv) {
  const args = {threads: 2, prompt: "128", decode: 64, sequences: "", peerDir: "", model: ""};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = argv[i + 1];
  }
  if (!args.peerDir || !args.model) throw new Error("--peer-dir and --model are required");
  return {
    peerDir: args.peerDir, model: args.model, threads: Number(args.threads), decode: Number(args.decode),
    prompts: String(args.prompt).split(",").filter(Boolean).map(Number),
    sequences: String(args.sequences).split(",").filter(Boolean).map(Number),
  };
}

// The same 32-bit xorshift as BenchPrompt in bench/engine_throughput.cc.
function benchPrompt(n, vocab, seed) {
  let state = (2463534242 ^ seed) >>> 0;
  const ids = new Array(n);
  for (let i = 0; i < n; ++i) {
    state = (state ^ (state << 13)) >>> 0;
    state = (state ^ (state >>> 17)) >>> 0;
    state = (state ^ (state << 5)) >>> 0;
    ids[i] = state % vocab;
  }
  return ids;
}

const args = parseArgs(process.argv);
const {getLlama} = await import(pathToFileURL(path.join(args.peerDir, "node_modules/node-llama-cpp/dist/index.js")).href);
const llama = await getLlama({gpu: false, build: "never", maxThreads: args.threads, logLevel: "error"});
const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0, useMmap: true});
const vocab = Math.min(model.tokens.count ?? 151643, 151643);
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
