#!/usr/bin/env bash
# Does agentd read a GGUF file as llama.cpp does? One random Qwen3-MoE model (the CPU bench
# shape cut to 2 layers, bench/shapes/qwen3_moe_agreement.json; weights of spread 0.25 so that
# the logits have clear winners) is written as GGUF in each type; llama.cpp (node-llama-cpp 3.21.1) decodes greedily from the same prompt on each file;
# agentd runs one forward pass over the prompt and llama.cpp's tokens (agentctl engine logits)
# on the very same file, and on a checkpoint of the file's weights dequantised to f32 by the
# writer (what the file computes, without either engine's rounding), and we count at each step
# how often the top-1 choices agree. A block layout read wrongly agrees about as often as the
# unquantised checkpoint does (the last column, which shows how much the quantisation itself
# moves the choices); what is left below 100% against the f32 reference is each engine's own
# rounding (activations to 8 bits — llama.cpp's K-quant products per 256, ours per 32 — and
# sums in another order).
#
#   bash bench/peer/agreement.sh [--types bf16,q8_0,q4_0,q4_k_m,q5_k_m] [--prompt 32] [--generate 32] [--shape FILE]
#
# --shape bench/shapes/deepseek_v3_agreement.json checks llama.cpp's deepseek2 (MLA) layout the
# same way.
#
# Needs the build, node and npm, and the npm registry (as bench/peer/run.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
types=bf16,q8_0,q4_0,q4_k_m,q5_k_m prompt=32 generate=32 threads=2 stddev=0.25
shape=bench/shapes/qwen3_moe_agreement.json
while [ $# -gt 0 ]; do
  case "$1" in
    --types) types=$2 ;; --prompt) prompt=$2 ;; --generate) generate=$2 ;; --threads) threads=$2 ;;
    --shape) shape=$2 ;; --stddev) stddev=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
source bench/peer/setup.sh
name=$(basename "$shape" .json)
out=${OUT_DIR:-$peer_dir/agreement}
mkdir -p "$out"

tokenizer=$(shape_tokenizer "$shape")
build/bin/engine_throughput --shape "$shape" --stddev "$stddev" --threads "$threads" --prompt 16 --decode 1 > /dev/null
checkpoint=$(ls -d "$models/$name-stddev"*/ | head -1)
checkpoint=${checkpoint%/}
for type in ${types//,/ }; do
  gguf=$checkpoint.$type.gguf
  reference=$out/$type.f32-checkpoint
  if [ ! -f "$gguf" ] || [ "$gguf" -ot "$checkpoint/model.safetensors" ] || [ ! -f "$reference/model.safetensors" ]; then
    /usr/bin/python3 bench/peer/write_gguf.py --checkpoint "$checkpoint" \
        --tokenizer "$tokenizer/tokenizer.json" --out "$gguf" --type "$type" \
        --dequantized-out "$reference" >&2
  fi
  echo "== $type: llama.cpp decodes $generate tokens" >&2
  node bench/peer/llamacpp_greedy.mjs --peer-dir "$peer_dir" --model "$gguf" --threads "$threads" \
      --prompt "$prompt" --generate "$generate" > "$out/$type.json"
  ids=$(/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(','.join(map(str, d['prompt'] + d['generated'][:-1])))" "$out/$type.json")
  echo "== $type: agentd's logits on the same file, on its weights in f32 and on the bf16 checkpoint" >&2
  OMP_NUM_THREADS=$threads build/bin/agentctl engine logits --model "$gguf" --ids "$ids" --out "$out/$type.gguf.f32" >&2
  OMP_NUM_THREADS=$threads build/bin/agentctl engine logits --model "$reference" --ids "$ids" --out "$out/$type.reference.f32" >&2
  OMP_NUM_THREADS=$threads build/bin/agentctl engine logits --model "$checkpoint" --ids "$ids" --out "$out/$type.checkpoint.f32" >&2
done

/usr/bin/python3 - "$out" "$types" "$name" "$stddev" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" <<'PY'
import json, sys
import numpy as np
out, types, name, stddev, cpu = sys.argv[1:6]
print(f"{name}, random weights of spread {stddev}, {cpu}\n")
print("| GGUF type | steps | agentd (file) = llama.cpp (file) | agentd (file) = file's weights in f32 | "
      "llama.cpp (file) = file's weights in f32 | unquantised checkpoint = llama.cpp (file) |")
print("| --- | --- | --- | --- | --- | --- |")
result = {}
for t in types.split(","):
    run = json.load(open(f"{out}/{t}.json"))
    first, chosen = len(run["prompt"]) - 1, np.array(run["generated"])
    top = {}
    for source in ("gguf", "reference", "checkpoint"):
        logits = np.fromfile(f"{out}/{t}.{source}.f32", dtype=np.float32)
        logits = logits.reshape(len(run["prompt"]) + len(chosen) - 1, -1)
        top[source] = logits[first:first + len(chosen)].argmax(axis=1)
    counts = {"agentd_llamacpp": int((top["gguf"] == chosen).sum()),
              "agentd_reference": int((top["gguf"] == top["reference"]).sum()),
              "llamacpp_reference": int((chosen == top["reference"]).sum()),
              "checkpoint_llamacpp": int((top["checkpoint"] == chosen).sum())}
    result[t] = {"steps": len(chosen), **counts}
    n = len(chosen)
    print(f"| {t} | {n} | " + " | ".join(f"{c}/{n}" for c in counts.values()) + " |")
json.dump(result, open(f"{out}/agreement.json", "w"))
PY
