#!/usr/bin/env bash
# The real server's worst loop iteration while compactions run at the default limits (issue 8:
# none over 50 ms). One TCP sender queues offline messages for 5,000 accounts up to the default
# --max-offline-bytes (64 MiB; `loadgen durable`), so the journal passes the compaction
# threshold again and again and every compaction snapshots a larger state; then the server is
# stopped and its own log gives the worst iteration of its life and the compactions it ran.
#   bench/compaction.sh [ROUNDS] [REV]
# REV: measure that git revision too, alternating with the working tree in one run. The
# command penalty is off (--penalty-us 0) so one sender can fill the limit quickly; every
# other limit is the default.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${1:-3}
REV=${2:-}
MESSAGES=${MESSAGES:-600000}
SIZE=${SIZE:-84}

WORK=$(mktemp -d /tmp/chatcompact.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  [ -z "$REV" ] || git -C "$ROOT" worktree remove --force "$WORK/a-src" 2>/dev/null || true
  rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --bin chatserver --example loadgen >&2
cp target/release/chatserver "$WORK/b"
cp target/release/examples/loadgen "$WORK/loadgen"
if [ -n "$REV" ]; then
  git worktree add --detach "$WORK/a-src" "$REV" >&2
  (cd "$WORK/a-src" && CARGO_TARGET_DIR="$ROOT/target/ab-a" cargo build --release --bin chatserver >&2)
  cp "$ROOT/target/ab-a/release/chatserver" "$WORK/a"
fi
"$WORK/loadgen" gen-credentials 5001 "$WORK/credentials.txt"

run() { # BIN LABEL
  local bin=$1 label=$2 dir=$WORK/data-$RANDOM$RANDOM
  RUST_LOG="warn,chatserver::server::guard=info,chatserver::store=info" "$bin" --bind 127.0.0.1 \
    --credentials "$WORK/credentials.txt" --data-dir "$dir" --penalty-us 0 0 \
    > "$WORK/out" 2> "$WORK/log" &
  local pid=$!; PIDS+=("$pid")
  local port=
  for _ in $(seq 100); do
    port=$(sed -n 's/^chatserver listening on .*:\([0-9]*\)$/\1/p' "$WORK/out"); [ -n "$port" ] && break; sleep 0.1
  done
  "$WORK/loadgen" durable --messages "$MESSAGES" --recipients 5000 --size "$SIZE" --runs 1 \
    --budget 600 --proto chat --addr "127.0.0.1:$port" --pid "$pid" > "$WORK/res" 2>&1 || true
  local rss; rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  local worst compacting compactions snapshot full
  worst=$(sed -n 's/.*worst loop iteration so far: \([0-9]*\) us.*/\1/p' "$WORK/log" | tail -n 1)
  # Builds that log it: how much of the worst iteration was compaction work.
  compacting=$(sed -n 's/.*, \([0-9]*\) us compacting.*/\1/p' "$WORK/log" | tail -n 1)
  compactions=$(grep -c "compacted the journal" "$WORK/log" || true)
  snapshot=$(sed -n 's/.*into a \([0-9]*\) byte snapshot.*/\1/p' "$WORK/log" | tail -n 1)
  full=$(sed -n 's/.*(\([0-9]*\) refused.*/\1/p' "$WORK/res" | head -n 1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$worst" "${compacting:--}" "$compactions" "${snapshot:-0}" "$rss" "${full:-}"
  rm -rf "$dir"
}

echo "label  worst_iteration_us  of_it_compacting_us  compactions  last_snapshot_bytes  peak_rss_kib  refused"
for i in $(seq "$ROUNDS"); do
  [ -z "$REV" ] || run "$WORK/a" "A($REV)"
  run "$WORK/b" "B(tree)"
done | tee "$WORK/rows" | tr '\t' ' '
median() { sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for label in $(cut -f1 "$WORK/rows" | sort -u); do
  echo "$label median worst iteration: $(awk -F'\t' -v l="$label" '$1==l {print $2}' "$WORK/rows" | median) us"
done
