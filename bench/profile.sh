#!/usr/bin/env bash
# Profile chatserver under one bench/compare.sh workload: a build with symbols, `perf record -g`
# (the cpu-clock software event, which works where a VM hides the hardware counters) attached
# for the whole workload, then the top of `perf report`. With CALLGRIND=1 the server runs under
# valgrind's callgrind instead (about 50 times slower, so the workloads are smaller): exact
# instruction counts, inclusive per function, which machine noise does not move.
#   bench/profile.sh ROW [TOP]
# ROW: fanout | fanout-nohist | dm | dm-nohist | idle | conns | durable | durable-nohist
# Also prints the server's worst loop iteration and, for memory rows, its RSS.
# PERF_DATA=FILE keeps the recording (default: a temp file, removed at exit); RUNS=N runs of the
# fan-out rows (default 3); CHATSERVER_BIN=FILE profiles that binary instead of building one
# (e.g. an older commit's, for an A/B of callgrind's totals; a stripped one names no functions).
# Under callgrind the counters are zeroed once the server listens, so the totals are the
# workload's alone (start-up, which reads 21,000 accounts, is left out): divide by the messages
# or deliveries sent for instructions per unit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROW=${1:?usage: bench/profile.sh fanout|fanout-nohist|dm|dm-nohist|idle|conns|durable|durable-nohist [TOP]}
TOP=${2:-40}

if [ -z "${CHATSERVER_BIN:-}" ]; then
  CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    CARGO_TARGET_DIR="$ROOT/target/prof" cargo build --release --bin chatserver >&2
fi
cargo build --release --example loadgen >&2
WORK=$(mktemp -d /tmp/chatprof.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  rm -rf "$WORK"; }
trap cleanup EXIT
BIN=${CHATSERVER_BIN:-$ROOT/target/prof/release/chatserver}
L=$ROOT/target/release/examples/loadgen
DATA=${PERF_DATA:-$WORK/perf.data}
ulimit -n "$(ulimit -Hn)"
"$L" gen-credentials 21000 "$WORK/cred.txt"

FLAGS=(--penalty-us 0)
case $ROW in
  fanout) WORKLOAD=(fanout --members 100 --messages 20000 --size 32 --window 1000 --runs ${RUNS:-3}) ;;
  fanout-nohist) FLAGS+=(--fsync never --history 0)
    WORKLOAD=(fanout --members 100 --messages 20000 --size 32 --window 1000 --runs ${RUNS:-3}) ;;
  dm) WORKLOAD=(latency --pairs 100 --rate 100000 --secs 5 --warmup 1 --runs 1) ;;
  dm-nohist) FLAGS+=(--fsync never --history 0)
    WORKLOAD=(latency --pairs 100 --rate 100000 --secs 5 --warmup 1 --runs 1) ;;
  idle) WORKLOAD=(idle --conns 10000 --hold 1 --inflight 500) ;;
  conns) FLAGS+=(--max-clients 20000); WORKLOAD=(conns --conns 19000 --budget 60 --inflight 500) ;;
  durable) FLAGS+=(--fsync always --max-offline 1000000); WORKLOAD=(durable --messages 200000 --runs 3) ;;
  durable-nohist) FLAGS+=(--fsync always --max-offline 1000000 --history 0)
    WORKLOAD=(durable --messages 200000 --runs 3) ;;
  *) echo "unknown row $ROW" >&2; exit 2 ;;
esac

MSGS=20000
[ "${CALLGRIND:-0}" = 1 ] && MSGS=2000
WORKLOAD=("${WORKLOAD[@]/20000/$MSGS}")
: > "$WORK/out"
WRAP=()
if [ "${CALLGRIND:-0}" = 1 ]; then
  WRAP=(valgrind --tool=callgrind --callgrind-out-file="$DATA" --dump-instr=no)
fi
RUST_LOG="warn,chatserver::server::guard=info" "${WRAP[@]}" "$BIN" --bind 127.0.0.1 --credentials "$WORK/cred.txt" \
  --data-dir "$WORK/data" "${FLAGS[@]}" 0 > "$WORK/out" 2> "$WORK/log" < /dev/null &
PID=$!; PIDS+=("$PID")
for _ in $(seq 300); do
  PORT=$(sed -n 's/^chatserver listening on .*:\([0-9]*\)$/\1/p' "$WORK/out"); [ -n "$PORT" ] && break; sleep 0.1
done
if [ "${CALLGRIND:-0}" = 1 ]; then
  callgrind_control --zero "$PID" > /dev/null
else
  perf record -e cpu-clock -F 2000 -g -p "$PID" -o "$DATA" 2> "$WORK/perf.err" &
  PERF=$!; PIDS+=("$PERF")
fi
sleep 0.5
"$L" "${WORKLOAD[@]}" --budget 600 --proto chat --addr "127.0.0.1:$PORT" --pid "$PID" --src 127.9.0.1 >&2
[ -z "${PERF:-}" ] || { kill -INT "$PERF"; wait "$PERF" 2>/dev/null || true; }
echo "server RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$PID/status"), peak $(awk '/VmHWM/ {print $2, $3}' "/proc/$PID/status")"
kill "$PID"; wait "$PID" 2>/dev/null || true
grep -h 'worst loop iteration' "$WORK/log" | tail -1 || true
if [ "${CALLGRIND:-0}" = 1 ]; then
  callgrind_annotate --inclusive=yes "$DATA" 2>/dev/null | head -n "$((TOP + 20))"
else
  perf report -i "$DATA" --no-children --percent-limit 0.5 --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | head -n "$TOP"
fi
