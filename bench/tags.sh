#!/usr/bin/env bash
# Issue 22's tags-on row on its own: IRC fan-out with `server-time message-tags` against the
# same without tags, alternated on one server, ROUNDS rounds of MESSAGES messages to 100 guests
# (32 B each, lag <= 1000). A run of 100,000 messages takes about a second; compare.sh's row
# (20,000 messages, 0.15 s a run) measures the machine's scheduling about as much as the server.
# Prints every run, then the medians of the wall clock and of the server's own CPU per delivery
# (from /proc, the loadgen's figures) and their ratios, and the median of each round's own
# ratio (a round's two runs are neighbours in time, so they mostly share the machine's mood).
# The two runs of a round go in either order, alternately (without tags first in odd rounds):
# on this VM the second run of a pair is about 3% faster (bench/ab.sh's order bias), which a
# fixed order put on the side with tags.
#   bench/tags.sh [ROUNDS] [MESSAGES]        (defaults 41 and 100000: about 90 s)
# SIZE=N: messages of N bytes (default 32, as every fan-out row).
# CHATSERVER_BIN / LOADGEN_BIN pick the binaries (default: build this tree's release ones).
# With two cores or more the server runs on core 0 and the loadgen on core 1 (PIN=0: not):
# unpinned, a run lands in one of two modes (the server's CPU per delivery about 0.07 or
# 0.09 us on this 2-core VM, whichever core the scheduler shares), and 9 rounds' medians
# swung from 0.88x to 1.02x between two runs of the script; pinned, 15 rounds' medians still
# swung from 0.83x to 0.96x (stop 30), hence 41 rounds by default and the spread printed.
set -euo pipefail
ROUNDS=${1:-41}
MESSAGES=${2:-100000}
SIZE=${SIZE:-32}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${CHATSERVER_BIN:-}" ] || [ -z "${LOADGEN_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --bin chatserver --example loadgen >&2)
fi
CHAT=${CHATSERVER_BIN:-$ROOT/target/release/chatserver}
LOADGEN=${LOADGEN_BIN:-$ROOT/target/release/examples/loadgen}
PIN_SERVER=() PIN_LOADGEN=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset > /dev/null; then
  PIN_SERVER=(taskset -c 0) PIN_LOADGEN=(taskset -c 1)
fi
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
: > "$WORK/credentials.txt"
PORT=$("$LOADGEN" free-port)
# --penalty-us 0: one connection sends far more than the command-rate burst.
RUST_LOG=warn "${PIN_SERVER[@]}" "$CHAT" --bind 127.0.0.1 --credentials "$WORK/credentials.txt" \
  --data-dir "$WORK/data" --irc-port "$PORT" --irc-guests --penalty-us 0 0 \
  > "$WORK/out" 2> "$WORK/err" < /dev/null &
PID=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
median() { sort -g | awk '{v[NR] = $1} END {printf "%.10g\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
SRC=10
for i in $(seq "$ROUNDS"); do
  order="0 1"
  if [ $((i % 2)) = 0 ]; then order="1 0"; fi
  for side in $order; do
    SRC=$((SRC + 1))
    "${PIN_LOADGEN[@]}" "$LOADGEN" fanout --proto irc --irc-tags "$side" --addr "127.0.0.1:$PORT" --pid "$PID" \
      --label chatserver --out "$WORK/tags$side.tsv" --src "127.$SRC.0.1" \
      --user-base $(((2 * i + side) * 101)) --members 100 --messages "$MESSAGES" --size "$SIZE" \
      --window 1000 --runs 1 2>&1 | sed -n "s/^ *fanout run 0: /tags=$side round $i: /p"
  done
done
for side in 0 1; do
  cut -f3 "$WORK/tags$side.tsv" | median > "$WORK/dps$side"
  cut -f4 "$WORK/tags$side.tsv" |
    sed -n 's/.*server CPU [0-9]*% (\([0-9.]*\) us per delivery).*/\1/p' | median > "$WORK/cpu$side"
done
pair_median() { # COLUMN: the median over rounds of (with tags) / (without), from column COLUMN
  paste <(cut -f"$1" "$WORK/tags0.tsv") <(cut -f"$1" "$WORK/tags1.tsv") |
    awk -F'\t' '{printf "%.4f\n", $2 / $1}' | median
}
cpu_of() { sed -n 's/.*server CPU [0-9]*% (\([0-9.]*\) us per delivery).*/\1/p'; }
for side in 0 1; do cut -f4 "$WORK/tags$side.tsv" | cpu_of > "$WORK/cpus$side"; done
pair_dps=$(pair_median 3)
pair_cpu=$(paste "$WORK/cpus0" "$WORK/cpus1" | awk -F'\t' '{printf "%.4f\n", $2 / $1}' | median)
read -r dps0 < "$WORK/dps0"; read -r dps1 < "$WORK/dps1"
read -r cpu0 < "$WORK/cpu0"; read -r cpu1 < "$WORK/cpu1"
echo "median of $ROUNDS, deliveries/s: without tags $dps0, with tags $dps1," \
  "with / without $(awk -v a="$dps1" -v b="$dps0" 'BEGIN {printf "%.3f", a / b}') (target >= 0.9)"
echo "median of $ROUNDS, server CPU us per delivery: without tags $cpu0, with tags $cpu1," \
  "with / without $(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN {printf "%.3f", a / b}') (target <= 1.11)"
echo "median of the $ROUNDS rounds' own ratios: deliveries/s $pair_dps, server CPU per delivery $pair_cpu"
# The spread of the rounds' own ratios (deliveries/s, with / without): a round's two runs share
# the machine's mood, but a run of a second still lands in a fast or a slow mode of the VM.
paste <(cut -f3 "$WORK/tags0.tsv") <(cut -f3 "$WORK/tags1.tsv") |
  awk -F'\t' '{printf "%.4f\n", $2 / $1}' | sort -g |
  awk '{v[NR] = $1; if ($1 >= 0.9) met++}
    END {printf "rounds'"'"' own ratios, deliveries/s: min %.3f, quartiles %.3f %.3f %.3f, max %.3f; %d of %d rounds >= 0.9\n",
      v[1], v[int((NR - 1) / 4) + 1], v[int((NR - 1) / 2) + 1], v[int(3 * (NR - 1) / 4) + 1], v[NR], met, NR}'
