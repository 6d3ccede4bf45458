#!/usr/bin/env python3
"""Chaos across front-ends: line, IRC, seed-002 JSON and WebSocket events users send random
commands, well formed and hostile (wrong arguments, control characters, invalid UTF-8, huge
lines, malformed JSON and frames, IRC tags, SASL, CHATHISTORY, modes), to one server. After
each round every connection closes; once the server has none left, its state is read (a
`list-user`/`list-chatroom`/`whoami` of a checking account, and a `chatserver backup`'s
snapshot.log: every account, mailbox, block, room, setting and profile as records); then the
server is stopped with SIGKILL or SIGTERM, started again on the same files and read again.

Findings (exit status 1): the server died or did not start; state read back differs across a
restart (lockouts excepted: they expire); a loop iteration over 50 ms (`ctl stats`); a
connection or user left after the round; a panic or an ERROR in the server's log.

    tests/chaos/chaos.py BINARY [--rounds N] [--secs S] [--seed K] [--server-args "OPTS"]
                        [--cluster]

With `--cluster`, two nodes share one chat world on a redis-server of the run's own; users
connect to either, and after each round both nodes must show the same state.

Found at stop 30: a guest's room whose last member logged out stayed open; a guest closed by
a lockout of the account it tried with SASL after registration stayed online; in cluster mode,
a guest's rename known to one node only left the nodes with different account lists.
"""
import argparse
import base64
import difflib
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("--rounds", type=int, default=6)
ap.add_argument("--secs", type=float, default=10, help="seconds of traffic per round")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--keep", action="store_true", help="keep the work directory")
ap.add_argument("--server-args", default="", help="more options for the server, one string")
ap.add_argument("--cluster", action="store_true",
                help="two nodes on one redis-server (started here): users on either, and after "
                     "each round both nodes must show the same state (no restarts)")
args = ap.parse_args()
BIN = args.binary
rnd = random.Random(args.seed)
work = tempfile.mkdtemp(prefix="chaos")
# `zzcheck` reads the state; no random command names it, so it is never locked or blocked.
with open(f"{work}/credentials.txt", "w") as f:
    f.write("yoda wise\nhans falcon*solo\nzzcheck zzpass\n")
findings = []


