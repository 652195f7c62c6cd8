#!/usr/bin/env bash
# The issue's top-token goals on the fixtures, for llama.cpp too: each fixture that llama.cpp
# runs (tests/data/models: qwen3_moe_tiny, deepseek_v3_tiny — its deepseek2 needs a query LoRA
# except in 27-layer models, so deepseek_v2_lite_tiny is not one, and write_gguf.py has no dense
# qwen3) is written as GGUF in bf16, Q8_0 and Q4_0; llama.cpp and agentd run each file over the
# fixture's sequences, and agentd its own --quantize of the f32 checkpoint, and each count is of
# positions whose top token is transformers' (the float32 reference in expected.safetensors).
# The bf16 file shows what rounding the fixtures' f32 weights to 16 bits alone costs.
#
#   bash bench/peer/fixtures.sh
#
# Needs the build, node and npm, and the npm registry (as bench/peer/run.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/peer/setup.sh
source bench/peer/distributions.sh
out=${OUT_DIR:-$peer_dir/fixtures}
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 tests/fuzz/write_seed_tokenizer.py "$out/tokenizer.json"  # ids are given: any vocabulary loads

for fixture in qwen3_moe_tiny deepseek_v3_tiny; do
  dir=tests/data/models/$fixture
  /usr/bin/python3 -c "import json, sys; json.dump(json.load(open(sys.argv[1]))['sequences'], open(sys.argv[2], 'w'))" \
      "$dir/expected.json" "$out/$fixture.windows.json"
  for type in bf16 q8_0 q4_0; do
    gguf=$out/$fixture.$type.gguf
    /usr/bin/python3 bench/peer/write_gguf.py --checkpoint "$dir" --tokenizer "$out/tokenizer.json" --out "$gguf" --type "$type" >&2
    node bench/peer/llamacpp_probabilities.mjs --peer-dir "$llama_dir" --model "$gguf" \
        --windows "$out/$fixture.windows.json" --out "$out/$fixture.$type.llamacpp.f32"
    agentd_logits "$out/$fixture.windows.json" "$out/$fixture.$type.agentd-file.f32" --model "$gguf"
  done
  agentd_logits "$out/$fixture.windows.json" "$out/$fixture.bf16.agentd.f32" --model "$dir"
  agentd_logits "$out/$fixture.windows.json" "$out/$fixture.q8_0.agentd.f32" --model "$dir" --quantize q8
  agentd_logits "$out/$fixture.windows.json" "$out/$fixture.q4_0.agentd.f32" --model "$dir" --quantize q4
done

/usr/bin/python3 - "$out" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" <<'PY' | tee "$out/fixtures.md"
import json, struct, sys
import numpy as np
out, cpu = sys.argv[1:3]

def reference_logits(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    def tensor(name):
        begin, end = header[name]["data_offsets"]
        return np.frombuffer(data[begin:end], dtype=np.float32).reshape(header[name]["shape"])
    return tensor

print(f"Positions whose top token is transformers' (float32 reference); {cpu}\n")
print("| fixture | weights | llama.cpp on the file | agentd on the file | agentd on the f32 checkpoint (unquantised; --quantize q8 / q4) |")
print("| --- | --- | --- | --- | --- |")
for fixture in ("qwen3_moe_tiny", "deepseek_v3_tiny"):
    sequences = json.load(open(f"{out}/{fixture}.windows.json"))
    tensor = reference_logits(f"tests/data/models/{fixture}/expected.safetensors")
    top = np.concatenate([tensor(f"logits_{i}") for i in range(len(sequences))]).argmax(axis=1)
    n = len(top)
    def count(name):
        values = np.fromfile(f"{out}/{fixture}.{name}.f32", dtype=np.float32).reshape(n, -1)
        return f"{int((values.argmax(axis=1) == top).sum())}/{n}"
    for t in ("bf16", "q8_0", "q4_0"):
        print(f"| {fixture} | {t} | {count(t + '.llamacpp')} | {count(t + '.agentd-file')} | {count(t + '.agentd')} |")
PY
