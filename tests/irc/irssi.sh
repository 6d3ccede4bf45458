#!/usr/bin/env bash
# irssi against chatserver (issue 22), scripted: Debian's irssi runs in a private tmux server,
# typed into with `tmux send-keys`, and logs every window to one file; a line user on nc opens
# the room. Checks, each on what irssi logged or what the line user saw:
#   1. SASL PLAIN login (900/903) from the chatnet's sasl_* settings;
#   2. `/me waves` in #room reaches the line user as `* irsuser waves`;
#   3. `/whois` of an offline nick: irssi's 401 is followed by its automatic WHOWAS, answered
#      from the login history (314/369), never `421 Unknown command`;
#   4. `/quit` logs irsuser out, as the line user sees.
#
#   tests/irc/irssi.sh         (about 10 s; KEEP=1 keeps the logs)
#
# Needs irssi, tmux, nc (netcat-openbsd) and python3.
set -euo pipefail
script=irssi.sh
# shellcheck source=tests/irc/lib.sh
source "$(dirname "$0")/lib.sh"

accounts="irsuser irspass1
peer peerpass1
ghost ghostpass1"
start_chatserver

# ghost logs in and out over the line port: an offline nick with a login history.
line_user ghost ghostpass1 8
printf 'logout\r\n' >&8
expect "$tmp/ghost.out" "You have logged out"
line_user peer peerpass1 7
printf 'open-chatroom room public\r\nenter-chatroom room\r\n' >&7
expect "$tmp/peer.out" "You entered chatroom room"

# ---- irssi ------------------------------------------------------------------------------
home="$tmp/irssi"
log="$home/all.log"
show_files=("$log")
mkdir -p "$home"
cat >"$home/config" <<CONF
servers = (
  { address = "127.0.0.1"; chatnet = "chat"; port = "$irc_port"; use_tls = "no"; autoconnect = "yes"; }
);
chatnets = {
  chat = { type = "IRC"; nick = "irsuser"; username = "irsuser"; realname = "irssi.sh";
    sasl_mechanism = "PLAIN"; sasl_username = "irsuser"; sasl_password = "irspass1"; };
};
settings = {
  core = { settings_autosave = "no"; nick = "irsuser"; user_name = "irsuser"; real_name = "irssi.sh"; };
  # No flood control against our own server: irssi would hold each command for seconds.
  "irc/core" = { cmd_queue_speed = "0msec"; cmds_max_at_once = "100"; };
};
CONF
# Logging starts before the autoconnect, so the whole session is in $log.
printf '/log open %s ALL\n' "$log" >"$home/startup"
sock="irssi-sh-$$"
tmux -L "$sock" -f /dev/null new-session -d -s irssi -x 160 -y 50 \
    "TERM=screen irssi --home=$home 2>$tmp/irssi.err"
cleanup_tmux() { tmux -L "$sock" kill-server 2>/dev/null || true; cleanup; }
trap cleanup_tmux EXIT
type_line() { tmux -L "$sock" send-keys -t irssi -l "$*" && tmux -L "$sock" send-keys -t irssi Enter; }

# 1. SASL PLAIN.
expect "$log" "You are now logged in as irsuser"
expect "$log" "SASL authentication succeeded"
refute "$log" "SASL authentication failed|Password incorrect"
# irssi refuses commands ("Not connected to server") until registration ends: wait for the
# end of the welcome burst (422/376) before typing, as a user would wait to see it.
expect "$log" "MOTD File is missing|End of /MOTD"

# 2. /me to a line user.
type_line "/join #room"
expect "$tmp/peer.out" "irsuser entered the chatroom"
expect "$log" "Join to #room was synced|irsuser.* has joined #room"
type_line "/me waves"
expect "$tmp/peer.out" "^\* irsuser waves"
refute "$tmp/peer.out" "ACTION"

# 3. WHOIS of an offline nick.
type_line "/whois ghost"
# (irssi hides the 401 when its auto_whowas follows it up.)
expect "$log" "-!- ghost \\[ghost@[^]]+\\]$"
expect "$log" "was +: ghost"
expect "$log" "End of WHOWAS"
refute "$log" "Unknown command"

# 4. Quit.
type_line "/quit bye"
expect "$tmp/peer.out" "irsuser logged out"
echo "$script: all checks passed"
