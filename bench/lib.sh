# Helpers shared by bench/compare.sh and bench/ratchet.sh (sourced, not run): start each server
# on 127.0.0.1 with its config in $WORK, run one loadgen workload against it, stop it, and
# record chatserver's worst loop iteration for the row that server measured.
#
# The caller sets ROOT (the repository) and CONNS (connections a server must allow), then calls
# `setup_work`, which makes WORK, RESULTS (the TSV loadgen appends to), CHAT and LOADGEN. With
# TLS=1 (and CA, CERT, KEY set) `start` and `lg` use each server's TLS port.

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

need() { # COMMAND PACKAGE: install PACKAGE with apt-get when COMMAND is missing
  if ! command -v "$1" >/dev/null 2>&1; then
    log "installing $2"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
  fi
}

# Build the release binaries unless CHATSERVER_BIN and LOADGEN_BIN name prebuilt ones.
build_unless_given() {
  if [ -z "${CHATSERVER_BIN:-}" ] || [ -z "${LOADGEN_BIN:-}" ]; then
    log "building release binaries"
    cargo build --release --bins --examples >&2
  fi
}

# A temp dir (removed at exit) with private copies of the binaries, so a concurrent `cargo
# build` cannot swap one in the middle of a run, and ACCOUNTS accounts `u<i> p<i>` (plus 5 for
# the `small` server).
setup_work() { # NAME ACCOUNTS
  WORK=$(mktemp -d "/tmp/chat$1.XXXXXX")
  RESULTS=$WORK/results.tsv
  trap cleanup EXIT
  : > "$RESULTS"
  cp "${CHATSERVER_BIN:-$ROOT/target/release/chatserver}" "$WORK/chatserver"
  cp "${LOADGEN_BIN:-$ROOT/target/release/examples/loadgen}" "$WORK/loadgen"
  CHAT=$WORK/chatserver
  LOADGEN=$WORK/loadgen
  "$LOADGEN" gen-credentials "$2" "$WORK/credentials.txt"
  "$LOADGEN" gen-credentials 5 "$WORK/credentials-small.txt"
}

PIDS=()
TLS=0
# Web rows (issue 19): WEB=1 starts chatserver with --http-port (its port in HTTP_PORT); WS=1
# also runs the loadgen over WebSockets on it (the line protocol, chatserver.line), WS=irc the
# IRC protocol (text.ircv3.net), WS=events the events protocol (chatserver.events); with TLS=1
# as well, over wss on --https-port (TLS=1 with WS=0: the line protocol on --tls-port).
WEB=0
WS=0
HTTP_PORT=
SERVER_PID=
SERVER_PORT=
SERVER_KIND=
SERVER_LOG=
N=0
# The row the running server measures (workload and variant), for its worst loop iteration.
ROW=

wait_port() { # PORT: wait up to 10 s for a listener
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "nothing listening on port $1"; return 1
}

wait_chat_port() { # WHAT: the port chatserver printed as `chatserver WHAT listening on ADDR:PORT`
  for _ in $(seq 100); do
    SERVER_PORT=$(sed -n "s/^chatserver ${1}listening on .*:\([0-9]*\)$/\1/p" "$WORK/chat$N.out")
    [ -n "$SERVER_PORT" ] && return 0
    sleep 0.1
  done
  log "chatserver did not start: $(cat "$WORK/chat$N.err")"; return 1
}

# chatserver logs its worst loop iteration at shutdown (module guard, level info).
CHAT_LOG="warn,chatserver::server::guard=info"

start_chat() { # [small] [OPTIONS...]: chatserver on a fresh data dir, accounts from credentials.txt
  N=$((N + 1))
  local creds=$WORK/credentials.txt
  if [ "${1:-}" = small ]; then creds=$WORK/credentials-small.txt; shift; fi
  local tls=() which=""
  if [ "$TLS" = 1 ]; then tls=(--tls-cert "$CERT" --tls-key "$KEY" --tls-port 0); which="tls "; fi
  # Issue 19: every web row has the HTTP port (WebSockets, /metrics); WS=1 measures through it.
  if [ "$WEB" = 1 ]; then web_flags; tls=("${WEB_FLAGS[@]}"); which=$WEB_WHICH; fi
  : > "$WORK/chat$N.out"
  # --penalty-us 0: throughput rows send more than the command-rate burst from one connection.
  RUST_LOG=$CHAT_LOG "$CHAT" --bind 127.0.0.1 --credentials "$creds" --data-dir "$WORK/data$N" \
    --penalty-us 0 "$@" "${tls[@]}" 0 > "$WORK/chat$N.out" 2> "$WORK/chat$N.err" < /dev/null &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  SERVER_LOG=$WORK/chat$N.err
  wait_chat_port "$which" || return 1
  if [ "$WEB" = 1 ]; then
    HTTP_PORT=$(sed -n "s/^chatserver http listening on .*:\([0-9]*\)$/\1/p" "$WORK/chat$N.out")
  fi
}

