# Shared by the real-client scripts (weechat.sh, weechat-ircv3.sh, irssi.sh): a temporary
# directory cleaned up on exit, expectations on files with a deadline, OS-chosen ports,
# chatserver started on 127.0.0.1 with its own data directory, line users on nc, and
# weechat-headless driven through its FIFO.
# Source it after setting `script` (the name in messages); it sets `tmp`, `pids`, `repo`.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
timeout="${TIMEOUT:-10}"
tmp="$(mktemp -d)"
pids=()
# Files whose tail `fail` shows besides $tmp/*.out (globs allowed): the clients' logs.
show_files=()
cleanup() {
    for fd in 7 8 9; do eval "exec $fd>&-" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "$script: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

fail() {
    echo "$script: FAIL: $*" >&2
    [ -f "$tmp/server.log" ] && { echo "--- server.log (head)" >&2; head -n 5 "$tmp/server.log" >&2; }
    local f
    # shellcheck disable=SC2068 # show_files holds globs, expanded now
    for f in "$tmp"/*.out ${show_files[@]}; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

# Wait until file $1 (or any file its glob names) has a line matching the extended regex $2.
expect() {
    local deadline=$((SECONDS + timeout))
    # shellcheck disable=SC2086 # $1 may be a glob
    until grep -qsE -- "$2" $1; do
        [ $SECONDS -ge $deadline ] && fail "no line /$2/ in $(basename "$1")"
        sleep 0.2
    done
    # shellcheck disable=SC2086
    echo "ok: $(basename "$1"): $(grep -hsE -m1 -- "$2" $1 | tr -d '\r')"
}

# Fail if file $1 (or its glob) has a line matching $2 (what must not have happened).
refute() {
    # shellcheck disable=SC2086
    if grep -qsE -- "$2" $1; then fail "unexpected /$2/ in $(basename "$1"): $(grep -hsE -m1 -- "$2" $1)"; fi
    echo "ok: $(basename "$1"): no /$2/"
}

# An OS-chosen free port on 127.0.0.1 (for servers that need the number in a config file).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait until something listens on 127.0.0.1:$1.
wait_port() {
    local deadline=$((SECONDS + timeout))
    until nc -z 127.0.0.1 "$1" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && fail "nothing listens on 127.0.0.1:$1"
        sleep 0.1
    done
}

# chatserver on fresh ports with its own data directory and the accounts "name pass" given
# one a line in $accounts; extra arguments go before the positional ones (the line port,
# then $server_tail: e.g. "60 4" for a 4-second TIMEOUT). The IRC port is --irc-port, or
# $irc_flag (--irc-tls-port). Sets irc_port and line_port.
start_chatserver() {
    local bin="${CHATSERVER_BIN:-$repo/target/release/chatserver}"
    [ -x "$bin" ] || (cd "$repo" && cargo build --release --bin chatserver)
    printf '%s\n' "$accounts" >"$tmp/credentials.txt"
    mkdir -p "$tmp/data"
    irc_port="$(free_port)"
    line_port="$(free_port)"
    # shellcheck disable=SC2086 # server_tail is words
    "$bin" --bind 127.0.0.1 --data-dir "$tmp/data" --credentials "$tmp/credentials.txt" \
        --no-admin-socket "$@" "${irc_flag:---irc-port}" "$irc_port" "$line_port" ${server_tail:-} \
        >"$tmp/server.log" 2>&1 &
    pids+=($!)
    wait_port "$line_port"
    wait_port "$irc_port"
}

# A line user on nc (PROTOCOL.md §2): `line_user NAME PASS FD` logs NAME in over the line
# port with file descriptor FD writing to it; its screen is $tmp/NAME.out.
line_user() {
    mkfifo "$tmp/$1.in"
    nc 127.0.0.1 "$line_port" <"$tmp/$1.in" >"$tmp/$1.out" &
    pids+=($!)
    eval "exec $3>\"\$tmp/\$1.in\""
    printf 'login %s %s\r\n' "$1" "$2" >&"$3"
    expect "$tmp/$1.out" "Welcome to the greatest messaging application ever!"
}

# weechat-headless in $tmp/wc, its logger writing one file per buffer to $logs with each
# line's own time (%H:%M:%S), then the `;`-separated commands $1 (server setup, /connect).
# Sets wc_pid; `wc_send "<plugin>.<buffer> *<text or /command>"` types into a buffer.
start_weechat() {
    wc="$tmp/wc"
    logs="$wc/logs"
    fifo="$wc/weechat_fifo"
    mkdir -p "$wc"
    show_files=("$logs/*.weechatlog")
    weechat-headless -d "$wc" -r "/set fifo.file.path $fifo;/set fifo.file.enabled on;\
/set logger.file.path $logs;/set logger.file.flush_delay 0;\
/set logger.file.mask \$plugin.\$name.weechatlog;/set logger.file.time_format %H:%M:%S;\
/set irc.look.temporary_servers on;$1" >"$tmp/weechat.out" 2>&1 &
    wc_pid=$!
    pids+=("$wc_pid")
    local deadline=$((SECONDS + timeout))
    until [ -p "$fifo" ]; do
        [ $SECONDS -ge $deadline ] && fail "weechat did not create its FIFO"
        sleep 0.1
    done
}
wc_send() { printf '%s\n' "$*" >"$fifo"; }

# /quit weechat and wait until it has exited.
quit_weechat() {
    wc_send "core.weechat */quit $*"
    local deadline=$((SECONDS + timeout))
    while kill -0 "$wc_pid" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && fail "weechat did not exit after /quit"
        sleep 0.1
    done
}
