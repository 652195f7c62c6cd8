// What both llama.cpp drivers (llamacpp_bench.mjs, llamacpp_greedy.mjs) share: their option
// parsing and the prompt generator, which must stay the same as bench/engine_throughput.cc's.
import path from "node:path";
import {pathToFileURL} from "node:url";

// --kebab-case VALUE pairs into the keys of `defaults` (camelCase); --peer-dir and --model are
// required.
export function parseArgs(argv, defaults) {
  const args = {peerDir: "", model: "", ...defaults};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = argv[i + 1];
  }
  if (!args.peerDir || !args.model) throw new Error("--peer-dir and --model are required");
  return args;
}

// The same 32-bit xorshift as BenchPrompt in bench/engine_throughput.cc.
export function benchPrompt(n, vocab, seed) {
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

// node-llama-cpp from the scratch directory, on the CPU with `threads` threads.
export async function loadLlama(peerDir, threads) {
  const {getLlama} = await import(pathToFileURL(path.join(peerDir, "node_modules/node-llama-cpp/dist/index.js")).href);
  return await getLlama({gpu: false, build: "never", maxThreads: threads, logLevel: process.env.AGENTD_PEER_LOG_LEVEL ?? "error"});
}

// The range prompt ids are drawn from, as bench/engine_throughput.cc draws them: the file's
// vocabulary (node-llama-cpp's model.tokens has no count), capped below Qwen3's special tokens.
export function promptVocabulary(model) {
  const size = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length;
  if (!size) throw new Error("the GGUF file has no tokenizer.ggml.tokens");
  return Math.min(size, 151643);
}
