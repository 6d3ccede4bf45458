#!/usr/bin/env bash
# Where a cross-node DM's time goes (issue 23): two nodes on a Redis with `appendfsync always`
# (with `live`, their live traffic on a second Redis without persistence: --cluster-live), one
# `loadgen latency` run (100 pairs, receivers on node 1, senders on node 2) at RATE msgs/s,
# captured on loopback with tcpdump (and `perf sched record` unless NO_SCHED=1); then
# bench/cluster_stages.py prints each hop's percentiles, the DMs held for the stream tail, the
# sender's longest stalls and what it did meanwhile, each process's CPU and the nodes' worst
# loop iterations. Needs tcpdump (apt) and a release build (`cargo build --release --bins
# --examples`); runs as root for the capture and perf. PRIO and LOADGEN_PRIO as in
# bench/cluster_dm.sh.
#
#   bench/cluster_stages.sh RATE [plain|live] [DIR]     (DIR kept; default a temporary one)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:?rate}; MODE=${2:-plain}
CHAT=${CHATSERVER_BIN:-$PWD/target/release/chatserver}
LOADGEN=${LOADGEN_BIN:-$PWD/target/release/examples/loadgen}
KEEP=${3:-}; T=${KEEP:-$(mktemp -d)}; mkdir -p "$T"; PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "$KEEP" ] || rm -rf "$T"; }
trap cleanup EXIT
PRIO=${PRIO:-}; LOADGEN_PRIO=${LOADGEN_PRIO:-}; LOADGEN_ARGS=${LOADGEN_ARGS:-}
"$LOADGEN" gen-credentials 4000 "$T/cred.txt" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis() { local port=$1 mode=$2 aof=(--appendonly yes --appendfsync always); mkdir -p "$T/r$port"
  [ "$mode" = none ] && aof=(--appendonly no)
  $PRIO redis-server --port "$port" --bind 127.0.0.1 "${aof[@]}" --save '' --dir "$T/r$port" >"$T/r$port.log" 2>&1 &
  PIDS+=($!); echo "redis$port $!" >>"$T/pids"; until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done; }
node() { local name=$1; shift; mkdir -p "$T/$name"
  $PRIO "$CHAT" --bind 127.0.0.1 --credentials "$T/cred.txt" --data-dir "$T/$name/data" --no-presence --max-per-ip 100000 --register-rate 0 --log-level info "$@" 0 </dev/null >"$T/$name/out" 2>"$T/$name/err" &
  PIDS+=($!); echo "$name $!" >>"$T/pids"; until grep -q listening "$T/$name/out" 2>/dev/null; do sleep 0.05; done
  head -1 "$T/$name/out" | sed 's/.*://' >"$T/$name.port"; }
: >"$T/pids"
RA=$(free_port); redis "$RA" always; echo "$RA" >"$T/redis.port"
ARGS=(--cluster "redis://127.0.0.1:$RA")
FILTER="tcp port $RA"
if [ "$MODE" = live ]; then
  RP=$(free_port); redis "$RP" none; echo "$RP" >"$T/live.port"
  ARGS+=(--cluster-live "redis://127.0.0.1:$RP"); FILTER="$FILTER or tcp port $RP"
fi
node n1 "${ARGS[@]}" --node-id n1; node n2 "${ARGS[@]}" --node-id n2
FILTER="$FILTER or tcp port $(cat "$T/n1.port") or tcp port $(cat "$T/n2.port")"
sleep 1; ss -tnp >"$T/ss.txt"
tcpdump -i lo -w "$T/cap.pcap" -s 0 -B 262144 --time-stamp-precision=nano "$FILTER" 2>"$T/tcpdump.err" & TD=$!
SCHED=
if [ -z "${NO_SCHED:-}" ]; then perf sched record -o "$T/sched.data" -a >/dev/null 2>"$T/perf.err" & SCHED=$!; fi
sleep 0.5
cpu() { while read -r n p; do echo "$p $(awk '{print $14+$15}' "/proc/$p/stat")"; done <"$T/pids"; }
cpu >"$T/cpu0"; echo "$(date +%s.%N) $(cut -d' ' -f1 /proc/uptime)" >"$T/clock"
echo "load before: $(uptime)"
$LOADGEN_PRIO "$LOADGEN" latency --proto chat --addr "127.0.0.1:$(cat "$T/n1.port")" --addr2 "127.0.0.1:$(cat "$T/n2.port")" \
  --rate "$RATE" --pairs 100 --runs 1 $LOADGEN_ARGS 2>"$T/loadgen.err" | grep -E "dm_p(50|99)_"
cpu >"$T/cpu1"; echo "load after: $(uptime)"
[ -n "$SCHED" ] && { kill -INT "$SCHED"; wait "$SCHED" || true; }
kill "$TD"; wait "$TD" 2>/dev/null || true
for n in n1 n2; do kill "$(awk -v n=$n '$1==n{print $2}' "$T/pids")"; done
sleep 1.5
for n in n1 n2; do echo "$n: $(grep -h "worst loop" "$T/$n/err" | tail -1 | sed 's/.*guard: //')"; done
python3 bench/cluster_stages.py "$T"
