#!/usr/bin/env bash
# A/B one loadgen workload on two builds of chatserver in one run, alternating A and B (and
# which of them goes first) so machine noise hits both alike; prints each run and the medians.
#   bench/ab.sh REV [ROUNDS] [WORKLOAD OPTIONS...]
# A = chatserver built from git revision REV, B = the working tree; REV may also name a built
# chatserver binary, and `.` makes A the working tree too, to compare server options. B_BIN=FILE
# makes B a built binary instead of the working tree (bisecting: two revisions' binaries). A_ARGS /
# B_ARGS add server options to one side (e.g. `A_ARGS="--fsync never --history 0" bench/ab.sh
# . 9`: the defaults against no durability).
# AB_METRIC picks the figure compared when a workload prints several (e.g. dm_p99_us; default:
# its first); AB_ACCOUNTS the accounts made (default 200; the idle workload wants as many as it
# connects). AB_PROTO=irc runs the workload on the IRC front-end (guests, `--irc-guests`), and
# AB_IRC_TAGS=1 has its clients ask for message-tags and server-time. Default workload: the fan-out row of bench/compare.sh (100 members, 32-byte
# messages, window 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REV=${1:?usage: bench/ab.sh REV [ROUNDS] [WORKLOAD OPTIONS...]}
ROUNDS=${2:-5}
shift $(( $# >= 2 ? 2 : 1 ))
WORKLOAD=("$@")
[ ${#WORKLOAD[@]} -gt 0 ] || WORKLOAD=(fanout --members 100 --messages 20000 --size 32 --window 1000 --runs 1)

WORK=$(mktemp -d /tmp/chatab.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  git -C "$ROOT" worktree remove --force "$WORK/a-src" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --bin chatserver --example loadgen >&2
cp "${B_BIN:-target/release/chatserver}" "$WORK/b"
cp target/release/examples/loadgen "$WORK/loadgen"
if [ "$REV" = . ]; then
  cp "$WORK/b" "$WORK/a"
elif [ -f "$REV" ] && [ -x "$REV" ]; then
  cp "$REV" "$WORK/a"
else
  git worktree add --detach "$WORK/a-src" "$REV" >&2
  (cd "$WORK/a-src" && CARGO_TARGET_DIR="$ROOT/target/ab-a" cargo build --release --bin chatserver >&2)
  cp "$ROOT/target/ab-a/release/chatserver" "$WORK/a"
fi
"$WORK/loadgen" gen-credentials "${AB_ACCOUNTS:-200}" "$WORK/credentials.txt"

run() { # BIN LABEL [SERVER OPTIONS...]
  local bin=$1 label=$2; shift 2
  local dir=$WORK/data-$RANDOM$RANDOM
  local front=() which= proto=(--proto chat) credentials=$WORK/credentials.txt
  if [ "${AB_PROTO:-chat}" = irc ]; then # guests: no accounts, so the nicks are free
    front=(--irc-port 0 --irc-guests); which="irc "; proto=(--proto irc --irc-tags "${AB_IRC_TAGS:-0}")
    credentials=$WORK/credentials-none.txt; : > "$credentials"
  fi
  "$bin" --bind 127.0.0.1 --credentials "$credentials" --data-dir "$dir" --penalty-us 0 "${front[@]}" "$@" 0 > "$WORK/out" 2>/dev/null &
  local pid=$!; PIDS+=("$pid")
  local port=
  for _ in $(seq 100); do
    port=$(sed -n "s/^chatserver ${which}listening on .*:\([0-9]*\)$/\1/p" "$WORK/out"); [ -n "$port" ] && break; sleep 0.1
  done
  : > "$WORK/res"
  "$WORK/loadgen" "${WORKLOAD[@]}" "${proto[@]}" --addr "127.0.0.1:$port" --pid "$pid" --label "$label" --out "$WORK/res" >/dev/null 2>&1 || true
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  awk -F'\t' -v m="${AB_METRIC:-}" '(m=="" && NR==1) || $2==m {print $3; exit}' "$WORK/res"
  awk -F'\t' -v m="${AB_METRIC:-}" '(m=="" && NR==1) || $2==m {print $4; exit}' "$WORK/res" >> "$WORK/notes-$label"
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
A=(); B=()
for i in $(seq "$ROUNDS"); do
  # shellcheck disable=SC2086 # A_ARGS/B_ARGS: extra server options for one side only.
  # Either side goes first, alternately: on this VM the second run of a pair is about 3%
  # faster (B always second gave B/A 1.033 for one binary against itself).
  if [ $((i % 2)) = 1 ]; then
    A+=("$(run "$WORK/a" A ${A_ARGS:-})"); B+=("$(run "$WORK/b" B ${B_ARGS:-})")
  else
    B+=("$(run "$WORK/b" B ${B_ARGS:-})"); A+=("$(run "$WORK/a" A ${A_ARGS:-})")
  fi
  echo "round $i: A ($REV) ${A[-1]}  B (working tree) ${B[-1]}"
done
echo "A notes:"; cat "$WORK/notes-A"; echo "B notes:"; cat "$WORK/notes-B"
MA=$(median "${A[@]}"); MB=$(median "${B[@]}")
echo "median of $ROUNDS: A $MA  B $MB  B/A $(awk -v a="$MA" -v b="$MB" 'BEGIN{printf "%.3f", b/a}')"
