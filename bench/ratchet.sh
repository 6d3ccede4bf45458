#!/usr/bin/env bash
# The performance ratchet (issue 20): the key rows of bench/compare.sh, against ngIRCd and Redis
# in one run (about 4 minutes), each turned into a figure that does not depend on how fast this
# machine is today (a ratio to an anchor measured in the same run, or bytes), and compared with
# the committed bench/baseline.tsv. Prints every row, and each figure that fell more than 15%
# below its baseline; exits 1 if any did. Run it before resolving an issue that touches src/.
#
#   bench/ratchet.sh [--write-baseline]
#
# --write-baseline  replace bench/baseline.tsv with this run (only for a run meant to be the new
#                   reference: a quiet machine, the commit named in the file).
# Env: CHATSERVER_BIN / LOADGEN_BIN as for compare.sh; RESULTS_OUT=FILE keeps the raw TSV.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WRITE=0
case ${1:-} in
  --write-baseline) WRITE=1 ;;
  "") ;;
  *) echo "usage: bench/ratchet.sh [--write-baseline]" >&2; exit 2 ;;
esac
source bench/lib.sh

build_unless_given
need ngircd ngircd
need redis-server redis-server
ulimit -n "$(ulimit -Hn)"
CONNS=$(( ($(ulimit -n) - 500) / 1000 * 1000 ))
[ "$CONNS" -le 19000 ] || CONNS=19000
setup_work ratchet $((CONNS + 2000))
T0=$(date +%s)

FAN=(--members 100 --messages 20000 --size 32 --window 1000)
# The anchors' fan-out runs alternate with chatserver's (a run each per round): measured
# minutes apart, the ratios moved ±20-30% between ratchet runs (BENCHMARKS.md, stops 30-31).
FAN_ANCHORS="ngircd redis" alternate_fanout 5 "${FAN[@]}"
for s in chatserver ngircd; do
  start "$s"; lg "$s" latency --pairs 100 --rate 50000 --secs 4 --warmup 1 --runs 1; stop_server
done
start chatserver; sleep 0.5; lg chatserver idle --conns 10000 --hold 1 --inflight 500; stop_server
start chatserver --no-presence; sleep 0.5
lg chatserver idle --conns 10000 --hold 1 --inflight 500 --variant no-presence; stop_server
start chatirc; sleep 0.5; lg chatirc idle --conns 10000 --hold 1 --inflight 500 --variant irc; stop_server
start chatserver --max-clients $((CONNS + 1000))
lg chatserver conns --conns "$CONNS" --budget 60 --inflight 500; stop_server
start redis; lg redis conns --conns "$CONNS" --budget 60 --inflight 400; stop_server
start chatserver --max-offline 1000000
lg chatserver durable --messages 100000 --runs 3 --variant fsync-always; stop_server
start redis --appendonly yes --appendfsync always
lg redis durable --messages 100000 --runs 3 --variant fsync-always; stop_server
log "measured in $(( $(date +%s) - T0 )) s"
[ -z "${RESULTS_OUT:-}" ] || cp "$RESULTS" "$RESULTS_OUT"

COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo '+changes')"
python3 - "$RESULTS" bench/baseline.tsv "$WRITE" "$COMMIT" "$CONNS" <<'EOF'
import sys, time
results, baseline_path, write, commit, conns = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4], sys.argv[5]
got = {}
notes = {}
for line in open(results):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 3:
        got[(f[0], f[1])] = float(f[2])
        notes[(f[0], f[1])] = f[3] if len(f) > 3 else ""
def cpu_per_message(label, metric):
    # The server's CPU per message in the row's last run, from loadgen's notes.
    import re
    m = re.search(r"server CPU \d+% \(([0-9.]+) us per message\)", notes.get((label, metric), ""))
    return float(m.group(1)) if m else None
def v(label, metric):
    return got.get((label, metric))
def ratio(a, b):
    return a / b if a is not None and b else None