# With WEB=1: the web listener chatserver opens (WEB_FLAGS) and the one the loadgen measures
# through (WEB_WHICH, as the startup line names it; empty for the protocol's own TCP port).
web_flags() {
  WEB_FLAGS=(--http-port 0)
  WEB_WHICH=
  if [ "$WS" != 0 ] && [ "$TLS" = 1 ]; then
    WEB_FLAGS=(--https-port 0 --tls-cert "$CERT" --tls-key "$KEY")
    WEB_WHICH="https "
  elif [ "$TLS" = 1 ]; then
    # The protocol's own TLS port (--tls-port), the anchor for wss.
    WEB_FLAGS=(--http-port 0 --tls-port 0 --tls-cert "$CERT" --tls-key "$KEY")
    WEB_WHICH="tls "
  elif [ "$WS" != 0 ]; then
    WEB_WHICH="http "
  fi
}

start_chat_irc() { # chatserver's IRC front-end; no accounts, so loadgen's IRC clients are guests
  N=$((N + 1))
  : > "$WORK/credentials-none.txt"
  : > "$WORK/chat$N.out"
  local web=() which="irc "
  if [ "$WEB" = 1 ]; then web_flags; web=("${WEB_FLAGS[@]}"); which=${WEB_WHICH:-irc }; fi
  RUST_LOG=$CHAT_LOG "$CHAT" --bind 127.0.0.1 --credentials "$WORK/credentials-none.txt" \
    --data-dir "$WORK/data$N" --irc-port 0 --irc-guests "${web[@]}" "$@" 0 \
    > "$WORK/chat$N.out" 2> "$WORK/chat$N.err" < /dev/null &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  SERVER_LOG=$WORK/chat$N.err
  wait_chat_port "$which"
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

start_redis() { # [REDIS OPTIONS...]: persistence off unless the options turn it on
  N=$((N + 1))
  SERVER_PORT=$("$LOADGEN" free-port)
  mkdir -p "$WORK/redis$N"
  local ports=(--port "$SERVER_PORT")
  if [ "$TLS" = 1 ]; then
    ports=(--port 0 --tls-port "$SERVER_PORT" --tls-cert-file "$CERT" --tls-key-file "$KEY"
      --tls-ca-cert-file "$CA" --tls-auth-clients no)
  fi
  redis-server "${ports[@]}" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
    --maxclients $((CONNS + 1000)) --dir "$WORK/redis$N" --daemonize no --loglevel warning "$@" \
    > "$WORK/redis$N/log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_port "$SERVER_PORT"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  if [ "$SERVER_KIND" = chat ] && [ -n "$ROW" ]; then
    local us
    us=$(sed -n 's/.*worst loop iteration so far: \([0-9]*\) us (\(.*\))$/\1 \2/p' "$SERVER_LOG" | tail -1)
    if [ -n "$us" ]; then
      printf 'chatserver\tworst_iter_ms@%s\t%s\tworst loop iteration of the server that measured %s: %s\n' \
        "$ROW" "$(awk -v u="${us%% *}" 'BEGIN{printf "%.1f", u / 1000}')" "$ROW" "${us#* }" >> "$RESULTS"
    fi
  fi
  ROW=
}

start() { # NAME [options...]: chatserver | chatirc | ngircd | redis
  local name=$1; shift
  SERVER_KIND=other
  case $name in
    chatserver) SERVER_KIND=chat; start_chat "$@" ;;
    chatirc) SERVER_KIND=chat; start_chat_irc "$@" ;;
    ngircd) start_ngircd ;;
    redis) start_redis "$@" ;;
  esac
}

