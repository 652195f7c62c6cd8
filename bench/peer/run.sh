#!/usr/bin/env bash
# The CPU engine against llama.cpp in one run, on the same random weights: writes the Qwen3-MoE
# bench shape (or --shape: bench/shapes/deepseek_v3_cpu_bench.json for MLA, llama.cpp's deepseek2)
# once as a Hugging Face checkpoint (agentd reads it) and as GGUF (our writer,
# bench/peer/write_gguf.py; llama.cpp reads it), installs node-llama-cpp pinned at 3.21.1 from
# npm into a scratch directory, then times llama.cpp and agentd one after the other with the same
# threads, prompts and decode lengths, and prints both, their ratios, the read-bandwidth floor
# and the bf16 dot-product peak measured in the same run, as Markdown and JSON. agentd runs twice:
# on the checkpoint (quantised at load for q8_0 / q4_0) and on llama.cpp's GGUF file itself, its
# blocks and its tokenizer, so the last column is the very same bytes on both sides.
#
#   bash bench/peer/run.sh [--threads 2] [--prompt 128,512,2048] [--decode 64] [--sequences 4,16] [--type bf16|q8_0|q4_0|q4_0_pure|q4_k_m|q5_k_m] [--shape FILE]
#
# Needs the build (bash scripts/build.sh), node and npm (Debian: nodejs npm), and the npm
# registry. Scratch: $AGENTD_PEER_DIR (default /tmp/agentd-peer), models in /tmp/agentd-bench-models.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=2 prompt=128,512,2048 decode=64 sequences=4,16 type=bf16
shape=bench/shapes/qwen3_moe_cpu_bench.json
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2 ;; --prompt) prompt=$2 ;; --decode) decode=$2 ;; --sequences) sequences=$2 ;;
    --type) type=$2 ;; --shape) shape=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
source bench/peer/setup.sh
name=$(basename "$shape" .json)
out=${OUT_DIR:-$peer_dir/results}
mkdir -p "$out"

tokenizer=$(shape_tokenizer "$shape")
# agentd first writes the checkpoint (a run with one short prompt), then the GGUF is made from it.
build/bin/engine_throughput --shape "$shape" --threads "$threads" --prompt 16 --decode 1 > /dev/null
gguf=$models/$name.$type.gguf
if [ ! -f "$gguf" ] || [ "$gguf" -ot "$models/$name/model.safetensors" ]; then
  /usr/bin/python3 bench/peer/write_gguf.py --checkpoint "$models/$name" \
      --tokenizer "$tokenizer/tokenizer.json" --out "$gguf" --type "$type" >&2
fi

echo "== llama.cpp" >&2
node bench/peer/llamacpp_bench.mjs --peer-dir "$peer_dir" --model "$gguf" --threads "$threads" \
    --prompt "$prompt" --decode "$decode" --sequences "$sequences" > "$out/llamacpp.json"
echo "== agentd" >&2
# The same precision on both sides: GGUF Q8_0 / Q4_0 blocks for llama.cpp, the same schemes
# quantised at load for agentd (4-bit with its output head at 8 bits on both sides).
quantize=""
# A K-quant mix is compared with agentd's own scheme of the kernels it lands on: q4 for Q4_K_M
# (Q4_K into q4 with block offsets), q8 for Q5_K_M (cpu/kquants.h).
case "$type" in q8_0|q5_k_m) quantize=q8 ;; q4_0|q4_k_m) quantize=q4 ;; q4_0_pure) quantize=q4-pure ;; esac
build/bin/engine_throughput --shape "$shape" --threads "$threads" --prompt "$prompt" --decode "$decode" \
    --sequences "$sequences" --tokenizer "$tokenizer" --quantize "$quantize" --json \
    | tee >(cat >&2) | tail -1 > "$out/agentd.json"
echo "== agentd reading llama.cpp's GGUF file (its own blocks, its own tokenizer)" >&2
build/bin/engine_throughput --model "$gguf" --threads "$threads" --prompt "$prompt" --decode "$decode" \
    --sequences "$sequences" --tokenizer "$gguf" --json \
    | tee >(cat >&2) | tail -1 > "$out/agentd_gguf.json"

/usr/bin/python3 - "$out" "$name" "$type" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" <<'PY'
import json, sys
out, name, dtype, cpu = sys.argv[1:5]
ours = json.load(open(f"{out}/agentd.json"))
gguf = json.load(open(f"{out}/agentd_gguf.json"))
peer = json.load(open(f"{out}/llamacpp.json"))
rows = []
for n in ours["prefill_tps"]:
    rows.append((f"prefill, {n}-token prompt", peer["prefill_tps"].get(n), ours["prefill_tps"][n], gguf["prefill_tps"][n]))
rows.append(("decode (batch 1)", peer["decode_tps"], ours["decode_tps"], gguf["decode_tps"]))
for s in ours["aggregate_tps"]:
    rows.append((f"decode, {s} sequences (aggregate)", peer["aggregate_tps"].get(s), ours["aggregate_tps"][s],
                 gguf["aggregate_tps"][s]))
print(f"{name}, {dtype} weights, {ours['threads']} threads, {cpu}; read bandwidth "
      f"{ours['read_bandwidth_gbs']:.1f} GB/s (decode floor {ours['floor_tps']:.1f} tok/s), bf16 dot-product peak "
      f"{ours['bf16_peak_gflops']:.0f} GFLOP/s\n")
print(f"| tokens/s | {peer['engine']} | agentd (checkpoint) | ÷ llama.cpp | agentd (the same GGUF) | ÷ llama.cpp |")
print("| --- | --- | --- | --- | --- | --- |")
def ratio(mine, theirs):
    return f"{mine / theirs:.2f}×" if theirs else "—"
for label, theirs, mine, from_gguf in rows:
    shown = f"{theirs:.1f}" if theirs else "—"
    print(f"| {label} | {shown} | {mine:.1f} | {ratio(mine, theirs)} | {from_gguf:.1f} | {ratio(from_gguf, theirs)} |")
json.dump({"llama.cpp": peer, "agentd": ours, "agentd_gguf": gguf}, open(f"{out}/peer.json", "w"), indent=1)
PY
