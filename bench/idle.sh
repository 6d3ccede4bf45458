#!/usr/bin/env bash
# The ratchet's idle-memory rows alone (about 15 s a round): RSS per idle connection at 10,000
# for line connections (`--no-presence`) and IRC connections (registered guests), ROUNDS times
# in turn, then each row's runs and median.
#   bench/idle.sh [ROUNDS]
# Env: CHATSERVER_BIN / LOADGEN_BIN as for compare.sh (otherwise a release build is made).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${1:-3}
source bench/lib.sh

build_unless_given
ulimit -n "$(ulimit -Hn)"
CONNS=10000
setup_work idle $((CONNS + 2000))
for _ in $(seq "$ROUNDS"); do
  start chatserver --no-presence; sleep 0.5
  lg chatserver idle --conns "$CONNS" --hold 1 --inflight 500 --variant no-presence; stop_server
  start chatirc; sleep 0.5
  lg chatirc idle --conns "$CONNS" --hold 1 --inflight 500 --variant irc; stop_server
done
for row in no-presence irc; do
  values=$(awk -F'\t' -v m="idle_bytes_per_conn@$row" '$2 == m {print $3}' "$RESULTS")
  echo "idle_bytes_per_conn@$row: $(echo "$values" | paste -sd' ' -) (median $(echo "$values" | median) B)"
done
