#!/usr/bin/env bash
# Two chatserver builds and ngIRCd, one workload, run in turn ROUNDS times (A, B, ngIRCd, A, B,
# ...), so machine noise hits all three alike; prints every run, the medians, B/A and each
# build's ratio to ngIRCd. bench/ab.sh without the anchor is quicker; this is for a change whose
# "before and after" should be read against the anchor too (issue 20's zero-copy fan-out).
#   bench/ab-anchor.sh A_BINARY [ROUNDS] [fanout|idle]
# A is a built chatserver (e.g. one built from an older commit into target/ab-a); B is the
# working tree's release build. `fanout`: the fan-out row of bench/compare.sh; `idle`: RSS per
# idle connection at 10,000 logged-in (chatserver, presence on) / registered (ngIRCd).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
A_BIN=${1:?usage: bench/ab-anchor.sh A_BINARY [ROUNDS] [fanout|idle]}
ROUNDS=${2:-3}
WHAT=${3:-fanout}
source bench/lib.sh
need ngircd ngircd
cargo build --release --bin chatserver --example loadgen >&2
ulimit -n "$(ulimit -Hn)"
CONNS=11000
setup_work abanchor 11000
cp "$A_BIN" "$WORK/chatserver-a"
cp "$ROOT/target/release/chatserver" "$WORK/chatserver-b"

case $WHAT in
  fanout) WORKLOAD=(fanout --members 100 --messages 20000 --size 32 --window 1000 --runs 1)
    METRIC=fanout_dps ;;
  idle) WORKLOAD=(idle --conns 10000 --hold 3 --inflight 500); METRIC=idle_bytes_per_conn ;;
  *) echo "unknown workload $WHAT" >&2; exit 2 ;;
esac

one() { # SIDE: A, B or ngircd; prints the figure
  local side=$1 name=chatserver
  case $side in
    A) CHAT=$WORK/chatserver-a; start chatserver ;;
    B) CHAT=$WORK/chatserver-b; start chatserver ;;
    ngircd) name=ngircd; start ngircd ;;
  esac
  [ "$WHAT" = idle ] && sleep 0.5
  : > "$WORK/one.tsv"
  SRC=$((SRC + 1))
  local inflight=()
  [ "$WHAT" = idle ] && [ "$side" = ngircd ] && inflight=(--inflight 8)
  "$LOADGEN" "${WORKLOAD[@]}" "${inflight[@]}" --proto "$(proto_of "$name")" \
    --addr "127.0.0.1:$SERVER_PORT" --pid "$SERVER_PID" --label "$side" --out "$WORK/one.tsv" \
    --src "127.$SRC.0.1" >&2 || log "$side failed"
  stop_server
  awk -F'\t' -v m="$METRIC" '$2==m {print $3; exit}' "$WORK/one.tsv"
  awk -F'\t' -v m="$METRIC" -v s="$side" '$2==m {print s ": " $4; exit}' "$WORK/one.tsv" >> "$WORK/notes"
}

declare -A RUNS
for i in $(seq "$ROUNDS"); do
  line="round $i:"
  for side in A B ngircd; do
    v=$(one "$side"); RUNS[$side]+="$v "; line+=" $side $v"
  done
  echo "$line"
done
cat "$WORK/notes"
declare -A MED
for side in A B ngircd; do
  # shellcheck disable=SC2086 # the runs, one per word
  MED[$side]=$(printf '%s\n' ${RUNS[$side]} | median)
done
echo "$METRIC, median of $ROUNDS: A ${MED[A]}  B ${MED[B]}  ngIRCd ${MED[ngircd]}"
awk -v a="${MED[A]}" -v b="${MED[B]}" -v n="${MED[ngircd]}" \
  'BEGIN{printf "B/A %.3f  A/ngIRCd %.2f  B/ngIRCd %.2f\n", b/a, a/n, b/n}'
