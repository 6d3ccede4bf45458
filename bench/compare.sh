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
#             TCP, fan-out while /metrics is scraped every second, and a /metrics scrape with
#             10,000 logged-in connections
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

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

if [ -z "${CHATSERVER_BIN:-}" ] || [ -z "${LOADGEN_BIN:-}" ]; then
  log "building release binaries"
  cargo build --release --bins --examples >&2
fi
CHAT_SRC=${CHATSERVER_BIN:-$ROOT/target/release/chatserver}
LOADGEN_SRC=${LOADGEN_BIN:-$ROOT/target/release/examples/loadgen}

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    log "installing $2"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
  fi
}
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

WORK=$(mktemp -d /tmp/chatbench.XXXXXX)
RESULTS=$WORK/results.tsv
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
: > "$RESULTS"
# Private copies, so a concurrent `cargo build` cannot swap a binary in the middle of the run.
cp "$CHAT_SRC" "$WORK/chatserver"
cp "$LOADGEN_SRC" "$WORK/loadgen"
CHAT=$WORK/chatserver
LOADGEN=$WORK/loadgen

"$LOADGEN" gen-credentials $((CONNS + 20000)) "$WORK/credentials.txt"
"$LOADGEN" gen-credentials 5 "$WORK/credentials-small.txt"

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

SERVER_PID=
SERVER_PORT=
HTTP_PORT=
WEB=0
WS=0
N=0

wait_port() { # PORT: wait up to 10 s for a listener
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "nothing listening on port $1"; return 1
}

start_chat() { # [OPTIONS...]: chatserver on a fresh data dir, accounts from credentials.txt
  N=$((N + 1))
  local creds=$WORK/credentials.txt
  if [ "${1:-}" = small ]; then creds=$WORK/credentials-small.txt; shift; fi
  local tls=() listening="chatserver listening on"
  if [ "$TLS" = 1 ]; then
    tls=(--tls-cert "$CERT" --tls-key "$KEY" --tls-port 0); listening="chatserver tls listening on"
  fi
  # Issue 19: every web row has the HTTP port (WebSockets, /metrics); WS=1 measures through it.
  if [ "$WEB" = 1 ]; then
    tls=(--http-port 0)
    [ "$WS" = 1 ] && listening="chatserver http listening on"
  fi
  # --penalty-us 0: throughput rows send more than the command-rate burst from one connection.
  "$CHAT" --bind 127.0.0.1 --credentials "$creds" --data-dir "$WORK/data$N" --penalty-us 0 "$@" \
    "${tls[@]}" 0 > "$WORK/chat$N.out" 2> "$WORK/chat$N.err" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do
    SERVER_PORT=$(sed -n "s/^$listening .*:\([0-9]*\)$/\1/p" "$WORK/chat$N.out")
    HTTP_PORT=$(sed -n "s/^chatserver http listening on .*:\([0-9]*\)$/\1/p" "$WORK/chat$N.out")
    [ -n "$SERVER_PORT" ] && { [ "$WEB" = 0 ] || [ -n "$HTTP_PORT" ]; } && return 0
    sleep 0.1
  done
  log "chatserver did not start: $(cat "$WORK/chat$N.err")"; return 1
}

start_chat_irc() { # chatserver's IRC front-end; no accounts, so loadgen's IRC clients are guests
  N=$((N + 1))
  : > "$WORK/credentials-none.txt"
  "$CHAT" --bind 127.0.0.1 --credentials "$WORK/credentials-none.txt" --data-dir "$WORK/data$N" \
    --irc-port 0 --irc-guests "$@" 0 > "$WORK/chat$N.out" 2> "$WORK/chat$N.err" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do
    SERVER_PORT=$(sed -n 's/^chatserver irc listening on .*:\([0-9]*\)$/\1/p' "$WORK/chat$N.out")
    [ -n "$SERVER_PORT" ] && return 0
    sleep 0.1
  done
  log "chatserver did not start: $(cat "$WORK/chat$N.err")"; return 1
}

start_ngircd() {
  N=$((N + 1))
  SERVER_PORT=$("$LOADGEN" free-port)
  local dir=$WORK/ngircd$N
  mkdir -p "$dir"
  local ssl= tls_port=
  if [ "$TLS" = 1 ]; then
    # Its TLS port is the one measured; the plain port stays on beside it, as ngIRCd needs one.
    tls_port=$("$LOADGEN" free-port)
    ssl=$(printf '[SSL]\nCertFile = %s\nKeyFile = %s\nPorts = %s\n' "$CERT" "$KEY" "$tls_port")
  fi
  cat > "$dir/ngircd.conf" <<EOF
[Global]
Name = bench.localhost
Info = chatserver comparison
Listen = 127.0.0.1
Ports = $SERVER_PORT
MotdPhrase = "bench"
PidFile = $dir/ngircd.pid
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 30
MaxPenaltyTime = 0
PingTimeout = 3600
PongTimeout = 600
[Options]
DNS = no
Ident = no
PAM = no
$ssl
EOF
  ngircd -n -f "$dir/ngircd.conf" > "$dir/log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_port "$SERVER_PORT"
  if [ "$TLS" = 1 ]; then SERVER_PORT=$tls_port; wait_port "$SERVER_PORT"; fi
}

