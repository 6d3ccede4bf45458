#!/usr/bin/env bash
# Soak test: ten minutes (SECS, default 600) of mixed load on the release binary with connection
# churn, registrations and offline queues (bench/soak.py), a `kill -9` and restart in the middle,
# sampling RSS and descriptors every 10 s; prints the samples and the worst loop iteration.
#   bench/soak.sh [SECS] [WORKERS]    (env TIMEOUT: the server's inactivity timeout, default 300;
#                                      POOL: names registrations draw from, default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-600}
WORKERS=${2:-32}
USERS=200
cargo build --release --bin chatserver >&2
WORK=$(mktemp -d /tmp/chatsoak.XXXXXX)
cp target/release/chatserver "$WORK/chatserver"
for i in $(seq 0 $((USERS - 1))); do echo "u$i p$i"; done > "$WORK/credentials.txt"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PID=
start() {
  RUST_LOG="warn,chatserver::server::guard=info" "$WORK/chatserver" --bind 127.0.0.1 \
    --credentials "$WORK/credentials.txt" --data-dir "$WORK/data" "$PORT" 60 "${TIMEOUT:-300}" \
    < /dev/null >> "$WORK/out" 2>> "$WORK/log" &
  PID=$!
  for _ in $(seq 100); do grep -q "listening" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
}
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; }
trap cleanup EXIT
start
python3 bench/soak.py 127.0.0.1 "$PORT" "$SECS" "$USERS" "$WORKERS" "${POOL:-1000}" > "$WORK/load" &
LOAD=$!
T0=$(date +%s)
KILLED=0
echo "secs rss_kib fds"
while kill -0 "$LOAD" 2>/dev/null; do
  sleep 10
  NOW=$(( $(date +%s) - T0 ))
  if [ "$KILLED" = 0 ] && [ "$NOW" -ge $((SECS / 2)) ]; then
    echo "# kill -9 at ${NOW}s, restart"
    kill -9 "$PID"; wait "$PID" 2>/dev/null || true
    : > "$WORK/out"
    start
    KILLED=1
  fi
  RSS=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo -)
  FDS=$(ls "/proc/$PID/fd" 2>/dev/null | wc -l)
  echo "$NOW $RSS $FDS"
done
cat "$WORK/load"
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
PID=
echo "# worst loop iteration (logged each minute when it grew, and at shutdown):"
grep "worst loop iteration" "$WORK/log" | tail -n 4
echo "# warnings: $(grep -c WARN "$WORK/log" || true), errors: $(grep -c ERROR "$WORK/log" || true); most frequent:"
grep -E "WARN|ERROR" "$WORK/log" | sed 's/^[^ ]* [A-Z]* *[^ ]*: //; s/([0-9.:]*)/(ADDR)/g' | cut -c1-70 | sort | uniq -c | sort -rn | head -n 5 || true
rm -rf "$WORK"
