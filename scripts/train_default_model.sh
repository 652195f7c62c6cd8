#!/usr/bin/env bash
# Rebuilds the default model from scratch: corpus and task data from Debian documentation
# packages, the BPE tokenizer, training (preset cpu or gpu), export to engine/models/agentd-default,
# the engine-vs-training parity check and the held-out figures. Seeded; idempotent apart from
# overwriting the model directory.
#
#   bash scripts/train_default_model.sh [cpu|gpu] [MINUTES]      (defaults: cpu, 45)
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-cpu}"
MINUTES="${2:-45}"
bash scripts/install_deps.sh
bash scripts/build.sh
WORK=var/train
mkdir -p "$WORK"
/usr/bin/python3 engine/train/build_corpus.py --out "$WORK/corpus"
/usr/bin/python3 engine/train/bpe.py --corpus "$WORK/corpus" --vocab-size 16000 --out "$WORK/tokenizer"
/usr/bin/python3 engine/train/train.py --preset "$PRESET" --corpus "$WORK/corpus" --tokenizer "$WORK/tokenizer" \
  --out "$WORK/model" --minutes "$MINUTES"
/usr/bin/python3 engine/train/check_parity.py --model "$WORK/model" --agentctl build/bin/agentctl
/usr/bin/python3 engine/train/evaluate.py --model "$WORK/model" --corpus "$WORK/corpus" | tee "$WORK/model/evaluation.json"
mkdir -p engine/models/agentd-default
for f in config.json model.safetensors tokenizer.json tokenizer_config.json training.json evaluation.json; do
  cp "$WORK/model/$f" engine/models/agentd-default/
done
echo "default model written to engine/models/agentd-default"