# Concurrent logins when opening many connections: below each server's listen backlog
# (ngIRCd listens with a backlog of 10; overflowing it only adds SYN-retransmission stalls).
inflight_of() { case $1 in chatserver|chatirc) echo 500 ;; ngircd) echo 8 ;; redis) echo 400 ;; esac; }

proto_of() { case $1 in chatserver) echo chat ;; chatirc|ngircd) echo irc ;; redis) echo resp ;; esac; }

# chatserver's IRC front-end is a chatserver row with the variant `irc`.
label_of() { case $1 in chatirc) echo chatserver ;; *) echo "$1" ;; esac; }

# The row key loadgen gives a workload's figures: `latency` at a rate other than 100,000/s is
# `latency_<k>k`, and `--variant V` adds `-V` (see loadgen's `Opts::result`).
row_of() { # WORKLOAD [loadgen options...]
  local row=$1 variant= prev=
  shift
  for a in "$@"; do
    case $prev in
      --variant) variant=$a ;;
      --rate) [ "$a" = 100000 ] || row="${row}_$((a / 1000))k" ;;
    esac
    prev=$a
  done
  echo "$row${variant:+-$variant}"
}

# Each client source address carries at most 5000 connections; every run uses fresh addresses.
SRC=1
lg() { # NAME WORKLOAD [loadgen options...]: run the loadgen against the running server
  local name=$1 workload=$2; shift 2
  SRC=$((SRC + 1))
  ROW=$(row_of "$workload" "$@")
  local tls=()
  [ "$TLS" = 1 ] && tls=(--tls "$CA")
  [ "$WS" != 0 ] && tls+=(--ws "$WS")
  log "$name: $workload $* ${tls[*]}"
  "$LOADGEN" "$workload" --proto "$(proto_of "$name")" --addr "127.0.0.1:$SERVER_PORT" \
    --pid "$SERVER_PID" --label "$(label_of "$name")" --out "$RESULTS" --src "127.$SRC.0.1" \
    "${tls[@]}" "$@" >&2 || log "$name $workload failed (see above)"
}

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

median() { sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# IRC fan-out on one chatserver without and with IRCv3 tags (issue 22: `--irc-tags 1` asks for
# `server-time message-tags`, so every delivery carries `@time=…;msgid=…`), one run of each in
# turn so machine noise hits both alike; the medians go to $RESULTS as `fanout_dps@irc` and
# `fanout_dps@irc-tags`, the server's CPU per delivery as `fanout_cpu_us@irc` and
# `fanout_cpu_us@irc-tags`.
alternate_irc_tags() { # RUNS [fanout options...]
  local runs=$1; shift
  start chatirc
  : > "$WORK/irc0.tsv"; : > "$WORK/irc1.tsv"
  log "chatserver: IRC fanout without and with tags alternately, $runs runs each"
  for i in $(seq "$runs"); do
    for side in 0 1; do
      SRC=$((SRC + 1))
      "$LOADGEN" fanout --proto irc --irc-tags "$side" --addr "127.0.0.1:$SERVER_PORT" \
        --pid "$SERVER_PID" --label chatserver --out "$WORK/irc$side.tsv" --src "127.$SRC.0.1" \
        --user-base $(((2 * i + side) * 101)) "$@" --runs 1 >&2 || log "IRC fanout $side failed"
    done
  done
  for side in 0 1; do
    local name=irc other=irc-tags
    [ "$side" = 0 ] || { name=irc-tags; other=irc; }
    local values last
    values=$(cut -f3 "$WORK/irc$side.tsv" | paste -sd, - | sed 's/,/, /g')
    last=$(tail -1 "$WORK/irc$side.tsv" | cut -f4 | sed 's/^runs: [0-9]*; //')
    printf 'chatserver\t%s\t%s\truns (alternated with %s): %s; %s\n' "fanout_dps@$name" \
      "$(cut -f3 "$WORK/irc$side.tsv" | median)" "$other" "$values" "$last" >> "$RESULTS"
    # The server's own CPU per delivery in the same runs (issue 22): on two shared cores the
    # wall clock also pays for the loadgen reading 1.8x the bytes, this does not.
    local notes=$WORK/irc$side.notes cpu system loadgen
    cut -f4 "$WORK/irc$side.tsv" > "$notes"
    cpu=$(sed -n 's/.*server CPU [0-9]*% (\([0-9.]*\) us per delivery).*/\1/p' "$notes")
    system=$(sed -n 's/.*, system \([0-9.]*\) us per delivery.*/\1/p' "$notes")
    loadgen=$(sed -n 's/.*loadgen CPU [0-9]*% = \([0-9.]*\) us per delivery.*/\1/p' "$notes")
    printf 'chatserver\t%s\t%s\tus per delivery, runs: %s; of it system (median): %s; loadgen us per delivery (median): %s\n' \
      "fanout_cpu_us@$name" "$(echo "$cpu" | median)" "$(echo "$cpu" | paste -sd' ' -)" \
      "$(echo "$system" | median)" "$(echo "$loadgen" | median)" >> "$RESULTS"
  done
  ROW=fanout-irc
  stop_server
}

# Fan-out with chatserver's defaults and with `--fsync never --history 0`, one run on each in
# turn (both servers up, the one not measured idle), so machine noise hits both alike; the
# medians go to $RESULTS as `fanout_dps` and `fanout_dps@fsync-never-history-0`.
# Fan-out on the chatserver defaults and on `--fsync never --history 0`, and on each server
# named in $FAN_ANCHORS (ngircd, redis: the ratchet's anchors), one run of each per round, the
# order turning each round, so that the machine's moods (on this VM a mode can last seconds and
# move a run by 20-30%) hit every server alike; the medians go to $RESULTS as `fanout_dps`
# (`fanout_dps@fsync-never-history-0` for the bare server).
alternate_fanout() { # RUNS [fanout options...]
  local runs=$1; shift
  local -a names pid port logf kind
  local bare=fsync-never-history-0 n side k
  names=(chatserver chatserver ${FAN_ANCHORS:-})
  start chatserver; pid[0]=$SERVER_PID; port[0]=$SERVER_PORT; logf[0]=$SERVER_LOG; kind[0]=$SERVER_KIND
  start chatserver --fsync never --history 0
  pid[1]=$SERVER_PID; port[1]=$SERVER_PORT; logf[1]=$SERVER_LOG; kind[1]=$SERVER_KIND
  n=${#names[@]}
  for ((side = 2; side < n; side++)); do
    start "${names[$side]}"
    pid[side]=$SERVER_PID; port[side]=$SERVER_PORT; logf[side]=${SERVER_LOG:-}; kind[side]=$SERVER_KIND
  done
  for ((side = 0; side < n; side++)); do : > "$WORK/alt$side.tsv"; done
  log "fanout, alternately, $runs runs each: chatserver defaults, --fsync never --history 0${FAN_ANCHORS:+, $FAN_ANCHORS}"
  for i in $(seq "$runs"); do
    for ((k = 0; k < n; k++)); do
      side=$(( (k + i) % n ))
      SRC=$((SRC + 1))
      "$LOADGEN" fanout --proto "$(proto_of "${names[$side]}")" --addr "127.0.0.1:${port[$side]}" \
        --pid "${pid[$side]}" --label "${names[$side]}" --out "$WORK/alt$side.tsv" \
        --src "127.$SRC.0.1" --user-base $(((n * i + side) * 101)) "$@" --runs 1 >&2 ||
        log "fanout on ${names[$side]} ($side) failed"
    done
  done
  for ((side = 0; side < n; side++)); do
    local metric=fanout_dps row=fanout other=alternated
    [ "$side" = 0 ] && other="alternated with the $bare server"
    [ "$side" = 1 ] && { metric="fanout_dps@$bare"; row="fanout-$bare"; other="alternated with the default server"; }
    local values last
    values=$(cut -f3 "$WORK/alt$side.tsv" | paste -sd, - | sed 's/,/, /g')
    last=$(tail -1 "$WORK/alt$side.tsv" | cut -f4 | sed 's/^runs: [0-9]*; //')
    printf '%s\t%s\t%s\truns (%s): %s; %s\n' "${names[$side]}" "$metric" \
      "$(cut -f3 "$WORK/alt$side.tsv" | median)" "$other" "$values" "$last" >> "$RESULTS"
    SERVER_PID=${pid[$side]}; SERVER_LOG=${logf[$side]}; SERVER_KIND=${kind[$side]}; ROW=$row
    stop_server
  done
}
