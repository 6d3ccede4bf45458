#!/usr/bin/env bash
# The ratchet's durable row alone (about 20 s a round): chatserver with `--fsync always` (the
# defaults, history on), the same with `--history 0`, the same with `--compact-bytes 64 MiB`
# (Redis's `auto-aof-rewrite-min-size`: no compaction in the row, as Redis rewrites nothing in
# it), and Redis with `appendfsync always`, each a fresh server running `loadgen durable
# --messages 100000 --runs 3` exactly as bench/ratchet.sh does, ROUNDS times in turn; then each
# row's rates, the server's CPU per message, and the ratio the ratchet judges (chatserver
# defaults ÷ Redis, same round).
#   bench/durable.sh [ROUNDS]
# Env: CHATSERVER_BIN / LOADGEN_BIN as for compare.sh (otherwise a release build is made);
# OTHER_BINS="NAME=FILE ..." also runs the defaults row on each of those chatserver binaries in
# every round (variant fsync-always-NAME), for an A/B of builds in one run;
# PERF_STAT=1 also counts, with `perf stat` on each chatserver, the syscalls, context switches
# and page faults per message of its three runs (300,000 messages).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source bench/lib.sh
need redis-server redis-server
build_unless_given
ROUNDS=${1:-3}
ulimit -n "$(ulimit -Hn)"
CONNS=1000
setup_work durable $((3 * 1001 + 10))
DUR=(--messages 100000 --runs 3)
EVENTS=task-clock,context-switches,page-faults,syscalls:sys_enter_fdatasync,syscalls:sys_enter_write
EVENTS+=,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto
EVENTS+=,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_brk
EVENTS+=,syscalls:sys_enter_mmap,syscalls:sys_enter_munmap
chat_row() { # VARIANT [chatserver options...]: one chatserver row, counted with PERF_STAT=1
  local variant=$1 stat=
  shift
  start chatserver --max-offline 1000000 "$@"
  if [ "${PERF_STAT:-0}" = 1 ]; then
    perf stat -e "$EVENTS" -p "$SERVER_PID" -o "$WORK/stat-$variant-$N.txt" 2>/dev/null &
    stat=$!
    sleep 0.2
  fi
  lg chatserver durable "${DUR[@]}" --variant "$variant"
  if [ -n "$stat" ]; then
    kill -INT "$stat"; wait "$stat" 2>/dev/null || true
    echo "chatserver $variant, perf stat per message (300,000 messages):"
    awk '$1 ~ /^[0-9,.]+$/ {gsub(",", "", $1); n = $2; v = $1
      if (n == "msec") { n = "CPU us (task-clock)"; v = $1 * 1000 }
      printf "  %-36s %10.4f\n", n, v / 300000}' \
      "$WORK/stat-$variant-$N.txt"
  fi
  stop_server
}
OTHERS=()
for spec in ${OTHER_BINS:-}; do
  cp "${spec#*=}" "$WORK/chatserver-${spec%%=*}"
  OTHERS+=("${spec%%=*}")
done
for _ in $(seq "$ROUNDS"); do
  chat_row fsync-always
  for name in "${OTHERS[@]}"; do
    CHAT=$WORK/chatserver-$name chat_row "fsync-always-$name"
  done
  chat_row fsync-always-history-0 --history 0
  chat_row fsync-always-compact-64m --compact-bytes $((64 << 20))
  start redis --appendonly yes --appendfsync always
  lg redis durable "${DUR[@]}" --variant fsync-always; stop_server
done
python3 - "$RESULTS" <<'EOF'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 4 and f[1].startswith("durable_mps@"):
        cpu = re.search(r"server CPU \d+% \(([0-9.]+) us per message\)", f[3])
        rows.setdefault((f[0], f[1].split("@", 1)[1]), []).append(
            (float(f[2]), float(cpu.group(1)) if cpu else float("nan")))
for (label, variant), runs in rows.items():
    rates = " ".join(f"{r:.0f}" for r, _ in runs)
    cpus = " ".join(f"{c:.2f}" for _, c in runs)
    print(f"{label} {variant}: msgs/s {rates} (median {statistics.median(r for r, _ in runs):.0f}); "
          f"server us/msg (last run of each) {cpus} (median {statistics.median(c for _, c in runs):.2f})")
chat, redis = rows.get(("chatserver", "fsync-always"), []), rows.get(("redis", "fsync-always"), [])
ratios = [c / r for (c, _), (r, _) in zip(chat, redis)]
if ratios:
    print("durable_vs_redis per round: " + " ".join(f"{x:.3f}" for x in ratios)
          + f" (median {statistics.median(ratios):.3f})")
EOF
