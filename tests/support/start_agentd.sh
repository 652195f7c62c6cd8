# Sourced by the integration tests that drive agentd from a shell script.
#   start_agentd BIN_DIR WORK [agentd flags...]
# starts BIN_DIR/agentd on loopback (gRPC and HTTP on free ports, data in WORK/data, its log in
# WORK/agentd.log), waits until both ports are written (WORK/port, WORK/http_port) and sets
# AGENTD_PID; if agentd exits or does not start in 60 s, prints its log and exits 1.
start_agentd() {
  local bin_dir="$1" work="$2"
  shift 2
  "$bin_dir/agentd" "$@" --listen 127.0.0.1:0 --data-dir "$work/data" --port-file "$work/port" \
    --http-listen 127.0.0.1:0 --http-port-file "$work/http_port" 2>"$work/agentd.log" &
  AGENTD_PID=$!
  for _ in $(seq 1 600); do
    [ -s "$work/port" ] && [ -s "$work/http_port" ] && return 0
    kill -0 "$AGENTD_PID" 2>/dev/null || { echo "agentd exited:"; cat "$work/agentd.log"; exit 1; }
    sleep 0.1
  done
  echo "agentd did not start"
  cat "$work/agentd.log"
  exit 1
}
