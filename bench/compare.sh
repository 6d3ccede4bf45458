#!/usr/bin/env bash
# Compare chatserver with ngIRCd and Redis pub/sub on this machine, same workloads, one run.
#
#   bench/compare.sh [--write] [--quick] [--irc-only] [--tls-only] [--web-only]
#
# --write     also replace the table in BENCHMARKS.md (with date, machine and command)
# --quick     fewer messages/connections (a smoke test of the script, not a benchmark)
# --irc-only  just the IRC rows: fan-out and idle memory of an IRC channel on chatserver
#             (`--irc-port`, `--irc-guests`) next to ngIRCd's, same loadgen IRC workload
# --tls-only  just the TLS rows (issue 18), after the plain fan-out: fan-out, RSS per idle
#             connection and handshakes/s over TLS, chatserver's --tls-port next to ngIRCd's
#             TLS port and Redis's --tls-port, all serving one ECDSA P-256 certificate made here
# --web-only  just the web rows (issue 19): fan-out and RSS per idle connection of the line
#             protocol over a WebSocket (`--http-port`, subprotocol chatserver.line) beside plain
#             TCP; fan-out of IRC over a WebSocket (text.ircv3.net) beside IRC over TCP, of the
#             events protocol over a WebSocket, of the line protocol over TLS (`--tls-port`) and
#             of both over wss (`--https-port`); fan-out while /metrics is scraped every second, and
#             a /metrics scrape with 10,000 logged-in connections
#
# Env: CHATSERVER_BIN / LOADGEN_BIN use prebuilt binaries instead of `cargo build --release`.
# Installs ngircd and redis-server with apt-get if missing. Every server listens on 127.0.0.1
# only, with its config in a temp directory; all traffic stays on loopback. Needs root only to
# install packages and to raise RLIMIT_NOFILE (without it the connection count is capped).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WRITE=0
QUICK=0
IRC_ONLY=0
TLS_ONLY=0
WEB_ONLY=0
for a in "$@"; do
  case $a in
    --write) WRITE=1 ;;
    --quick) QUICK=1 ;;
    --irc-only) IRC_ONLY=1 ;;
    --tls-only) TLS_ONLY=1 ;;
    --web-only) WEB_ONLY=1 ;;
    *) echo "usage: bench/compare.sh [--write] [--quick] [--irc-only] [--tls-only] [--web-only]" >&2; exit 2 ;;
  esac
done

source bench/lib.sh

build_unless_given

need ngircd ngircd
[ "$IRC_ONLY" = 1 ] || need redis-server redis-server
need openssl openssl
# The Debian package may start its own redis/ngircd on the default ports; we never use those.

# Open files: one per connection in the server and one in the loadgen.
ulimit -Hn 1048576 2>/dev/null || log "cannot raise the hard RLIMIT_NOFILE (no CAP_SYS_RESOURCE); it stays $(ulimit -Hn)"
ulimit -n "$(ulimit -Hn)"
FDS=$(ulimit -n)
CONNS=100000
if [ "$FDS" -lt 100500 ]; then
  CONNS=$(( (FDS - 500) / 1000 * 1000 ))
  log "RLIMIT_NOFILE is $FDS: the connections workload opens $CONNS, not 100,000"
fi

MESSAGES=20000
IDLE_CONNS=10000
LAT_SECS=5
RUNS=3
FAN_RUNS=5
DURABLE=200000
WAKE_SECS=10
HS_SECS=5
if [ "$QUICK" = 1 ]; then
  MESSAGES=2000; IDLE_CONNS=1000; CONNS=2000; LAT_SECS=2; RUNS=1; FAN_RUNS=1; DURABLE=20000; WAKE_SECS=2
  HS_SECS=2
fi

setup_work bench $((CONNS + 20000))

