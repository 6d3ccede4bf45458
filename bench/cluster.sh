#!/usr/bin/env bash
# Cluster costs (issue 23): two chatserver nodes on one redis-server (AOF, appendfsync always)
# against one plain node, same workloads, in the same run, so every figure has a single-node
# figure measured beside it. This VM has 2 cores shared by the loadgen, Redis and the nodes:
# the rows are costs (latency added, CPU per delivery, Redis commands per message), not scaling.
#
#   bench/cluster.sh [ROUNDS]      (default 3 rounds; medians are reported)
#
# Env: CHATSERVER_BIN / LOADGEN_BIN use prebuilt binaries instead of `cargo build --release`.
# Everything listens on 127.0.0.1, on ports the kernel picks; all traffic stays on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
if [ -z "${CHATSERVER_BIN:-}" ] || [ -z "${LOADGEN_BIN:-}" ]; then
  cargo build --release --bins --examples >&2
fi
CHAT=${CHATSERVER_BIN:-$PWD/target/release/chatserver}
LOADGEN=${LOADGEN_BIN:-$PWD/target/release/examples/loadgen}
command -v redis-server >/dev/null || { log "needs redis-server (apt-get install redis-server)"; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
"$LOADGEN" gen-credentials 30000 "$T/cred.txt" >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --appendonly yes --appendfsync always --save '' \
  --dir "$T" --daemonize no >"$T/redis.log" 2>&1 &
PIDS+=($!); REDIS_PID=$!
until redis-cli -p "$RPORT" ping >/dev/null 2>&1; do sleep 0.05; done

# start NAME ARGS...: a node in its own directory; prints "PID PORT".
start() {
  local name=$1; shift
  mkdir -p "$T/$name"
  "$CHAT" --bind 127.0.0.1 --credentials "$T/cred.txt" --data-dir "$T/$name/data" \
    --no-presence --max-per-ip 100000 --register-rate 0 "$@" 0 </dev/null >"$T/$name/out" 2>"$T/$name/err" &
  local pid=$!
  PIDS+=("$pid")
  until grep -q listening "$T/$name/out" 2>/dev/null; do sleep 0.05; done
  echo "$pid $(head -1 "$T/$name/out" | sed 's/.*://')"
}
read -r S_PID S_PORT < <(start single)
read -r A_PID A_PORT < <(start n1 --cluster "redis://127.0.0.1:$RPORT" --node-id n1)
read -r B_PID B_PORT < <(start n2 --cluster "redis://127.0.0.1:$RPORT" --node-id n2)
sleep 1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
redis_cmds() { redis-cli -p "$RPORT" info stats | awk -F: '/total_commands_processed/ {print $2+0}'; }
TCK=$(getconf CLK_TCK)
result() { printf 'RESULT %s %s %s\n' "$1" "$2" "$3"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
metric() { grep "RESULT" | grep " $1 " | awk '{print $4}' | head -1; }

BASE=0
for round in $(seq 1 "$ROUNDS"); do
  log "round $round: DM latency at 10k msgs/s, single node"
  "$LOADGEN" latency --proto chat --addr "127.0.0.1:$S_PORT" --rate 10000 --pairs 100 --runs 1 \
    --user-base $BASE 2>/dev/null | tee -a "$T/lat-single" >/dev/null
  log "round $round: DM latency at 10k msgs/s, receivers on node 1, senders on node 2"
  "$LOADGEN" latency --proto chat --addr "127.0.0.1:$A_PORT" --addr2 "127.0.0.1:$B_PORT" \
    --rate 10000 --pairs 100 --runs 1 --user-base $((BASE + 1000)) 2>/dev/null | tee -a "$T/lat-cluster" >/dev/null

  log "round $round: fan-out to 100 members, single node"
  "$LOADGEN" fanout --proto chat-room --addr "127.0.0.1:$S_PORT" --members 100 --messages 5000 --runs 1 \
    --user-base $((BASE + 2000)) 2>/dev/null | tee -a "$T/fan-single" >/dev/null
  log "round $round: fan-out to 100 members split over two nodes"
  a0=$(cpu_ticks "$A_PID"); b0=$(cpu_ticks "$B_PID"); r0=$(redis_cmds)
  "$LOADGEN" fanout --proto chat-room --addr "127.0.0.1:$A_PORT" --addr2 "127.0.0.1:$B_PORT" \
    --members 100 --messages 5000 --runs 1 --user-base $((BASE + 3000)) 2>/dev/null | tee -a "$T/fan-cluster" >/dev/null
  a1=$(cpu_ticks "$A_PID"); b1=$(cpu_ticks "$B_PID"); r1=$(redis_cmds)
  # 5000 messages x 100 members; members alternate between the nodes (sender on node 1).
  # CPU of each node per delivery it made (members alternate: 50 on node 1, 50 on node 2),
  # and Redis commands (all nodes together) per message sent.
  awk -v t="$TCK" -v d=$(( (a1 - a0) )) 'BEGIN {printf "%.3f\n", d / t * 1e6 / 250000}' >>"$T/cpu-a"
  awk -v t="$TCK" -v d=$(( (b1 - b0) )) 'BEGIN {printf "%.3f\n", d / t * 1e6 / 250000}' >>"$T/cpu-b"
  awk -v d=$(( r1 - r0 )) 'BEGIN {printf "%.4f\n", d / 5000}' >>"$T/redis-per-msg"

  log "round $round: durable (offline) messages, single node (file journal, fdatasync)"
  "$LOADGEN" durable --proto chat --addr "127.0.0.1:$S_PORT" --messages 20000 --recipients 100 --runs 1 \
    --user-base $((BASE + 4000)) 2>/dev/null | tee -a "$T/dur-single" >/dev/null
  log "round $round: durable (offline) messages through Redis (appendfsync always)"
  "$LOADGEN" durable --proto chat --addr "127.0.0.1:$A_PORT" --messages 20000 --recipients 100 --runs 1 \
    --user-base $((BASE + 5000)) 2>/dev/null | tee -a "$T/dur-cluster" >/dev/null
  log "round $round: durable messages through Redis, 8 senders at once"
  LG=()
  for k in $(seq 0 7); do
    "$LOADGEN" durable --proto chat --addr "127.0.0.1:$A_PORT" --messages 5000 --recipients 10 --runs 1 \
      --user-base $((BASE + 5200 + k * 20)) --src "127.2.$k.1" 2>/dev/null >"$T/dur8-$k" &
    LG+=($!)
  done
  for j in "${LG[@]}"; do wait "$j" || true; done
  cat "$T"/dur8-* | grep ' durable_mps ' | awk '{s += $4} END {print s}' >>"$T/dur-cluster8"
  BASE=$((BASE + 6000))
done

for f in lat-single lat-cluster; do
  for m in dm_p50_us dm_p99_us; do
    result "$f" "$m" "$(grep " $m " "$T/$f" | awk '{print $4}' | median)"
  done
done
for f in fan-single fan-cluster; do result "$f" fanout_dps "$(grep ' fanout_dps ' "$T/$f" | awk '{print $4}' | median)"; done
result cluster node1_cpu_us_per_delivery "$(median <"$T/cpu-a")"
result cluster node2_cpu_us_per_delivery "$(median <"$T/cpu-b")"
result cluster redis_commands_per_message "$(median <"$T/redis-per-msg")"
for f in dur-single dur-cluster; do result "$f" durable_mps "$(grep ' durable_mps ' "$T/$f" | awk '{print $4}' | median)"; done
result dur-cluster-8-senders durable_mps "$(median <"$T/dur-cluster8")"
log "raw lines in $T are removed on exit; rerun with ROUNDS for steadier medians"
