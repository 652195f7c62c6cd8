#!/usr/bin/env bash
# What a plan of N trivial steps costs: wall time of `agentctl run` and bytes the daemon wrote to
# storage (write_bytes of /proc/PID/io: WAL, flushes and compactions) while it ran, each N on a
# fresh data directory with no model.
#   bash bench/steps/step_checkpoints.sh [BIN_DIR] [N ...]     (default build/bin, 500 2000 5000)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin_dir="${1:-build/bin}"
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(500 2000 5000)
source tests/support/start_agentd.sh
work="$(mktemp -d)"
trap 'kill "${AGENTD_PID:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
written() { awk '/^write_bytes/ {print $2}' "/proc/$AGENTD_PID/io"; }
printf '%6s %9s %12s\n' steps seconds "MB written"
for n in "${counts[@]}"; do
  rm -rf "$work"/*
  start_agentd "$bin_dir" "$work" --model none
  before=$(written)
  start=$(date +%s.%N)
  "$bin_dir/agentctl" --addr "127.0.0.1:$(cat "$work/port")" run steps --plan-file bench/steps/steps.lua \
    --input "n=$n" --quiet --deadline 600 >"$work/out.txt"
  end=$(date +%s.%N)
  after=$(written)
  [ "$(cat "$work/out.txt")" = "$((n * (n + 1) / 2))" ] || { echo "unexpected result: $(cat "$work/out.txt")"; exit 1; }
  printf '%6d %9.1f %12.1f\n' "$n" "$(echo "$end - $start" | bc)" "$(echo "($after - $before) / 1000000" | bc -l)"
  kill "$AGENTD_PID"
  wait "$AGENTD_PID" 2>/dev/null || true
done
