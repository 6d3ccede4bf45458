#!/usr/bin/env bash
# A real IRC client against the server: weechat-headless, driven through its FIFO plugin,
# joins #room, talks with a second user, parts and quits; its logger's files and the peer's
# raw output are then checked.
#
#   tests/irc/weechat.sh --ngircd      prove the mechanics on ngIRCd (peer: nc speaking IRC)
#   tests/irc/weechat.sh               against chatserver (peer: nc on the line port)
#   tests/irc/weechat.sh --tls         against chatserver's --irc-tls-port, weechat verifying
#                                      a certificate made here with openssl (issue 18)
#
# Needs weechat-headless, nc (netcat-openbsd) and, for --ngircd, ngircd; for --tls, openssl
# (apt-get install -y weechat-headless netcat-openbsd ngircd openssl). Everything listens on
# 127.0.0.1 on ports the OS picks. Environment (all optional):
#   CHATSERVER_BIN  chatserver binary (default target/release/chatserver, built if missing)
#   IRC_NICK        weechat's nick and account (default wcuser)
#   IRC_PASSWORD    its password (default wcpass1)
#   PEER_NICK       the other user (default peer)
#   PEER_PASSWORD   its password (default peerpass1)
#   ROOM            room / channel name without '#' (default room)
#   TIMEOUT         seconds to wait for each expected line (default 10)
#   KEEP=1          keep the temporary directory (logs) for inspection
set -euo pipefail

script=weechat.sh
# shellcheck source=tests/irc/lib.sh
source "$(dirname "$0")/lib.sh"
mode=chatserver
[ "${1:-}" = --ngircd ] && mode=ngircd
tls=0
[ "${1:-}" = --tls ] && tls=1

nick="${IRC_NICK:-wcuser}"
pass="${IRC_PASSWORD:-wcpass1}"
peer="${PEER_NICK:-peer}"
peer_pass="${PEER_PASSWORD:-peerpass1}"
room="${ROOM:-room}"

# ---- the server -------------------------------------------------------------------------
if [ "$mode" = ngircd ]; then
    irc_port="$(free_port)"
    cat >"$tmp/ngircd.conf" <<EOF
[Global]
    Name = irc.test
    Info = weechat.sh
    Listen = 127.0.0.1
    Ports = $irc_port
    Password = $pass
[Limits]
    MaxNickLength = 32
[Options]
    PAM = no
    Ident = no
    DNS = no
EOF
    ngircd --nodaemon --config "$tmp/ngircd.conf" >"$tmp/server.log" 2>&1 &
    pids+=($!)
    peer_pass="$pass" # ngIRCd has one server password for everyone
else
    # chatserver with its IRC port (PROTOCOL.md §8); weechat logs in with PASS to its account.
    accounts="$nick $pass
$peer $peer_pass"
    tls_flags=()
    if [ "$tls" = 1 ]; then
        # A self-signed certificate for localhost, which weechat is told to trust.
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
            -addext basicConstraints=critical,CA:FALSE \
            -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null || fail "openssl req"
        chmod 600 "$tmp/key.pem"
        irc_flag=--irc-tls-port
        tls_flags=(--tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem")
    fi
    start_chatserver "${tls_flags[@]}"
fi
wait_port "$irc_port"
if [ "$tls" = 1 ]; then
    # WeeChat 4 renamed its server options ssl* to tls*.
    tls_word=tls
    [ "$(weechat-headless --version | cut -d. -f1)" -lt 4 ] && tls_word=ssl
    server_opts="-$tls_word -${tls_word}_verify"
    ca_setting="/set weechat.network.gnutls_ca_user $tmp/cert.pem;"
else
    server_opts=-notls
    ca_setting=
fi

# ---- weechat ----------------------------------------------------------------------------
start_weechat "$ca_setting\
/server add test localhost/$irc_port $server_opts -password=$pass -nicks=$nick -username=$nick -realname=weechat_sh -autojoin=;\
/connect test"
server_log="$logs/irc.server.test.weechatlog"
chan_log="$logs/irc.test.#$room.weechatlog"
expect "$server_log" "Welcome|001"

# ---- the peer ---------------------------------------------------------------------------
mkfifo "$tmp/peer.in"
nc 127.0.0.1 "${line_port:-$irc_port}" <"$tmp/peer.in" >"$tmp/peer.out" &
pids+=($!)
exec 7>"$tmp/peer.in"
peer_say() { printf '%s\r\n' "$*" >&7; }

if [ "$mode" = ngircd ]; then
    peer_say "PASS $peer_pass"
    peer_say "NICK $peer"
    peer_say "USER $peer 0 * :nc peer"
    expect "$tmp/peer.out" " 001 $peer "
    peer_say "JOIN #$room"
    expect "$tmp/peer.out" "JOIN :?#$room"
else
    # The line user (PROTOCOL.md §2, §5) opens the room and enters it; weechat's JOIN finds it
    # (a JOIN of a room that does not exist would open it, owned by the joiner).
    peer_say "login $peer $peer_pass"
    expect "$tmp/peer.out" "Welcome to the greatest messaging application ever!"
    peer_say "open-chatroom $room public"
    peer_say "enter-chatroom $room"
    expect "$tmp/peer.out" "You entered chatroom $room"
fi

# ---- the conversation -------------------------------------------------------------------
wc_send "irc.server.test */join #$room"
expect "$chan_log" "$nick"
if [ "$mode" = ngircd ]; then
    expect "$tmp/peer.out" ":$nick!.* JOIN :?#$room"
else
    expect "$tmp/peer.out" "\[System\]: $nick entered the chatroom"
fi

wc_send "irc.test.#$room *hello from weechat"
if [ "$mode" = ngircd ]; then
    expect "$tmp/peer.out" ":$nick!.* PRIVMSG #$room :hello from weechat"
    peer_say "PRIVMSG #$room :hello from nc"
else
    # An IRC user's channel line reads as §5 room chat on the line protocol.
    expect "$tmp/peer.out" "<$nick>: hello from weechat"
    peer_say "hello from nc"
fi
expect "$chan_log" "[[:space:]][@+]?$peer[[:space:]]+hello from nc"

wc_send "irc.test.#$room */part #$room bye now"
expect "$chan_log" "$nick.*has left #$room.*bye now"
if [ "$mode" = ngircd ]; then
    expect "$tmp/peer.out" ":$nick!.* PART #$room :?bye now"
else
    expect "$tmp/peer.out" "\[System\]: $nick left the chatroom"
fi

quit_weechat see you
if [ "$mode" = ngircd ]; then
    # The peer shares no channel with weechat any more, so it sees no QUIT: ask the server.
    peer_say "WHOIS $nick"
    expect "$tmp/peer.out" " 401 $peer $nick "
else
    # An IRC QUIT is a logout: the line user sees the presence line.
    expect "$tmp/peer.out" "$nick logged out"
fi
if [ "$mode" = ngircd ]; then peer_say "QUIT"; else peer_say "/exit"; fi

[ "$tls" = 1 ] && mode="$mode over TLS, certificate verified"
echo "weechat.sh ($mode): all checks passed"
