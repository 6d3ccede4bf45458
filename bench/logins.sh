#!/usr/bin/env bash
# Logins with slow password hashes (issue 21). Three rows, each the median of RUNS runs:
#  1. logins/s of N concurrent logins (--no-presence) with the accounts hashed at the default
#     --hash-cost (PBKDF2), and the server's worst loop iteration meanwhile;
#  2. the same with plaintext accounts (what bench/compare.sh's login-storm rows use: the
#     protocol's cost, not the hash's);
#  3. direct-message latency between 20 pairs of users already online while a burst of 100
#     logins at the default cost is hashed, against the same without the burst.
#   bench/logins.sh            (RUNS=3 N=2000 by default; PART=logins or PART=burst for one half)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
N=${N:-2000}
WORK=$(mktemp -d /tmp/chatlogins.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --bin chatserver --example loadgen >&2
C=target/release/chatserver
L=target/release/examples/loadgen
"$L" gen-credentials $((N + 200)) "$WORK/plain.txt"
cp "$WORK/plain.txt" "$WORK/hashed.txt"
"$C" --hash-credentials "$WORK/hashed.txt" >&2   # the default cost

PORT=
start() { # CREDENTIALS: a server on a fresh data directory; sets PORT and SOCK
  local dir=$WORK/data-$RANDOM$RANDOM
  SOCK=$dir/admin.sock
  "$C" --bind 127.0.0.1 --credentials "$1" --data-dir "$dir" --no-presence --penalty-us 0 0 \
    > "$WORK/out" 2> "$WORK/log" &
  SERVER=$!; PIDS+=("$SERVER")
  PORT=
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^chatserver listening on .*:\([0-9]*\)$/\1/p' "$WORK/out"); [ -n "$PORT" ] && break; sleep 0.1
  done
}
stop() { "$C" ctl --socket "$SOCK" stats | sed -n 's/^worst iteration \([0-9]*\)us$/\1/p'
  kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
result() { sed -n "s/^RESULT [^ ]* $1 \([0-9.]*\).*/\1/p" "$2" | head -n 1; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

PART=${PART:-all}
for kind in hashed plain; do
  [ "$PART" = burst ] && break
  rates=(); worst=(); cpu=()
  for _ in $(seq "$RUNS"); do
    start "$WORK/$kind.txt"
    "$L" conns --proto chat --addr "127.0.0.1:$PORT" --pid "$SERVER" --conns "$N" --inflight 500 \
      > "$WORK/res" 2>/dev/null
    rates+=("$(result conns_rate "$WORK/res")"); worst+=("$(stop)")
    cpu+=("$(sed -n 's/.*(\([0-9.]*\) us per login).*/\1/p' "$WORK/res" | head -n 1)")
  done
  echo "$kind accounts: $N logins, logins/s ${rates[*]} (median $(median "${rates[@]}")); server CPU us per login ${cpu[*]} (median $(median "${cpu[@]}")); worst iteration us ${worst[*]} (median $(median "${worst[@]}"), max $(printf '%s\n' "${worst[@]}" | sort -g | tail -n 1))"
done

for burst in no yes plain; do
  [ "$PART" = logins ] && break
  p99=(); p999=(); worst=()
  for _ in $(seq "$RUNS"); do
    if [ "$burst" = plain ]; then start "$WORK/plain.txt"; else start "$WORK/hashed.txt"; fi
    "$L" latency --proto chat --addr "127.0.0.1:$PORT" --pairs 20 --rate 2000 --secs 4 --warmup 1 \
      --runs 1 --user-base "$N" > "$WORK/lat" 2>/dev/null &
    LAT=$!
    if [ "$burst" != no ]; then
      sleep 2.5   # inside the measured part (after logins, settle and warm-up)
      "$L" conns --proto chat --addr "127.0.0.1:$PORT" --conns 100 --inflight 100 > "$WORK/burst" 2>&1 \
        || { echo "burst: loadgen conns failed:"; cat "$WORK/burst"; } >&2
    fi
    wait "$LAT"
    p99+=("$(result dm_p99_us "$WORK/lat")"); p999+=("$(result dm_p999_us "$WORK/lat")"); worst+=("$(stop)")
  done
  echo "messages between 20 pairs, burst of 100 logins: $burst (plain: cheap accounts); p99 us ${p99[*]} (median $(median "${p99[@]}")); p99.9 us ${p999[*]} (median $(median "${p999[@]}")); worst iteration us ${worst[*]}"
done
