#!/usr/bin/env python3
"""Mixed load for bench/soak.sh: worker threads that connect, log in (or register), message
online and offline users, broadcast, ask whoelse, then log out and reconnect (churn). Errors
(the server being killed and restarted) are counted and survived. Prints a summary line.
Registrations draw names from a pool of POOL (default 1000): once it is used up they are
refused as taken, so the durable state stops growing and a plateau of RSS can show."""
import random
import socket
import sys
import threading
import time

HOST, PORT, SECS, USERS, WORKERS = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
POOL = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
stop = time.time() + SECS
stats = {"sessions": 0, "commands": 0, "errors": 0, "registered": 0, "refused": 0}
lock = threading.Lock()


def bump(key, n=1):
    with lock:
        stats[key] += n


def drain(sock):
    sock.setblocking(False)
    try:
        while sock.recv(65536):
            pass
    except (BlockingIOError, InterruptedError):
        pass
    finally:
        sock.setblocking(True)


def session(rng, wid):
    with socket.create_connection((HOST, PORT), timeout=5) as s:
        if rng.random() < 0.05:
            name = f"r{rng.randrange(POOL)}"
            s.sendall(f"register {name} pw\n".encode())
            bump("registered")
        else:
            u = rng.randrange(USERS)
            s.sendall(f"login u{u} p{u}\n".encode())
        # Go on only once welcomed (the user may be online already): commands sent at the
        # `Username: ` prompt would be taken for usernames.
        got = b""
        while b"Welcome" not in got:
            chunk = s.recv(65536)
            if not chunk or b"Error" in chunk or b"Invalid" in chunk:
                bump("refused")
                return
            got += chunk
        for _ in range(rng.randrange(5, 40)):
            r = rng.random()
            if r < 0.6:
                to = rng.randrange(USERS)
                line = f"message u{to} {'x' * rng.randrange(1, 200)}\n"
            elif r < 0.7:
                line = "broadcast hello all\n"
            elif r < 0.9:
                line = "whoelse\n"
            else:
                line = "whoelsesince 60\n"
            s.sendall(line.encode())
            bump("commands")
            time.sleep(rng.random() * 0.02)
            drain(s)
        s.sendall(b"logout\n")
        drain(s)
    bump("sessions")


def worker(wid):
    rng = random.Random(wid)
    while time.time() < stop:
        try:
            session(rng, wid)
        except OSError:
            bump("errors")
            time.sleep(0.2)


threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(WORKERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("load " + " ".join(f"{k}={v}" for k, v in stats.items()), flush=True)
