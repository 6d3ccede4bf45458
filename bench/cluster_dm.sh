#!/usr/bin/env bash
# Where the cluster's DM latency goes (issue 23): DM p50/p99 at 10k msgs/s (100 pairs,
# receivers on node 1, senders on node 2) for one plain node, two nodes on a Redis with
# `appendfsync always`, two nodes on a Redis with `appendfsync everysec`, and two nodes on a
# Redis with `appendfsync always` whose live traffic goes through a second Redis without
# persistence (`--cluster-live`), rounds alternating so every figure has its anchors in the
# same run. Prints the loadgen's RESULT lines per setup (single, always, everysec, live), one
# per round, and the load average before and after.
#
#   bench/cluster_dm.sh [ROUNDS]     (default 3; needs `cargo build --release --bins --examples`)
#
# With CHATSERVER_BEFORE=<an older chatserver binary>, also two nodes of that binary on a Redis
# with `appendfsync always` (setup `before`), for a change's before/after in one run. RATE=1000
# for another rate. PRIO="chrt -f 10" (or "nice -n -10") runs every node and Redis under that
# prefix and LOADGEN_PRIO the loadgen, so that other work on a shared machine weighs less on the
# figures (say so when quoting them); LOADGEN_ARGS="--idle-sleep-us 50" keeps the loadgen from
# spinning a core of its own between sends.
set -euo pipefail
cd "$(dirname "$0")/.."
CHAT=${CHATSERVER_BIN:-$PWD/target/release/chatserver}
LOADGEN=${LOADGEN_BIN:-$PWD/target/release/examples/loadgen}
T=$(mktemp -d); PIDS=()
PRIO=${PRIO:-}; LOADGEN_PRIO=${LOADGEN_PRIO:-}; LOADGEN_ARGS=${LOADGEN_ARGS:-}
# (Nodes start in a command substitution, a subshell: their pids go through a file.)
cleanup() { for p in "${PIDS[@]}" $(cat "$T/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
"$LOADGEN" gen-credentials 40000 "$T/cred.txt" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis() { local port=$1 mode=$2; mkdir -p "$T/r$port"
  local aof=(--appendonly yes --appendfsync "$mode"); [ "$mode" = none ] && aof=(--appendonly no)
  $PRIO redis-server --port "$port" --bind 127.0.0.1 "${aof[@]}" --save '' --dir "$T/r$port" --daemonize no >"$T/r$port.log" 2>&1 &
  PIDS+=($!); until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done; }
start() { local name=$1; shift; mkdir -p "$T/$name"
  $PRIO "$CHAT" --bind 127.0.0.1 --credentials "$T/cred.txt" --data-dir "$T/$name/data" --no-presence --max-per-ip 100000 --register-rate 0 "$@" 0 </dev/null >"$T/$name/out" 2>"$T/$name/err" &
  echo $! >>"$T/pids"; until grep -q listening "$T/$name/out" 2>/dev/null; do sleep 0.05; done
  head -1 "$T/$name/out" | sed 's/.*://'; }
RA=$(free_port); redis "$RA" always
RE=$(free_port); redis "$RE" everysec
S=$(start single)
A1=$(start a1 --cluster "redis://127.0.0.1:$RA" --node-id a1); A2=$(start a2 --cluster "redis://127.0.0.1:$RA" --node-id a2)
E1=$(start e1 --cluster "redis://127.0.0.1:$RE" --node-id e1); E2=$(start e2 --cluster "redis://127.0.0.1:$RE" --node-id e2)
RL=$(free_port); redis "$RL" always
RP=$(free_port); redis "$RP" none
LIVE=(--cluster "redis://127.0.0.1:$RL" --cluster-live "redis://127.0.0.1:$RP")
L1=$(start l1 "${LIVE[@]}" --node-id l1); L2=$(start l2 "${LIVE[@]}" --node-id l2)
SETUPS="single always everysec live"
if [ -n "${CHATSERVER_BEFORE:-}" ]; then
  RB=$(free_port); redis "$RB" always
  B1=$(CHAT=$CHATSERVER_BEFORE start b1 --cluster "redis://127.0.0.1:$RB" --node-id b1)
  B2=$(CHAT=$CHATSERVER_BEFORE start b2 --cluster "redis://127.0.0.1:$RB" --node-id b2)
  SETUPS="$SETUPS before"
fi
sleep 1
echo "load before: $(uptime)"
BASE=0
for round in $(seq 1 "${1:-3}"); do
  $LOADGEN_PRIO "$LOADGEN" latency --proto chat --addr "127.0.0.1:$S" --rate "${RATE:-10000}" --pairs 100 --runs 1 $LOADGEN_ARGS --user-base $BASE 2>>"$T/err" >>"$T/lat-single" || { tail -5 "$T/err"; exit 1; }
  $LOADGEN_PRIO "$LOADGEN" latency --proto chat --addr "127.0.0.1:$A1" --addr2 "127.0.0.1:$A2" --rate "${RATE:-10000}" --pairs 100 --runs 1 $LOADGEN_ARGS --user-base $((BASE+1000)) 2>/dev/null >>"$T/lat-always"
  $LOADGEN_PRIO "$LOADGEN" latency --proto chat --addr "127.0.0.1:$E1" --addr2 "127.0.0.1:$E2" --rate "${RATE:-10000}" --pairs 100 --runs 1 $LOADGEN_ARGS --user-base $((BASE+2000)) 2>/dev/null >>"$T/lat-everysec"
  $LOADGEN_PRIO "$LOADGEN" latency --proto chat --addr "127.0.0.1:$L1" --addr2 "127.0.0.1:$L2" --rate "${RATE:-10000}" --pairs 100 --runs 1 $LOADGEN_ARGS --user-base $((BASE+3000)) 2>/dev/null >>"$T/lat-live"
  if [ -n "${CHATSERVER_BEFORE:-}" ]; then
    $LOADGEN_PRIO "$LOADGEN" latency --proto chat --addr "127.0.0.1:$B1" --addr2 "127.0.0.1:$B2" --rate "${RATE:-10000}" --pairs 100 --runs 1 $LOADGEN_ARGS --user-base $((BASE+4000)) 2>/dev/null >>"$T/lat-before"
  fi
  BASE=$((BASE+5000))
done
echo "load after: $(uptime)"
for f in $SETUPS; do
  echo "== $f"; cat "$T/lat-$f"
done
