#!/usr/bin/env bash
# Writes the fuzz_gguf seed corpus/fuzz_gguf/qwen3moe_panels_q4: a Qwen3-MoE GGUF file wide enough
# (hidden 64, 64-token vocabulary, every matrix 32 rows or more) that its Q4_0 and Q8_0 blocks
# become 16-row panels when the fuzz target loads the model and runs two tokens through it (the
# other seeds' width of 32 is widened to float32 instead). The weights are
# engine::WriteRandomCheckpoint's (a fixed seed), so the file comes out the same each time.
#
#   bash tests/fuzz/make_panels_seed.sh   # needs the build and /usr/bin/python3 with numpy
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/fuzz_panels_seed.json" <<'JSON'
{"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "vocab_size": 64, "hidden_size": 64,
 "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32, "num_experts": 4,
 "num_experts_per_tok": 2, "moe_intermediate_size": 64, "intermediate_size": 128, "decoder_sparse_step": 1,
 "mlp_only_layers": [], "norm_topk_prob": true, "max_position_embeddings": 256, "rms_norm_eps": 1e-6,
 "rope_theta": 10000, "tie_word_embeddings": false, "bos_token_id": 0, "eos_token_id": 1, "torch_dtype": "bfloat16"}
JSON
/usr/bin/python3 tests/fuzz/write_seed_tokenizer.py "$work/tokenizer.json"
build/bin/engine_throughput --shape "$work/fuzz_panels_seed.json" --cache-dir "$work/models" --threads 1 --prompt 4 --decode 1 > /dev/null
/usr/bin/python3 bench/peer/write_gguf.py --checkpoint "$work/models/fuzz_panels_seed" --tokenizer "$work/tokenizer.json" \
    --out tests/fuzz/corpus/fuzz_gguf/qwen3moe_panels_q4 --type q4_0
