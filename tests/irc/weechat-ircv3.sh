#!/usr/bin/env bash
# WeeChat against chatserver's modern IRC (issue 22), scripted: weechat-headless, driven
# through its FIFO plugin, holds two connections, `test` (account wcuser, SASL PLAIN) and `g`
# (a guest), beside line users on nc; every check reads what WeeChat logged (its logger's
# files, which keep each line's own time) or what the line user saw:
#   1. SASL PLAIN login (900/903 in the server buffer);
#   2. a DM sent while wcuser was offline arrives stamped with the time it was *sent*
#      (server-time), not the time WeeChat connected;
#   3. /notify (WeeChat uses MONITOR, 005 says so): a watched user logging in is shown;
#   4. the guest changes its nick;
#   5. wcuser sets away and the guest's DM to it gets 301 (shown to the guest);
#   6. idle through twice TIMEOUT (4 s here), only answering the server's PINGs: both
#      connections still there, nobody saw a logout, and DMs still arrive both ways;
#   7. a third connection, `s` (account scrammer, stored as PBKDF2), logs in with SASL
#      SCRAM-SHA-256: WeeChat's own SCRAM client proves the password without sending it.
#
#   tests/irc/weechat-ircv3.sh         (about 25 s; KEEP=1 keeps the logs)
#
# Needs weechat-headless (3.8 or later), nc (netcat-openbsd) and python3.
set -euo pipefail
script=weechat-ircv3.sh
# shellcheck source=tests/irc/lib.sh
source "$(dirname "$0")/lib.sh"

idle_timeout=4 # the server's TIMEOUT: IRC clients are pinged after half of it, dropped after all
# scrammer's password (scrampass1) stored hashed, as `chatserver user add` stores it: SCRAM
# needs the PBKDF2 key (plaintext accounts log in with PLAIN or PASS).
scram_secret=$(python3 -c 'import hashlib; s=bytes(range(16)); print("$pbkdf2-sha256$4096$" + s.hex() + "$" + hashlib.pbkdf2_hmac("sha256", b"scrampass1", s, 4096).hex())')
accounts="wcuser wcpass1
peer peerpass1
nomad nomadpass1
scrammer $scram_secret"
server_tail="60 $idle_timeout"
start_chatserver --irc-guests

# ---- a DM to wcuser while it is offline, and the time it was sent ------------------------
line_user peer peerpass1 7
# Line users obey TIMEOUT too (seed 003's inactivity logout): keep peer busy.
(while printf 'whoelse\r\n' >&7 2>/dev/null; do sleep 1; done) &
pids+=($!)
sent_at=$(date +%s) # the server stamps it in this second or the next
printf 'message wcuser kept for later\r\n' >&7
sleep 2.2 # so that the time WeeChat connects shows a different second

# ---- weechat ----------------------------------------------------------------------------
start_weechat "/set irc.server_default.lag_check 0;\
/server add test 127.0.0.1/$irc_port -notls -sasl_mechanism=plain -sasl_username=wcuser \
-sasl_password=wcpass1 -sasl_fail=disconnect -nicks=wcuser -username=wcuser -realname=wc -autojoin=;\
/server add g 127.0.0.1/$irc_port -notls -nicks=gst1 -username=gst -realname=guest -autojoin=;\
/server add s 127.0.0.1/$irc_port -notls -sasl_mechanism=scram-sha-256 -sasl_username=scrammer \
-sasl_password=scrampass1 -sasl_fail=disconnect -nicks=scrammer -username=sc -realname=sc -autojoin=;\
/connect test;/connect g;/connect s"
test_log="$logs/irc.server.test.weechatlog"
g_log="$logs/irc.server.g.weechatlog"

# 1. SASL PLAIN.
expect "$test_log" "You are now logged in as wcuser"
expect "$test_log" "SASL authentication successful"
expect "$test_log" "Welcome.*wcuser"
refute "$test_log" "SASL authentication failed|Password incorrect"

# 2. The offline DM, shown at the second it was sent (either side of a second boundary).
dm_log="$logs/irc.test.peer.weechatlog"
expect "$dm_log" "peer[[:space:]]+kept for later"
times="$(date -d "@$sent_at" +%H:%M:%S)|$(date -d "@$((sent_at + 1))" +%H:%M:%S)"
expect "$dm_log" "^($times)[[:space:]]+peer[[:space:]]+kept for later"

# 3. /notify, which WeeChat sends as MONITOR to a server whose 005 has MONITOR (with ISON it
# would poll once a minute: a login shown within the timeout is MONITOR's 730).
expect "$test_log" "MONITOR=100"
wc_send "irc.server.test */notify add nomad test"
expect "$test_log" "notify: nomad is offline"
line_user nomad nomadpass1 8
expect "$test_log" "notify: nomad \\(nomad@[^)]*\\) has connected"

# 4. The guest's nick change.
expect "$g_log" "Welcome.*gst1"
wc_send "irc.server.g */nick gst2"
expect "$g_log" "You are now known as gst2"

# 5. Away, and the 301 its DM gets.
wc_send "irc.server.test */away gone fishing"
expect "$test_log" "You have been marked as (being )?away"
wc_send "irc.server.g */msg wcuser are you there"
expect "$logs/irc.test.gst2.weechatlog" "gst2[[:space:]]+are you there"
expect "$g_log" "\\[wcuser\\] is away: gone fishing"
wc_send "irc.server.test */away"

# 6. Idle through twice the timeout with WeeChat's own lag check off: all either connection
# sends is the PONG to the server's PING (every TIMEOUT/2; WeeChat re-sends `MONITOR + nomad`
# once when nomad goes). nomad, idle too, is logged out meanwhile (the line protocol's rule).
sleep $((2 * idle_timeout + 1))
refute "$test_log" "disconnected from server|Closing link|Ping timeout|Unknown command"
refute "$g_log" "disconnected from server|Closing link|Ping timeout"
refute "$tmp/peer.out" "wcuser logged out|gst2 logged out"
expect "$tmp/nomad.out" "logged out due to inactivity"
printf 'message wcuser still there?\r\n' >&7
expect "$dm_log" "peer[[:space:]]+still there\?"
wc_send "irc.server.test */msg gst2 after the wait"
expect "$logs/irc.g.wcuser.weechatlog" "wcuser[[:space:]]+after the wait"
expect "$test_log" "notify: nomad.* has quit"

# 7. SCRAM-SHA-256.
s_log="$logs/irc.server.s.weechatlog"
expect "$s_log" "You are now logged in as scrammer"
expect "$s_log" "SASL authentication successful"
expect "$s_log" "Welcome.*scrammer"
refute "$s_log" "SASL authentication failed|Password incorrect"

quit_weechat
expect "$tmp/peer.out" "wcuser logged out"
echo "$script: all checks passed"
