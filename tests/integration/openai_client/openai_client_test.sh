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
AGENTD_PID=""
trap 'kill "$AGENTD_PID" 2>/dev/null; wait "$AGENTD_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
source "$HERE/../../support/start_agentd.sh"
start_agentd "$BIN_DIR" "$WORK"
cp "$HERE/openai_client_test.mjs" "$PACKAGE_DIR/"
AGENTD_HTTP_URL="http://127.0.0.1:$(cat "$WORK/http_port")" node "$PACKAGE_DIR/openai_client_test.mjs"