C = "chatserver"
# key, figure, which way is better, what it is
rows = [
    ("fanout_vs_ngircd", ratio(v(C, "fanout_dps"), v("ngircd", "fanout_dps")), "higher",
     "fan-out deliveries/s, chatserver defaults ÷ ngIRCd"),
    ("fanout_vs_redis", ratio(v(C, "fanout_dps"), v("redis", "fanout_dps")), "higher",
     "fan-out deliveries/s, chatserver defaults ÷ Redis pub/sub"),
    ("fanout_defaults_vs_bare", ratio(v(C, "fanout_dps"), v(C, "fanout_dps@fsync-never-history-0")), "higher",
     "fan-out, defaults ÷ --fsync never --history 0 (alternated)"),
    ("dm50k_p99_vs_ngircd", ratio(v(C, "dm_p99_us_50k"), v("ngircd", "dm_p99_us_50k")), "lower",
     "DM p99 at 50k msgs/s, chatserver ÷ ngIRCd"),
    ("idle_storm_bytes", v(C, "idle_bytes_per_conn"), "lower",
     "RSS per idle connection after 10,000 logins with presence (B)"),
    ("idle_line_bytes", v(C, "idle_bytes_per_conn@no-presence"), "lower",
     "RSS per idle line connection, --no-presence (B)"),
    ("idle_irc_bytes", v(C, "idle_bytes_per_conn@irc"), "lower",
     "RSS per idle IRC connection (B)"),
    ("login_rate_vs_redis", ratio(v(C, "conns_rate"), v("redis", "conns_rate")), "higher",
     f"accept+login/s at {conns} users with presence, chatserver ÷ Redis SUBSCRIBE"),
    ("durable_vs_redis", ratio(v(C, "durable_mps@fsync-always"), v("redis", "durable_mps@fsync-always")), "higher",
     "durable messages/s with fsync, chatserver ÷ Redis LPUSH appendfsync always"),
    # The rate above is bounded by fsync latency, which a busy disk moves by 3x between runs
    # (BENCHMARKS.md, "The durable row profiled"); the CPU a message costs it does not.
    ("durable_cpu_vs_redis", ratio(cpu_per_message("redis", "durable_mps@fsync-always"),
                                   cpu_per_message(C, "durable_mps@fsync-always")), "higher",
     "server CPU per durable message, Redis ÷ chatserver (last of 3 runs each)"),
]
base = {}
try:
    for line in open(baseline_path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        base[f[0]] = float(f[1])
except FileNotFoundError:
    print(f"(no {baseline_path} yet)")
fell = []
print(f"{'row':<26} {'now':>10} {'baseline':>10} {'change':>8}  what")
for key, now, better, what in rows:
    b = base.get(key)
    if now is None:
        print(f"{key:<26} {'missing':>10} {b if b is not None else '—':>10} {'':>8}  {what}")
        fell.append(key)
        continue
    change = ""
    if b:
        # How much better than the baseline, as a ratio of "goodness" (the figure, or its
        # inverse when lower is better): -15% means it fell by more than 15%.
        gain = now / b - 1 if better == "higher" else b / now - 1
        change = f"{gain * 100:+.0f}%"
        if gain < -0.15:
            fell.append(key)
    print(f"{key:<26} {now:>10.3f} {b if b is not None else '—':>10} {change:>8}  {what}")
worst = sorted(((val, m.split("@", 1)[1]) for (l, m), val in got.items() if m.startswith("worst_iter_ms@")), reverse=True)
for val, row in worst:
    print(f"worst loop iteration {row:<30} {val:>7.1f} ms{'  OVER 50 ms' if val > 50 else ''}")
for key in fell:
    print(f"FELL more than 15%: {key}")
if write:
    with open(baseline_path, "w") as out:
        out.write(f"# bench/ratchet.sh --write-baseline at {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        out.write("# key\tfigure\tbetter\twhat\n")
        for key, now, better, what in rows:
            if now is not None:
                out.write(f"{key}\t{now:.4f}\t{better}\t{what}\n")
    print(f"wrote {baseline_path}")
sys.exit(1 if fell and not write else 0)
EOF
