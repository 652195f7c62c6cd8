#!/usr/bin/env bash
# Rebuilds the default models from scratch: corpus and task data from Debian documentation
# packages, the BPE tokenizer, training (preset cpu or gpu), export to engine/models/agentd-default,
# the engine-vs-training parity check and the held-out figures; then the retrieval embedding
# model initialised from it (engine/models/agentd-embed) and its parity check. Seeded;
# idempotent apart from overwriting the model directories.
#
#   bash scripts/train_default_model.sh [cpu|gpu] [MINUTES] [EMBEDDER_MINUTES]   (defaults: cpu, 45, 30)
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-cpu}"
MINUTES="${2:-45}"
EMBEDDER_MINUTES="${3:-30}"
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
# agentd_model.json (the writing style, engine/model_card.h) stays as it is: switch it to
# "abstractive" only when bench/report_quality.py shows the new model's abstractive reports beat
# its extractive ones.
echo "default model written to engine/models/agentd-default"
/usr/bin/python3 engine/train/train_embedder.py --corpus "$WORK/corpus" --init "$WORK/model" --out "$WORK/embedder" \
  --minutes "$EMBEDDER_MINUTES" --eval-every 150
/usr/bin/python3 engine/train/check_embedder_parity.py --model "$WORK/embedder" --agentctl build/bin/agentctl
rm -rf engine/models/agentd-embed
mkdir -p engine/models/agentd-embed/1_Pooling
for f in config.json model.safetensors tokenizer.json tokenizer_config.json training.json modules.json \
  config_sentence_transformers.json 1_Pooling/config.json; do
  cp "$WORK/embedder/$f" "engine/models/agentd-embed/$f"
done
echo "embedding model written to engine/models/agentd-embed"
