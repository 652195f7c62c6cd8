#!/usr/bin/env bash
# Runs run_viewer_browser_test.mjs: Debian's chromium, driven by puppeteer-core from npm (which
# uses the installed browser and downloads none), against a real agentd serving the run viewer
# with two tenants' tokens and the seed reports ingested. Screenshots go to
# BUILD_DIR/test-artifacts/run_viewer/. Without node, chromium or the npm registry the test is
# skipped (exit 77) and says why.
#   run_viewer_browser_test.sh BIN_DIR BUILD_DIR CORPUS_DIR
set -uo pipefail
BIN_DIR="$1"
BUILD_DIR="$2"
CORPUS_DIR="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node and npm are not installed"; exit 77; }
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
PACKAGE_DIR="$BUILD_DIR/npm-puppeteer"
if [ ! -f "$PACKAGE_DIR/node_modules/puppeteer-core/package.json" ]; then
  mkdir -p "$PACKAGE_DIR"
  if ! npm install --prefix "$PACKAGE_DIR" --no-audit --no-fund --loglevel=error puppeteer-core@24.43.1 >"$PACKAGE_DIR/npm.log" 2>&1; then
    echo "SKIP: npm could not install puppeteer-core (no registry?):"; tail -5 "$PACKAGE_DIR/npm.log"; exit 77
  fi
fi
WORK="$(mktemp -d)"
AGENTD_PID=""
trap 'kill "$AGENTD_PID" 2>/dev/null; wait "$AGENTD_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
cat >"$WORK/config.json" <<'JSON'
{"auth": {"tokens": [{"token": "viewer-alice-token-0001", "tenant": "alice"},
                     {"token": "viewer-bob-token-000001", "tenant": "bob"}]}}
JSON
source "$HERE/../../support/start_agentd.sh"
start_agentd "$BIN_DIR" "$WORK" --config "$WORK/config.json"
export AGENTD_ADDR="127.0.0.1:$(cat "$WORK/port")" AGENTD_TOKEN=viewer-alice-token-0001
"$BIN_DIR/agentctl" memory create reports >/dev/null || exit 1
"$BIN_DIR/agentctl" memory ingest reports "$CORPUS_DIR"/*.txt || exit 1
ARTIFACTS="$BUILD_DIR/test-artifacts/run_viewer"
rm -rf "$ARTIFACTS" && mkdir -p "$ARTIFACTS"
cp "$HERE/run_viewer_browser_test.mjs" "$PACKAGE_DIR/"
AGENTD_HTTP_URL="http://127.0.0.1:$(cat "$WORK/http_port")" CHROMIUM="$CHROMIUM" ARTIFACTS="$ARTIFACTS" \
  node "$PACKAGE_DIR/run_viewer_browser_test.mjs"
STATUS=$?
kill -0 "$AGENTD_PID" 2>/dev/null || { echo "agentd died during the test:"; tail -20 "$WORK/agentd.log"; exit 1; }
exit $STATUS
