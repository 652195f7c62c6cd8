#!/usr/bin/env bash
# Writes the fuzz_gguf seed corpus/fuzz_gguf/deepseek2_mla_q8: a 58 KB deepseek2 GGUF file (MLA
# without q-LoRA, YaRN, a dense first layer, 4 routed experts in 2 groups plus a shared one, Q8_0
# blocks, a 64-token vocabulary), so that the fuzzer starts inside the deepseek2 reader
# (gguf_checkpoint.cc: its metadata, attn_k_b/attn_v_b joined into kv_b_proj). The weights are
# engine::WriteRandomCheckpoint's (a fixed seed), so the file comes out the same each time. A second
# seed, deepseek2_llm_q8, is the same model as DeepSeek-V2 (softmax routing) with V2's tokenizer.ggml.pre
# "deepseek-llm", so that its pre-tokenizer is read too.
#
#   bash tests/fuzz/make_deepseek2_seed.sh   # needs the build and /usr/bin/python3 with numpy
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/fuzz_deepseek2_seed.json" <<'JSON'
{"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "vocab_size": 64, "hidden_size": 32,
 "intermediate_size": 64, "moe_intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
 "num_key_value_heads": 2, "n_shared_experts": 1, "n_routed_experts": 4, "routed_scaling_factor": 2.5,
 "kv_lora_rank": 32, "q_lora_rank": null, "qk_rope_head_dim": 16, "v_head_dim": 32, "qk_nope_head_dim": 32,
 "n_group": 2, "topk_group": 1, "num_experts_per_tok": 2, "first_k_dense_replace": 1, "norm_topk_prob": true,
 "scoring_func": "sigmoid", "topk_method": "noaux_tc", "max_position_embeddings": 256, "rms_norm_eps": 1e-6,
 "rope_theta": 10000, "tie_word_embeddings": false, "bos_token_id": 0, "eos_token_id": 1, "num_nextn_predict_layers": 0,
 "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64, "mscale": 1.0, "mscale_all_dim": 1.0, "beta_fast": 32, "beta_slow": 1}}
JSON
/usr/bin/python3 tests/fuzz/write_seed_tokenizer.py "$work/tokenizer.json"
build/bin/engine_throughput --shape "$work/fuzz_deepseek2_seed.json" --cache-dir "$work/models" --threads 1 --prompt 4 --decode 1 > /dev/null
/usr/bin/python3 bench/peer/write_gguf.py --checkpoint "$work/models/fuzz_deepseek2_seed" --tokenizer "$work/tokenizer.json" \
    --out tests/fuzz/corpus/fuzz_gguf/deepseek2_mla_q8 --type q8_0
# DeepSeek-V2: softmax greedy routing, one group; its GGUF names the "deepseek-llm" pre-tokenizer.
sed -e 's/"DeepseekV3ForCausalLM"/"DeepseekV2ForCausalLM"/; s/"deepseek_v3"/"deepseek_v2"/; s/"sigmoid"/"softmax"/' \
    -e 's/"noaux_tc"/"greedy"/; s/"n_group": 2, "topk_group": 1/"n_group": 1, "topk_group": 1/' \
    "$work/fuzz_deepseek2_seed.json" > "$work/fuzz_deepseek2_llm_seed.json"
build/bin/engine_throughput --shape "$work/fuzz_deepseek2_llm_seed.json" --cache-dir "$work/models" --threads 1 --prompt 4 --decode 1 > /dev/null
/usr/bin/python3 bench/peer/write_gguf.py --checkpoint "$work/models/fuzz_deepseek2_llm_seed" --tokenizer "$work/tokenizer.json" \
    --out tests/fuzz/corpus/fuzz_gguf/deepseek2_llm_q8 --type q8_0
