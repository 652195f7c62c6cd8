#!/usr/bin/env bash
# The main job: installs what is missing (Debian 12, as root), builds, starts agentd on loopback
# with a data directory under ./var, a model and the example tools, and drives it with agentctl
# over gRPC: health, model info, streamed generation and chat, memory ingest and search over the
# seed reports, and tool calls. The daemon is stopped with SIGTERM at the end (clean
# shutdown), so the script can run again.
#
# agentd loads the models that ship with it when no --model is given: the project's default
# model (engine/models/agentd-default: a 16.6M-parameter DeepSeek-V3-layout MoE trained on this
# 2-core CPU; see docs/default_model.md), which declares that it writes extractively — its
# reports quote their sources sentence by sentence and the model chooses which — and the
# retrieval model (engine/models/agentd-embed). AGENTD_MODEL=DIR runs a real checkpoint instead
# (it writes abstractively); AGENTD_EMBEDDING_MODEL=DIR takes another sentence-transformers model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh

DATA_DIR=${AGENTD_DATA_DIR:-var/agentd}
MODEL_ARGS=()
[ -n "${AGENTD_MODEL:-}" ] && MODEL_ARGS+=(--model "$AGENTD_MODEL")
[ -n "${AGENTD_EMBEDDING_MODEL:-}" ] && MODEL_ARGS+=(--embedding-model "$AGENTD_EMBEDDING_MODEL")

echo "== the real DeepSeek-V3 tokenizer on a corpus question (offline, in-process)"
QUESTION_FILE=$(mktemp)
head -n 1 tests/data/corpus/questions.jsonl | sed "s/\"question\"/\"text\"/" >"$QUESTION_FILE"
echo "question: $(head -c 300 "$QUESTION_FILE")"
echo -n "token ids: "
build/bin/agentctl engine tokenize --tokenizer tests/data/tokenizers/deepseek_v3 --jsonl "$QUESTION_FILE"
rm -f "$QUESTION_FILE"
RUN_DIR=$(mktemp -d)
mkdir -p "$DATA_DIR"
build/bin/agentd --listen 127.0.0.1:0 --data-dir "$DATA_DIR" --port-file "$RUN_DIR/port" "${MODEL_ARGS[@]}" \
  --tools-dir examples/tools --http-listen 127.0.0.1:0 --http-port-file "$RUN_DIR/http_port" 2>"$RUN_DIR/agentd.log" &
AGENTD_PID=$!
cleanup() {
  if kill -0 "$AGENTD_PID" 2>/dev/null; then
    kill -TERM "$AGENTD_PID"
    wait "$AGENTD_PID" || true
  fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

for _ in $(seq 1 300); do
  [ -s "$RUN_DIR/port" ] && break
  if ! kill -0 "$AGENTD_PID" 2>/dev/null; then
    echo "agentd failed to start:" >&2
    cat "$RUN_DIR/agentd.log" >&2
    exit 1
  fi
  sleep 0.1
done
ADDR="127.0.0.1:$(cat "$RUN_DIR/port")"
export AGENTD_ADDR="$ADDR"

echo "== agentd serving on $ADDR (data dir $DATA_DIR)"
build/bin/agentctl version
echo -n "health: "
build/bin/agentctl health
echo "== model"
build/bin/agentctl model info
echo "== generate (streamed; greedy)"
# The engine at work: streaming, speculation, throughput. Its text is not the point: the shipped
# 16.6M-parameter model was trained on CPU for this demo and does not write on its own (its free
# text repeats itself); the report below quotes its sources under a constraint instead. A real
# checkpoint given with --model writes (README: "Pointing the daemon at a real checkpoint").
echo "   (the tiny default model repeats itself when it writes freely; see the report below)"
build/bin/agentctl generate --prompt "DeepSeek-V3 is a mixture-of-experts model that" --max-tokens 32 --stats
echo "== chat"
build/bin/agentctl chat --system "You are a research assistant." --message "Summarise the DeepSeek-V3 report." \
  --max-tokens 24 --stats

HTTP_URL="http://127.0.0.1:$(cat "$RUN_DIR/http_port")"
echo "== the OpenAI-compatible API on $HTTP_URL (docs/http.md)"
# The retrieval model over OpenAI's embeddings endpoint: the question against a passage that
# answers it and one that does not (the vectors are normalised: the dot product is the cosine).
curl -s "$HTTP_URL/v1/embeddings" -H 'Content-Type: application/json' \
  -d '{"model": "agentd-embed", "input": ["2023年中国AI Agent市场规模是多少？",
       "2023 年中国 AI Agent 市场规模为 554 亿元，预计至 2028 年将达 8520 亿元。",
       "刚刚过去的2025年春节档创下了新的档期票房纪录。"]}' |
  /usr/bin/python3 -c 'import json, sys