def finding(text):
    findings.append(text)
    print("!!", text, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


NODES = [dict(line=free_port(), irc=free_port(), json=free_port(), ws=free_port())
         for _ in range(2 if args.cluster else 1)]
redis = None
if args.cluster:
    redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", work],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):  # Started before it listens, a node logs Redis unreachable.
        try:
            socket.create_connection(("127.0.0.1", redis_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)


def data_dir(n):
    return f"{work}/data{n}"


def start_node(n):
    ports = NODES[n]
    err = open(f"{work}/server.log", "ab")
    cluster = []
    if args.cluster:
        cluster = ["--cluster", f"redis://127.0.0.1:{redis_port}", "--node-id", f"n{n}"]
    # Lockouts last 1 s (random passwords lock accounts all the time), the inactivity
    # timeout 30 s; --penalty-us 0 so the storm is read as fast as it comes.
    p = subprocess.Popen(
        [BIN, "--bind", "127.0.0.1", "--credentials", f"{work}/credentials.txt",
         "--data-dir", data_dir(n), "--irc-port", str(ports["irc"]), "--irc-guests",
         "--json-port", str(ports["json"]), "--http-port", str(ports["ws"]),
         "--penalty-us", "0", *cluster, *args.server_args.split(), str(ports["line"]), "1",
         "30"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        env=dict(os.environ, RUST_LOG="info"))
    for _ in range(100):
        try:
            # A cluster node listens at once and serves once it has loaded the world.
            with socket.create_connection(("127.0.0.1", ports["line"]), timeout=5) as s:
                if s.recv(64).startswith(b"Username"):
                    return p
        except OSError:
            pass
        if p.poll() is not None:
            finding(f"node {n} exited with {p.returncode} at start")
            report()
        time.sleep(0.1)
    finding(f"node {n} did not start in 10 s")
    report()


def start():
    return [start_node(n) for n in range(len(NODES))]


# --- what the users say ---------------------------------------------------------------------

NAMES = ["yoda", "hans", "YODA", "Hans", "luke", "guest", "#den", "den", "x" * 33, "a!b",
         "a,b", "*", "é", "", "-", "u1\x00", "NickServ", "anonymous"]
ROOMS = ["den", "#den", "lab", "#lab", "Den", "x" * 40, "a b", "#", "&x", "r.1", "0"]
WEIRD = ["", " ", "\t", "\x01ACTION waves\x01", "\x00", "\x1b[31m", "é" * 200, "\udcff",
         "a" * 5000, ":", "::", "\r", "%s%n", "{}", '{"a":1}', "<quit>", "\\n", "🙂" * 50]


def word():
    if rnd.random() < .6:
        return rnd.choice(["u%d" % rnd.randint(1, 12), "r%d" % rnd.randint(1, 5),
                           "#r%d" % rnd.randint(1, 5), "irc%d" % rnd.randint(1, 50)])
    return rnd.choice(NAMES + ROOMS + WEIRD + [str(rnd.randint(-5, 1 << 40))])


def text():
    words = WEIRD + ["hi", "hello world", "/me"]
    return " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 4)))


LINE = ["message", "broadcast", "whoelse", "whoelsesince", "block", "unblock", "logout", "logout",
        "startprivate", "private", "stopprivate", "y", "n", "getaddress", "p2p-port", "whoami",
        "view-profile", "set-profile", "list-user", "open-chatroom", "enter-chatroom",
        "list-chatroom", "get-blacklist", "get-whitelist", "close-chatroom", "list-members",
        "topic", "announce", "history", "BM", "PM", "CH", "EX", "help", "/ban-user",
        "/permit-user", "/kick-user", "/exit-chatroom", "/unban-user", "/unpermit-user",
        "live", "register", "login"]
IRC = ["PRIVMSG", "NOTICE", "JOIN", "PART", "MODE", "TOPIC", "KICK", "INVITE", "NAMES", "LIST",
       "WHO", "WHOIS", "WHOWAS", "AWAY", "NICK", "USER", "PING", "PONG", "ISON", "USERHOST",
       "MONITOR", "TAGMSG", "CAP", "AUTHENTICATE", "CHATHISTORY", "SETNAME", "OPER", "KILL",
       "WALLOPS", "LUSERS", "TIME", "INFO", "HELP", "LINKS", "QUIT", "PASS", "BATCH", "MOTD"]
MODES = ["+i", "-i", "+k", "-k", "+l", "-l", "+m", "+v", "+o", "-o", "+b", "-b", "+s", "+t",
         "-n", "+imnst", "+kl", "+bbbbb", "+x", ""]
EVENTS = ["login", "register", "guest", "answer", "message", "broadcast", "announce", "whoelse",
          "whoelsesince", "block", "unblock", "logout", "help", "whoami", "list_users",
          "view_profile", "set_profile", "away", "whois", "who", "start_private", "consent",
          "private", "stop_private", "history", "room_open", "room_join", "room_part",
          "room_say", "room_invite", "room_list", "room_members", "room_topic", "room_close",
          "room_set_topic", "room_set_private", "room_ban", "room_permit", "room_kick",
          "room_change", "rename", "lookup", "whowas", "monitor_add", "replay_latest",
          "replay_before", "replay_targets", "set_name", "kill", "wallops", "bogus"]
FIELDS = ["user", "password", "name", "to", "text", "room", "key", "create", "on", "private",
          "changes", "names", "with", "limit", "seconds", "attribute", "value", "id", "kind",
          "reason"]


def line_command():
    parts = [rnd.choice(LINE)] + [word() for _ in range(rnd.randint(0, 2))]
    if rnd.random() < .5:
        parts.append(text())
    return " ".join(parts)


def irc_command():
    c = rnd.choice(IRC + ["PRIVMSG", "JOIN", "MODE", "MODE", "TOPIC", "KICK", "INVITE"])
    if c == "MODE":
        params = ["#r%d" % rnd.randint(1, 5), rnd.choice(MODES)]
        params += [word() for _ in range(rnd.randint(0, 3))]
    elif c == "CHATHISTORY":
        params = [rnd.choice(["LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS", "X"]),
                  rnd.choice(ROOMS + NAMES + ["*"]),
                  rnd.choice(["*", "timestamp=2026-01-01T00:00:00.000Z", "msgid=" + word()[:12]]),
                  str(rnd.randint(-1, 2000))]
    elif c == "CAP":
        params = [rnd.choice(["LS", "LS 302", "REQ", "END", "LIST", "ACK"]),
                  ":" + rnd.choice(["sasl", "message-tags server-time", "-sasl", "bogus",
                                    "labeled-response batch echo-message"])]
    elif c == "AUTHENTICATE":
        params = [rnd.choice(["PLAIN", "SCRAM-SHA-256", "*", "+", "eW9kYQB5b2RhAHdpc2U=",
                              "A" * 400])]
    else:
        params = [word() for _ in range(rnd.randint(0, 3))]
        if rnd.random() < .6:
            params.append(":" + text())
    if rnd.random() < .2:
        tags = rnd.choice(["1", "\\s", "a;b", "é"]) + ";label=" + word()[:10]
        c = "@+draft/x=" + tags + " " + c
    return " ".join([c] + params)


def json_command():
    if rnd.random() < .1:
        return rnd.choice(['{', '}', '{"msgType":', '[]', '"x"', '{"msgType":"<private>"}',
                           "\x00{}"])
    kind = rnd.choice(["<first>", "<private>", "<announce>", "<list>", "<quit>", "<bogus>"])
    obj = {"msgType": kind, "username": word(), "message": text(), "target": word()}
    for k in list(obj):
        if rnd.random() < .1:
            del obj[k]
    return json.dumps(obj, ensure_ascii=rnd.random() < .5)


def value():
    return rnd.choice([word(), text(), rnd.randint(-3, 1 << 53), None, True, [word()],
                       {"room": "r1"}, {"user": "u1"}, {"msgid": 5}, 1.5])


def event_request():
    if rnd.random() < .05:
        return rnd.choice(['{', '[]', '"x"', '{"type":1}',
                           '{"type":"login","user":"' + "a" * 300 + '"}'])
    obj = {"type": rnd.choice(EVENTS)}
    for k in rnd.sample(FIELDS, rnd.randint(0, 5)):
        obj[k] = value()
    if obj["type"] == "room_change" and rnd.random() < .7:
        obj["room"] = "r%d" % rnd.randint(1, 5)
        change = rnd.choice(["private", "secret", "topic_lock", "no_outside", "key", "op",
                             "voice", "ban", "limit"])
        obj["changes"] = [{"change": change, "on": rnd.random() < .5, "user": word(),
                           "key": word(), "mask": word()}]
    return json.dumps(obj, ensure_ascii=rnd.random() < .5)


def ws_frame(payload, opcode=1):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Conn:
    def __init__(self, kind):
        self.kind = kind
        node = rnd.choice(NODES)
        self.sock = socket.create_connection(("127.0.0.1", node[kind]), timeout=2)
        if kind == "ws":
            key = base64.b64encode(os.urandom(16)).decode()
            self.sock.sendall(
                ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.sock.setblocking(False)
        user = "u%d" % rnd.randint(1, 12)
        if kind == "line":
            if rnd.random() < .8:
                self.send("register %s p" % user)
                self.send("login %s p" % user)
            else:
                self.send(rnd.choice(["yoda", "hans", user, word()]))
                self.send(rnd.choice(["wise", "falcon*solo", "p", word()]))
        elif kind == "irc":
            if rnd.random() < .5:
                self.send("CAP LS 302")
            if rnd.random() < .4:
                self.send("PASS " + rnd.choice(["wise", "falcon*solo", "p"]))
            nick = rnd.choice(["yoda", "hans", user, "irc%d" % rnd.randint(1, 50), word()])
            self.send("NICK " + nick)
            self.send("USER u 0 * :real name")
            if rnd.random() < .5:
                self.send("CAP END")
        elif kind == "json":
            self.send(json.dumps({"msgType": "<first>", "username": "j%d" % rnd.randint(1, 30)}))
        else:
            self.send(json.dumps(rnd.choice([
                {"type": "register", "user": user, "password": "p"},
                {"type": "login", "user": user, "password": "p"},
                {"type": "guest", "name": "w%d" % rnd.randint(1, 30)}])))

    def send(self, t):
        data = t.encode("utf-8", "surrogateescape")
        if self.kind == "ws":
            opcode = rnd.choice([2, 9, 10, 0, 3]) if rnd.random() < .02 else 1
            data = ws_frame(data, opcode)
        elif self.kind != "json":
            data += rnd.choice([b"\n", b"\r\n", b"\n", b"\r\n\r\n"])
        try:
            self.sock.sendall(data)
        except OSError:
            pass  # Full (it is not reading) or closed by the server: both are fine here.

    def drain(self):
        """False once the server closed it."""
        try:
            while True:
                if not self.sock.recv(65536):
                    return False
        except BlockingIOError:
            return True
        except OSError:
            return False


COMMANDS = {"line": line_command, "irc": irc_command, "json": json_command, "ws": event_request}


def traffic(p, secs):
    conns, sent = [], 0
    end = time.time() + secs
    while time.time() < end:
        if len(conns) < 30 or rnd.random() < .02:
            try:
                conns.append(Conn(rnd.choice(["line", "line", "irc", "irc", "json", "ws", "ws"])))
            except OSError as e:
                finding(f"connect failed: {e}")
        c = rnd.choice(conns)
        if rnd.random() < .01:
            c.sock.close()
            conns.remove(c)
            continue
        c.send(COMMANDS[c.kind]())
        if c.kind == "line" and rnd.random() < .05:  # a room of its own, and chat in it
            room = "r%d" % rnd.randint(1, 5)
            c.send("open-chatroom %s %s" % (room, rnd.choice(["public", "private"])))
            c.send("enter-chatroom " + room)
            c.send(text())
            for _ in range(rnd.randint(0, 3)):
                c.send("/" + line_command())
        elif c.kind == "irc" and rnd.random() < .05:  # a guest's room, and SASL once online
            c.send("JOIN #r%d" % rnd.randint(1, 5))
            user = rnd.choice(["yoda", "u%d" % rnd.randint(1, 12)])
            plain = "%s\0%s\0%s" % (user, user, rnd.choice(["p", "wise", "wrong"]))
            c.send("AUTHENTICATE PLAIN")
            c.send("AUTHENTICATE " + base64.b64encode(plain.encode()).decode())
        sent += 1
        if sent % 50 == 0:
            conns = [c for c in conns if c.drain()]
        for n, q in enumerate(p):
            if q.poll() is not None:
                finding(f"node {n} died (exit {q.returncode})")
                report()
    for c in conns:
        c.sock.close()
    return sent


# --- reading the state ----------------------------------------------------------------------

def ask(lines, n=0):
    # In a cluster the checker's logout on one node reaches the other a stream round trip
    # later: a login there in between is refused as a second login of an online account (as
    # it should be). Log in first, and only then send the lines, trying again for a while.
    start = time.time()
    while True:
        s = socket.create_connection(("127.0.0.1", NODES[n]["line"]), timeout=10)
        s.sendall(b"login zzcheck zzpass\n")
        got = b""
        while b"Welcome" not in got and b"Error" not in got and b"Invalid" not in got:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        if b"Welcome" in got or time.time() - start > 10:
            break
        s.close()
        time.sleep(0.2)
    s.sendall(lines + b"logout\n")
    got = b""
    while b"You have logged out" not in got and time.time() - start < 20:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got.decode(errors="replace")


def ctl(*cmd, n=0):
    out = subprocess.run([BIN, "ctl", "--data-dir", data_dir(n), *cmd],
                         capture_output=True, text=True)
    return out.stdout + out.stderr


def quiet(n=0):
    """Wait until node `n` has no connection and nobody online; its `ctl stats`."""
    for _ in range(150):
        stats = ctl("stats", n=n)
        if re.search(r"^connections 0$", stats, re.M):
            after = ask(b"whoelse\n", n).split("Welcome to the greatest messaging application ever!\n")
            if after[-1].startswith("You have logged out"):
                return stats
        time.sleep(0.2)
    finding(f"node {n}: connections or users left 30 s after the round: "
            + stats.replace("\n", "; "))
    return stats


def view(n=0):
    """What the checking user sees on node `n`, online or not aside."""
    return re.sub(r" (online|offline)\n", " X\n", ask(b"list-user\nlist-chatroom\nwhoami\n", n))


def state():
    listing = view()
    backup = f"{work}/backup"
    shutil.rmtree(backup, ignore_errors=True)
    out = subprocess.run([BIN, "backup", "--data-dir", data_dir(0), backup],
                         capture_output=True, text=True)
    for _ in range(100):
        if os.path.exists(f"{backup}/snapshot.log"):
            break
        time.sleep(0.1)
    else:
        finding(f"backup failed: {out.stdout} {out.stderr}")
        return listing, []
    with open(f"{backup}/snapshot.log", "rb") as f:
        records = f.read().decode(errors="replace").split("\n")
    # A lockout expires (1 s here): the snapshot drops it.
    return listing, sorted(r for r in records if "\tlockout\t" not in r and " lockout\t" not in r)


def compare(what, before, after):
    if before != after:
        diff = list(difflib.unified_diff(before, after, lineterm=""))
        finding(f"{what} differs:\n  " + "\n  ".join(d[:200] for d in diff[:30]))


def report():
    with open(f"{work}/server.log", errors="replace") as f:
        log = f.read().splitlines()
    for bad in ("panicked", " ERROR "):
        hits = [line for line in log if bad in line]
        if hits:
            finding(f"{len(hits)} log lines with {bad.strip()!r}:\n  " + "\n  ".join(hits[:10]))
    print(f"chaos: {len(findings)} findings (seed {args.seed}; server log in {work})"
          if findings or args.keep else f"chaos: no findings (seed {args.seed})")
    if not findings and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if redis:
        redis.kill()
    sys.exit(1 if findings else 0)


def one_node_round(r, p):
    sent = traffic(p, args.secs)
    stats = quiet()
    worst = re.search(r"worst iteration (\d+)(us|ms|s)", stats)
    if worst and (worst.group(2) == "s" or (worst.group(2) == "ms" and int(worst.group(1)) > 50)):
        finding(f"a loop iteration over 50 ms: {worst.group(0)}")
    listing, records = state()
    how = rnd.choice(["SIGKILL", "SIGTERM"])
    p[0].send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGTERM)
    p[0].wait(timeout=30)
    p = start()
    listing_after, records_after = state()
    compare("the checking user's view across the restart", listing.splitlines(),
            listing_after.splitlines())
    compare("snapshot.log across the restart", records, records_after)
    rss = re.search(r"rss \d+ KiB", stats)
    same = listing == listing_after and records == records_after
    print(f"round {r}: {sent} commands; {worst.group(0) if worst else '?'}, "
          f"{rss.group(0) if rss else '?'}; {len(records)} records; {how}, restarted, "
          + ("state read back the same" if same else "state differs"), flush=True)
    return p


def cluster_round(r, p):
    sent = traffic(p, args.secs)
    for n in range(len(NODES)):
        quiet(n)
    views = [view(n) for n in range(len(NODES))]
    compare("node 1's view against node 0's", views[0].splitlines(), views[1].splitlines())
    print(f"round {r}: {sent} commands; {len(views[0].splitlines())} lines seen; "
          + ("both nodes show the same" if views[0] == views[1] else "the nodes differ"),
          flush=True)
    return p


p = start()
for r in range(args.rounds):
    p = (cluster_round if args.cluster else one_node_round)(r, p)
for q in p:
    q.send_signal(signal.SIGTERM)
    q.wait(timeout=30)
report()