# TLS rows: one certificate for every server, ECDSA P-256 (what certbot issues by default)
# signed by a CA made here, which the loadgen trusts; TLS=1 makes start/lg use the TLS ports.
TLS=0
CA=$WORK/tls-ca.pem
CERT=$WORK/tls-cert.pem
KEY=$WORK/tls-key.pem
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ec_key "$WORK/tls-ca-key.pem"
ec_key "$KEY"
openssl req -x509 -new -key "$WORK/tls-ca-key.pem" -days 30 -subj "/CN=bench CA" -out "$CA" 2>/dev/null
openssl req -new -key "$KEY" -subj /CN=localhost 2>/dev/null |
  openssl x509 -req -CA "$CA" -CAkey "$WORK/tls-ca-key.pem" -CAcreateserial -days 30 -out "$CERT" \
    -extfile <(printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n') 2>/dev/null
chmod 600 "$KEY"

# 0. How steady is this machine? (latency percentiles include its scheduling stalls)
JITTER=$("$LOADGEN" jitter --secs 3)
log "$JITTER"

# IRC rows: an IRC channel on chatserver next to ngIRCd's, same loadgen IRC workload.
FAN=(--members 100 --messages "$MESSAGES" --size 32 --window 1000)
irc_rows() {
  alternate_irc_tags "$FAN_RUNS" "${FAN[@]}"
  start ngircd; lg ngircd fanout "${FAN[@]}" --runs "$FAN_RUNS"; stop_server
  for s in chatirc ngircd; do
    start "$s"; sleep 0.5
    lg "$s" idle --conns "$IDLE_CONNS" --hold 3 --inflight "$(inflight_of "$s")" \
      $( [ "$s" = chatirc ] && echo --variant irc )
    stop_server
  done
}

# TLS rows (issue 18): the same workloads over each server's TLS port, one certificate for all.
# Handshakes: 8 at a time for everyone (ngIRCd listens with a backlog of 10), each closed once
# its handshake is done.
tls_rows() {
  TLS=1
  for s in chatserver ngircd redis; do
    start "$s"; lg "$s" fanout "${FAN[@]}" --runs "$FAN_RUNS" --variant tls; stop_server
  done
  for s in chatserver ngircd redis; do
    start "$s"; sleep 0.5
    lg "$s" idle --conns "$IDLE_CONNS" --hold 3 --inflight "$(inflight_of "$s")" --variant tls
    stop_server
  done
  # Without the presence lines (10,000 logins send 50 M of them): what TLS itself costs.
  start chatserver --no-presence; sleep 0.5
  lg chatserver idle --conns "$IDLE_CONNS" --hold 3 --inflight 500 --variant tls-no-presence
  stop_server
  for s in chatserver ngircd redis; do
    start "$s"; sleep 0.5; lg "$s" handshakes --secs "$HS_SECS" --inflight 8; stop_server
  done
  TLS=0
}

# Web rows (issue 19): the line protocol over a WebSocket beside plain TCP, one server each
# time; /metrics scraped during a fan-out and timed at 10,000 connections.
fan_row() { # SERVER VARIANT: one fan-out row (median of FAN_RUNS) on a fresh server
  start "$1"; lg "$1" fanout "${FAN[@]}" --runs "$FAN_RUNS" --variant "$2"; stop_server
}
web_rows() {
  WEB=1
  for ws in 0 1; do
    WS=$ws
    start chatserver
    lg chatserver fanout "${FAN[@]}" --runs "$FAN_RUNS" \
      --variant "$( [ "$ws" = 1 ] && echo ws || echo line )"
    stop_server
  done
  # IRC over WebSockets (text.ircv3.net, one line per message) beside IRC on its TCP port,
  # then both protocols over wss (--https-port, the bench certificate).
  WS=0; fan_row chatirc irc-tcp
  WS=irc; fan_row chatirc ws-irc
  # The events protocol (the page's) over a WebSocket, against the same line fan-out.
  WS=events; fan_row chatserver ws-events
  TLS=1
  # The line protocol on --tls-port: what wss is compared with beside the plain anchor.
  WS=0; fan_row chatserver tls
  WS=1; fan_row chatserver wss
  WS=irc; fan_row chatirc wss-irc
  TLS=0
  WS=0
  start chatserver
  # Scraped by curl from a process of its own: the loadgen's own scraper thread (`--metrics`)
  # made the loadgen slower, not the server (bench/scrape.sh; BENCHMARKS.md "The ratchet at
  # stop 28").
  need curl curl
  ( while :; do curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/metrics"; sleep 1; done ) &
  SCRAPER=$!
  lg chatserver fanout "${FAN[@]}" --runs "$FAN_RUNS" --variant scraped-1s
  kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true
  stop_server
  for ws in 0 1; do
    WS=$ws
    start chatserver --no-presence; sleep 0.5
    lg chatserver idle --conns "$IDLE_CONNS" --hold 3 --inflight 500 \
      --variant "$( [ "$ws" = 1 ] && echo ws-no-presence || echo line-no-presence )"
    stop_server
  done
  WS=0
  start chatserver --no-presence; sleep 0.5
  lg chatserver scrape --conns "$IDLE_CONNS" --scrapes 50 --metrics "127.0.0.1:$HTTP_PORT"
  stop_server
  WEB=0
}

if [ "$IRC_ONLY" = 1 ]; then
  irc_rows
elif [ "$WEB_ONLY" = 1 ]; then
  web_rows
elif [ "$TLS_ONLY" = 1 ]; then
  # The plain fan-out beside the TLS rows, so the cost of TLS reads off one run.
  for s in chatserver ngircd redis; do
    start "$s"; lg "$s" fanout "${FAN[@]}" --runs "$FAN_RUNS"; stop_server
  done
  tls_rows
else
# 1. Idle: wake-ups and RSS of fresh servers, all three at once, no traffic.
log "idle wake-ups over ${WAKE_SECS}s (all three servers idle at once)"
start chatserver small; P1=$SERVER_PID
start ngircd; P2=$SERVER_PID
start redis; P3=$SERVER_PID
sleep 1
"$LOADGEN" wakeups --pid "$P1" --secs "$WAKE_SECS" --label chatserver --out "$RESULTS" >&2 &
W1=$!
"$LOADGEN" wakeups --pid "$P2" --secs "$WAKE_SECS" --label ngircd --out "$RESULTS" >&2 &
W2=$!
"$LOADGEN" wakeups --pid "$P3" --secs "$WAKE_SECS" --label redis --out "$RESULTS" >&2 &
W3=$!
wait "$W1" "$W2" "$W3"
for p in "$P1" "$P2" "$P3"; do kill "$p"; wait "$p" 2>/dev/null || true; done

# 2. Fan-out, median of $FAN_RUNS runs each. The lag bound (1000 messages, under 70 KB per member)
#    is below every server's per-client output limit and deep enough to saturate each of them.
#    chatserver's defaults and `--fsync never --history 0` alternate run by run (issue 20: the
#    defaults within 0.9× of no durability at all).
alternate_fanout "$FAN_RUNS" "${FAN[@]}"
for s in ngircd redis; do
  start "$s"; lg "$s" fanout "${FAN[@]}" --runs "$FAN_RUNS"; stop_server
done

# 3. Direct-message latency at fixed offered loads: 20k, 50k and 100k messages/s (100k
#    saturates this 2-vCPU machine for every server, the loadgen sharing it).
LAT=(--pairs 100 --secs "$LAT_SECS" --warmup 1 --runs "$RUNS")
for rate in 20000 50000 100000; do
  for s in chatserver ngircd redis; do
    start "$s"; lg "$s" latency "${LAT[@]}" --rate "$rate"; stop_server
  done
done
start chatserver --fsync never --history 0
lg chatserver latency "${LAT[@]}" --rate 100000 --variant "fsync-never-history-0"; stop_server

# 4. Memory per idle logged-in connection.
for s in chatserver ngircd redis; do
  start "$s"; sleep 0.5; lg "$s" idle --conns "$IDLE_CONNS" --hold 3 --inflight "$(inflight_of "$s")"; stop_server
done

# chatserver tells every online user about each login (PROTOCOL.md §2), so n logins send
# n(n-1)/2 presence lines; the --no-presence rows show the cost without them.
start chatserver --no-presence; sleep 0.5
lg chatserver idle --conns "$IDLE_CONNS" --hold 3 --inflight 500 --variant no-presence; stop_server

# 5. Connections held and accept+login rate.
for s in chatserver ngircd redis; do
  # (Redis is started with --maxclients to match; ngIRCd has no limit here.)
  start "$s" $( [ "$s" = chatserver ] && echo --max-clients $((CONNS + 1000)) ); lg "$s" conns --conns "$CONNS" --budget 60 --inflight "$(inflight_of "$s")"; stop_server
done
start chatserver --max-clients $((CONNS + 1000)) --no-presence
lg chatserver conns --conns "$CONNS" --budget 60 --inflight 500 --variant no-presence; stop_server

# 6. Durable offline messages. The anchor is Redis with its append-only file fsynced before
#    every reply (`appendfsync always`, group commit per event-loop iteration like ours),
#    LPUSH to a list per recipient.
for f in always never; do
  start chatserver --fsync "$f" --max-offline 1000000
  lg chatserver durable --messages "$DURABLE" --runs "$RUNS" --variant "fsync-$f"; stop_server
done
start redis --appendonly yes --appendfsync always
lg redis durable --messages "$DURABLE" --runs "$RUNS" --variant "fsync-always"; stop_server

# 7. Binary size.
printf 'chatserver\tbinary_kib\t%s\t%s\n' "$(( $(stat -c %s "$CHAT") / 1024 ))" \
  "$(basename "$CHAT"), $(stat -c %s "$CHAT") bytes" >> "$RESULTS"

# 8. The static musl build for small boxes, when that Rust target is installed here: idle RSS
#    (no shared libc pages to map) and binary size, plus fan-out (musl's allocator is slower).
MUSL=x86_64-unknown-linux-musl
if [ -z "${CHATSERVER_BIN:-}" ] && rustup target list --installed 2>/dev/null | grep -qx "$MUSL"; then
  log "building the static $MUSL server"
  if cargo build --release --target "$MUSL" --bin chatserver >&2; then
    GLIBC_CHAT=$CHAT
    CHAT=$WORK/chatserver-musl
    cp "$ROOT/target/$MUSL/release/chatserver" "$CHAT"
    start chatserver small; sleep 1
    "$LOADGEN" wakeups --pid "$SERVER_PID" --secs "$((WAKE_SECS < 3 ? WAKE_SECS : 3))" \
      --label chatserver --variant musl-static --out "$RESULTS" >&2; stop_server
    start chatserver; lg chatserver fanout "${FAN[@]}" --runs "$FAN_RUNS" --variant musl-static; stop_server
    printf 'chatserver\tbinary_kib@musl-static\t%s\t%s\n' "$(( $(stat -c %s "$CHAT") / 1024 ))" \
      "static, $(stat -c %s "$CHAT") bytes" >> "$RESULTS"
    CHAT=$GLIBC_CHAT
  fi
else
  log "no $MUSL target installed: skipping the static build rows"
fi

# 9. The IRC front-end (issue 12): fan-out and idle memory on an IRC channel, beside ngIRCd.
irc_rows

# 10. TLS (issue 18): fan-out, idle memory and handshakes over each server's TLS port.
tls_rows

# 11. Web (issue 19): WebSocket fan-out and idle memory, /metrics.
web_rows
fi

CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
MACHINE="$CPU, $(nproc) CPUs, $(free -g | awk '/^Mem:/{print $2}') GiB RAM, Linux $(uname -r)"
{
  echo "Measured $(date -u +'%Y-%m-%d %H:%M UTC') on: $MACHINE."
  echo
  echo "Command: \`bench/compare.sh$( [ "$QUICK" = 1 ] && echo ' --quick')\` (chatserver $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes'))."
  echo "Anchors: $(ngircd --version | head -1 | cut -d- -f1) with \`MaxPenaltyTime = 0\` (a single sender is not throttled), DNS/Ident/PAM off;"
  echo "$(redis-server --version | cut -d' ' -f1-3) with persistence off (\`--save '' --appendonly no\`), except the durable row (\`--appendonly yes --appendfsync always\`)."
  echo "All three listen on 127.0.0.1 only; one loadgen process on the same machine (loopback)."
  echo "Concurrent logins when opening many connections: chatserver 500, Redis 400, ngIRCd 8 (its listen backlog is 10)."
  echo "Machine steadiness (a spinning thread, no server running): $JITTER."
  echo "chatserver runs with its defaults (\`--fsync always\`, history on) unless a row says otherwise."
  echo "Worst iteration: chatserver's longest event-loop iteration over the life of the server that measured the row (its own log at shutdown; ❌ over 50 ms)."
  [ "$CONNS" -lt 100000 ] && echo "RLIMIT_NOFILE here is $FDS (hard limit not raisable), so the connections row opens $CONNS, not 100,000."
  echo
  "$LOADGEN" table "$RESULTS"
} > "$WORK/table.md"
cat "$WORK/table.md"
cp "$RESULTS" "$ROOT/target/bench-results.tsv" 2>/dev/null || true

if [ "$WRITE" = 1 ]; then
  python3 - "$ROOT/BENCHMARKS.md" "$WORK/table.md" <<'EOF'
import sys, re
path, table = sys.argv[1], open(sys.argv[2]).read()
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# Benchmarks\n\n<!-- table -->\n<!-- /table -->\n"
new = re.sub(r"<!-- table -->.*<!-- /table -->", lambda m: "<!-- table -->\n" + table + "<!-- /table -->", text, flags=re.S)
open(path, "w").write(new)
EOF
  log "BENCHMARKS.md updated"
fi