start_redis() {
  N=$((N + 1))
  SERVER_PORT=$("$LOADGEN" free-port)
  mkdir -p "$WORK/redis$N"
  local ports=(--port "$SERVER_PORT")
  if [ "$TLS" = 1 ]; then
    ports=(--port 0 --tls-port "$SERVER_PORT" --tls-cert-file "$CERT" --tls-key-file "$KEY"
      --tls-ca-cert-file "$CA" --tls-auth-clients no)
  fi
  redis-server "${ports[@]}" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
    --maxclients $((CONNS + 1000)) --dir "$WORK/redis$N" --daemonize no --loglevel warning \
    > "$WORK/redis$N/log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_port "$SERVER_PORT"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

start() { # NAME [chatserver options...]
  local name=$1; shift
  case $name in
    chatserver) start_chat "$@" ;;
    chatirc) start_chat_irc "$@" ;;
    ngircd) start_ngircd ;;
    redis) start_redis ;;
  esac
}

# Concurrent logins while opening many connections: below each server's listen backlog
# (ngIRCd listens with a backlog of 10; overflowing it only adds SYN-retransmission stalls).
inflight_of() { case $1 in chatserver|chatirc) echo 500 ;; ngircd) echo 8 ;; redis) echo 400 ;; esac; }

proto_of() { case $1 in chatserver) echo chat ;; chatirc|ngircd) echo irc ;; redis) echo resp ;; esac; }

# chatserver's IRC front-end is a chatserver row with the variant `irc`.
label_of() { case $1 in chatirc) echo chatserver ;; *) echo "$1" ;; esac; }

# Each client source address carries at most 5000 connections; every run uses fresh addresses.
SRC=1
lg() { # NAME WORKLOAD [loadgen options...]: run the loadgen against the running server
  local name=$1 workload=$2; shift 2
  SRC=$((SRC + 1))
  local tls=()
  [ "$TLS" = 1 ] && tls=(--tls "$CA")
  [ "$WS" = 1 ] && tls=(--ws 1)
  log "$name: $workload $* ${tls[*]}"
  "$LOADGEN" "$workload" --proto "$(proto_of "$name")" --addr "127.0.0.1:$SERVER_PORT" \
    --pid "$SERVER_PID" --label "$(label_of "$name")" --out "$RESULTS" --src "127.$SRC.0.1" \
    "${tls[@]}" "$@" >&2 || log "$name $workload failed (see above)"
}

# 0. How steady is this machine? (latency percentiles include its scheduling stalls)
JITTER=$("$LOADGEN" jitter --secs 3)
log "$JITTER"

# IRC rows: an IRC channel on chatserver next to ngIRCd's, same loadgen IRC workload.
FAN=(--members 100 --messages "$MESSAGES" --size 32 --window 1000 --runs "$FAN_RUNS")
irc_rows() {
  for s in chatirc ngircd; do
    start "$s"; lg "$s" fanout "${FAN[@]}" $( [ "$s" = chatirc ] && echo --variant irc ); stop_server
  done
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
    start "$s"; lg "$s" fanout "${FAN[@]}" --variant tls; stop_server
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
web_rows() {
  WEB=1
  for ws in 0 1; do
    WS=$ws
    start chatserver
    lg chatserver fanout "${FAN[@]}" --variant "$( [ "$ws" = 1 ] && echo ws || echo line )"
    stop_server
  done
  WS=0
  start chatserver
  lg chatserver fanout "${FAN[@]}" --variant scraped-1s --metrics "127.0.0.1:$HTTP_PORT" --scrape-every 1
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
    start "$s"; lg "$s" fanout "${FAN[@]}"; stop_server
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
for s in chatserver ngircd redis; do
  start "$s"; lg "$s" fanout "${FAN[@]}"; stop_server
done
start chatserver --fsync never --history 0
lg chatserver fanout "${FAN[@]}" --variant "fsync-never-history-0"; stop_server

# 3. Direct-message latency at a fixed offered load.
LAT=(--pairs 100 --rate 100000 --secs "$LAT_SECS" --warmup 1 --runs "$RUNS")
for s in chatserver ngircd redis; do
  start "$s"; lg "$s" latency "${LAT[@]}"; stop_server
done
start chatserver --fsync never --history 0
lg chatserver latency "${LAT[@]}" --variant "fsync-never-history-0"; stop_server

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
  start "$s" --max-clients $((CONNS + 1000)); lg "$s" conns --conns "$CONNS" --budget 60 --inflight "$(inflight_of "$s")"; stop_server
done
start chatserver --max-clients $((CONNS + 1000)) --no-presence
lg chatserver conns --conns "$CONNS" --budget 60 --inflight 500 --variant no-presence; stop_server

# 6. Durable offline messages (chatserver only).
for f in always never; do
  start chatserver --fsync "$f" --max-offline 1000000
  lg chatserver durable --messages "$DURABLE" --runs "$RUNS" --variant "fsync-$f"; stop_server
done

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
    start chatserver; lg chatserver fanout "${FAN[@]}" --variant musl-static; stop_server
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
  echo "$(redis-server --version | cut -d' ' -f1-3) with persistence off (\`--save '' --appendonly no\`)."
  echo "All three listen on 127.0.0.1 only; one loadgen process on the same machine (loopback)."
  echo "Concurrent logins when opening many connections: chatserver 500, Redis 400, ngIRCd 8 (its listen backlog is 10)."
  echo "Machine steadiness (a spinning thread, no server running): $JITTER."
  echo "chatserver runs with its defaults (\`--fsync always\`, history on) unless a row says otherwise."
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
