"""How long a pause before `<quit>` seed 002's real client needs (issue 21), measured with it.

  python3 -B tests/seed002/measure_pause.py target/seed002/client.py [PAUSE_MS ...]

A stand-in server greets the client, welcomes it, then sends a message, a closing notice right
after it (while the client is still clearing its screen for the message), a pause, `<quit>`,
and closes. Eight trials per pause: "clean" when the client stopped printing and exited once
its input ended (it saw `<quit>` alone), else it spins on the closed socket. With the client
fetched by run.sh on the machine of issue 21's benchmarks: 0 ms 0-1/8 clean, 5 ms 4/8, 10 ms and
more 8/8; chatserver waits 250 ms (connection::TAIL_PAUSE).
"""

import os
import socket
import subprocess
import sys
import threading
import time

from harness import WRAP


def trial(client, pause):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    p = subprocess.Popen([sys.executable, "-c", WRAP, str(port), client],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=dict(os.environ, TERM="dumb"))
    out = bytearray()

    def reader():
        while True:
            b = p.stdout.read1(65536)
            if not b:
                return
            out.extend(b)

    threading.Thread(target=reader, daemon=True).start()
    c, _ = srv.accept()
    c.sendall(b"[*] Welcome to the chat room!\n[*] Please enter your user name to get started.\n")
    p.stdin.write(b"\nMoo\n")
    p.stdin.flush()
    c.recv(1024)
    c.sendall(b"\nServer: Welcome Moo!\n\nChoose msg options.\nType <help> to see the list of options\n")
    time.sleep(0.3)
    c.sendall(b"\nyoda: hi")
    time.sleep(0.001)
    c.sendall(b"\n[*] You have been kicked by the server")
    time.sleep(pause)
    c.sendall(b"<quit>")
    c.close()
    time.sleep(0.5)
    before = len(out)
    time.sleep(0.5)
    grew = len(out) - before
    p.stdin.close()
    try:
        p.wait(2)
        clean = grew == 0
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        clean = False
    srv.close()
    return clean


def main():
    client = sys.argv[1]
    for ms in [float(a) for a in sys.argv[2:]] or [0, 5, 10, 20, 50, 100, 250]:
        clean = sum(trial(client, ms / 1000) for _ in range(8))
        print(f"pause {ms:.0f} ms: {clean}/8 clean", flush=True)


if __name__ == "__main__":
    main()
