#!/usr/bin/env bash
# Broadcast fan-out against room fan-out on one chatserver, alternating so machine noise hits
# both alike: 100 members, 20,000 × 32 B, lag bound 1000 (the compare.sh fan-out workload).
#   bench/fanout-kinds.sh [ROUNDS]
# Prints every run (deliveries/s and server CPU per delivery) and the medians with their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-7}
cargo build --release --bin chatserver --example loadgen >&2
WORK=$(mktemp -d /tmp/chatkinds.XXXXXX)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
L=target/release/examples/loadgen
$L gen-credentials $(( (ROUNDS * 2 + 2) * 110 )) "$WORK/cred.txt"
target/release/chatserver --bind 127.0.0.1 --credentials "$WORK/cred.txt" --data-dir "$WORK/d" 0 \
  > "$WORK/out" 2>/dev/null < /dev/null &
PID=$!
for _ in $(seq 100); do
  PORT=$(sed -n 's/^chatserver listening on .*:\([0-9]*\)$/\1/p' "$WORK/out"); [ -n "$PORT" ] && break; sleep 0.1
done
n=0
for i in $(seq "$ROUNDS"); do
  for kind in chat chat-room; do
    n=$((n + 1))
    $L fanout --proto $kind --addr "127.0.0.1:$PORT" --pid "$PID" --members 100 --messages 20000 \
      --size 32 --window 1000 --runs 1 --user-base $((n * 110)) --label "$kind" --out "$WORK/res.tsv" \
      2>&1 | sed -n "s/^  fanout run 0: .* = \([0-9]*\)\/s; server CPU [0-9]*% (\([0-9.]*\) us.*/$kind \1 \2/p"
  done
done | tee "$WORK/runs"
med() { sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
B=$(awk '$1=="chat"{print $2}' "$WORK/runs" | med); R=$(awk '$1=="chat-room"{print $2}' "$WORK/runs" | med)
BC=$(awk '$1=="chat"{print $3}' "$WORK/runs" | med); RC=$(awk '$1=="chat-room"{print $3}' "$WORK/runs" | med)
echo "median of $ROUNDS: broadcast $B/s ($BC us CPU each), room $R/s ($RC us CPU each), room/broadcast $(awk -v a="$B" -v b="$R" 'BEGIN{printf "%.3f", b/a}')"