r = json.load(sys.stdin); q, a, b = (d["embedding"] for d in r["data"])
cos = lambda x, y: sum(i * j for i, j in zip(x, y))
print("cosine, question vs the answering passage: %.3f; vs the box-office one: %.3f (%d tokens)"
      % (cos(q, a), cos(q, b), r["usage"]["prompt_tokens"]))'
echo -n "metrics: "
curl -s "$HTTP_URL/metrics" | grep -E '^agentd_http_requests_total' | tr '\n' ' '
echo

echo "== memory: the seed research reports (BM25 + FAISS with the retrieval model's vectors; re-ingesting is a no-op)"
build/bin/agentctl memory stats reports >/dev/null 2>&1 || build/bin/agentctl memory create reports
build/bin/agentctl memory ingest reports tests/data/corpus/seeds/*.txt
echo "-- hybrid search: 2023年中国AI Agent市场规模是多少？"
build/bin/agentctl memory search reports --k 2 --mode hybrid "2023年中国AI Agent市场规模是多少？"
echo "== tools"
build/bin/agentctl tools list | grep -v '^  args'
echo -n "growth_rate 554 -> 8520 over 5 years: "
build/bin/agentctl tools call growth_rate --args '{"start_value": 554, "end_value": 8520, "years": 5}'

echo "== agent run: the built-in report plan over the seed reports (progress on stderr)"
build/bin/agentctl run report --topic "中国AI Agent市场规模与增长" --collection reports --out "$RUN_DIR/report.md"
echo "-- the report:"
cat "$RUN_DIR/report.md"
build/bin/agentctl runs list --limit 3
RUN_ID=$(build/bin/agentctl runs list --limit 1 | awk '{print $1}')
echo "== the run viewer's API (docs/http.md): citation [1] of $RUN_ID, the passage as the browser shows it"
HTTP_URL="$HTTP_URL" RUN_ID="$RUN_ID" /usr/bin/python3 -c 'import json, os, urllib.parse, urllib.request
base = os.environ["HTTP_URL"]
run = json.load(urllib.request.urlopen(base + "/api/runs/" + os.environ["RUN_ID"]))
ref = run["artifact"]["references"][0]
query = urllib.parse.urlencode({"collection": ref["collection"], "document_id": ref["document_id"],
                                "start": ref["span"]["start"], "end": ref["span"]["end"], "context": 0})
p = json.load(urllib.request.urlopen(base + "/api/passage?" + query))
print("[%d] %s, %s, characters %s-%s of %d:" % (ref["number"], p["title"], p["document_id"], p["start"], p["end"], p["document_end"]))
print("    " + " ".join(p["text"].split())[:400])'
echo "(to browse every run of this data directory with its citations: build/bin/agentd --data-dir $DATA_DIR --http-listen 127.0.0.1:8080, then open http://127.0.0.1:8080/)"

echo "== stopping agentd (SIGTERM)"
kill -TERM "$AGENTD_PID"
wait "$AGENTD_PID"
echo "agentd exited with status $?; its log:"
cat "$RUN_DIR/agentd.log"
