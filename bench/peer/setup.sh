# Sourced by the peer scripts (run.sh, agreement.sh) from the repository root: the scratch
# directory ($AGENTD_PEER_DIR, default /tmp/agentd-peer) with node-llama-cpp pinned at 3.21.1
# installed from npm, where the random checkpoints live, and a check that agentd is built.
peer_dir=${AGENTD_PEER_DIR:-/tmp/agentd-peer}
models=/tmp/agentd-bench-models
mkdir -p "$peer_dir"
if [ ! -f "$peer_dir/node_modules/node-llama-cpp/package.json" ]; then
  echo "== installing node-llama-cpp 3.21.1 into $peer_dir" >&2
  (cd "$peer_dir" && npm install --no-audit --no-fund --ignore-scripts node-llama-cpp@3.21.1 >&2)
fi
[ -x build/bin/engine_throughput ] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }

# The tokenizer directory of a shape's model: DeepSeek-V3's for a DeepSeek-V3-layout shape, else
# Qwen3's.
shape_tokenizer() {
  if grep -q '"model_type": *"deepseek_v3"' "$1"; then echo tests/data/tokenizers/deepseek_v3; else echo tests/data/tokenizers/qwen3; fi
}
