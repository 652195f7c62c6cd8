#!/usr/bin/env bash
# The main job: installs what is missing (Debian 12, as root), builds, starts agentd on loopback
# with a data directory under ./var, and drives it with agentctl over gRPC. The daemon is
# stopped with SIGTERM at the end (clean shutdown), so the script can run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh

DATA_DIR=${AGENTD_DATA_DIR:-var/agentd}
RUN_DIR=$(mktemp -d)
mkdir -p "$DATA_DIR"
build/bin/agentd --listen 127.0.0.1:0 --data-dir "$DATA_DIR" --port-file "$RUN_DIR/port" \
  2>"$RUN_DIR/agentd.log" &
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

echo "== stopping agentd (SIGTERM)"
kill -TERM "$AGENTD_PID"
wait "$AGENTD_PID"
echo "agentd exited with status $?; its log:"
cat "$RUN_DIR/agentd.log"
