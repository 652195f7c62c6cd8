#!/usr/bin/env bash
# What 8- and 4-bit weights cost in quality, in agentd and in llama.cpp, on the same weights in
# one run. The model (default: the shipped agentd-default) is written as GGUF in bf16 and in each
# type (bench/peer/write_gguf.py); the held-out text (default: the English seed documents, which
# the default model was not trained on) is cut into windows, each read from an empty context.
# At every position each engine's quantised distribution is set beside the same engine's
# unquantised one — llama.cpp's file of the type against its bf16 file; agentd's `--quantize`
# of the checkpoint, and agentd on llama.cpp's very file, against agentd on the bf16 checkpoint:
# how often the top token is the same, the KL divergence (unquantised ‖ quantised), and the
# perplexity of the text under each. The bf16 row compares the two engines with each other.
#
#   bash bench/peer/quality.sh [--model DIR] [--types q8_0,q4_0,q4_0_pure] [--window 512] [TEXT...]
#
# Types and agentd's schemes: q8_0 = q8, q4_0 = q4 (output head at 8 bits), q4_0_pure = q4-pure
# (output head and embeddings at 4 bits). Needs the build, node and npm, and the npm registry
# (as bench/peer/run.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
model=engine/models/agentd-default types=q8_0,q4_0,q4_0_pure window=512 threads=2
texts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --*) echo "unknown option $1" >&2; exit 2 ;;
    *) texts+=("$1"); shift ;;
  esac
done
[ ${#texts[@]} -gt 0 ] || texts=(tests/data/corpus_en/seeds/*.md)
source bench/peer/setup.sh
out=${OUT_DIR:-$peer_dir/quality}
rm -rf "$out"
mkdir -p "$out"
source bench/peer/distributions.sh

# The windows: each text's ids (agentd's tokenizer, the model's own) cut as
# engine::CutIntoWindows cuts them for bench/quantization_quality.
for text in "${texts[@]}"; do build/bin/agentctl engine tokenize --tokenizer "$model" --text-file "$text"; echo; done \
  | /usr/bin/python3 -c "
import json, sys
window = int(sys.argv[1])
windows = []
for line in sys.stdin:
    if line.strip():
        ids = json.loads(line)
        windows += [ids[s:s + window] for s in range(0, len(ids) - 1, window)]
json.dump(windows, open(sys.argv[2], 'w'))
print(f'{len(windows)} windows, {sum(map(len, windows))} positions', file=sys.stderr)" "$window" "$out/windows.json"

scheme_of() { case "$1" in q8_0) echo q8 ;; q4_0) echo q4 ;; q4_0_pure) echo q4-pure ;; *) echo "no agentd scheme for $1" >&2; exit 2 ;; esac; }
tokenizer=$model/tokenizer.json
for type in bf16 ${types//,/ }; do
  gguf=$out/model.$type.gguf
  /usr/bin/python3 bench/peer/write_gguf.py --checkpoint "$model" --tokenizer "$tokenizer" --out "$gguf" --type "$type" >&2
  echo "== $type: llama.cpp" >&2
  node bench/peer/llamacpp_probabilities.mjs --peer-dir "$llama_dir" --model "$gguf" --threads "$threads" \
      --windows "$out/windows.json" --out "$out/llamacpp.$type.f32"
  echo "== $type: agentd" >&2
  if [ "$type" = bf16 ]; then
    OMP_NUM_THREADS=$threads agentd_logits "$out/windows.json" "$out/agentd.bf16.f32" --model "$model"
  else
    OMP_NUM_THREADS=$threads agentd_logits "$out/windows.json" "$out/agentd.$type.f32" --model "$model" \
        --quantize "$(scheme_of "$type")"
    OMP_NUM_THREADS=$threads agentd_logits "$out/windows.json" "$out/agentd-file.$type.f32" --model "$gguf"
  fi
done

/usr/bin/python3 bench/peer/quality_table.py "$out" "$types" "$model" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" | tee "$out/quality.md"
