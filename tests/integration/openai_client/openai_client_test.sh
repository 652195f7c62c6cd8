#!/usr/bin/env bash
# Runs openai_client_test.mjs (the official `openai` npm package) against a real agentd with
# --http-listen. The package is installed once into the build tree from the npm registry; with
# no node or no registry the test is skipped (exit 77) and says why.
#   openai_client_test.sh BIN_DIR BUILD_DIR
set -uo pipefail
BIN_DIR="$1"
BUILD_DIR="$2"
HERE="$(cd "$(dirname "$0")" && pwd)"
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node and npm are not installed"; exit 77; }
PACKAGE_DIR="$BUILD_DIR/npm-openai"
if [ ! -f "$PACKAGE_DIR/node_modules/openai/package.json" ]; then
  mkdir -p "$PACKAGE_DIR"
  if ! npm install --prefix "$PACKAGE_DIR" --no-audit --no-fund --loglevel=error openai@4 >"$PACKAGE_DIR/npm.log" 2>&1; then
    echo "SKIP: npm could not install the openai package (no registry?):"; tail -5 "$PACKAGE_DIR/npm.log"; exit 77
  fi
fi
WORK="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
"$BIN_DIR/agentd" --listen 127.0.0.1:0 --data-dir "$WORK/data" --port-file "$WORK/port" \
  --http-listen 127.0.0.1:0 --http-port-file "$WORK/http_port" 2>"$WORK/agentd.log" &
PID=$!
for _ in $(seq 1 600); do
  [ -s "$WORK/port" ] && break
  kill -0 "$PID" 2>/dev/null || { echo "agentd exited:"; cat "$WORK/agentd.log"; exit 1; }
  sleep 0.1
done
[ -s "$WORK/port" ] || { echo "agentd did not start"; cat "$WORK/agentd.log"; exit 1; }
cp "$HERE/openai_client_test.mjs" "$PACKAGE_DIR/"
AGENTD_HTTP_URL="http://127.0.0.1:$(cat "$WORK/http_port")" node "$PACKAGE_DIR/openai_client_test.mjs"
