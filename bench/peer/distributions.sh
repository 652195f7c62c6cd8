# Sourced after setup.sh by the peer scripts that compare the two engines' next-token
# distributions rather than time them (quality.sh, fixtures.sh).
#
# $llama_dir: the node-llama-cpp to load. On a CPU with AMX,
# node-llama-cpp loads its sapphirerapids build, whose AMX repacking of Q8_0 and Q4_0 weights
# leaves MLA's three-dimensional attn_k_b / attn_v_b with no backend for their product
# (GGML_ASSERT(*cur_backend_id != -1) in ggml-backend.cpp, 3.21.1). A copy of the package (hard
# links) without that build runs the next best (AVX-512) one: rounding, not speed, is measured.
llama_dir=$peer_dir
if grep -q amx_int8 /proc/cpuinfo; then
  llama_dir=$peer_dir/without-amx
  if [ ! -d "$llama_dir/node_modules" ]; then
    mkdir -p "$llama_dir"
    cp -al "$peer_dir/node_modules" "$llama_dir/node_modules"
    rm -f "$llama_dir"/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-sapphirerapids.so
  fi
fi

# agentd_logits WINDOWS_JSON OUT [agentctl engine logits options]: agentd's logits for each list
# of token ids in WINDOWS_JSON ([[id, ...], ...]), each from an empty cache, one after another
# in OUT (raw float32 [positions, vocabulary], as llamacpp_probabilities.mjs writes its side).
agentd_logits() {
  local windows=$1 file=$2
  shift 2
  : > "$file"
  /usr/bin/python3 -c "import json, sys; [print(','.join(map(str, w))) for w in json.load(open(sys.argv[1]))]" \
      "$windows" | while read -r ids; do
    build/bin/agentctl engine logits "$@" --ids "$ids" --out "$file.window"
    cat "$file.window" >> "$file"
  done
  rm -f "$file.window"
}
