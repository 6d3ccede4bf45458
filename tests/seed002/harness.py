"""Drive seed 002's real client.py against chatserver (issue 21); run by tests/seed002/run.sh.

The client recognizes the server's `<quit>` only when one recv() returns exactly that; else it
reprints its history and spawns `clear` in a tight loop forever on the closed socket. Each
scenario makes the closing notice arrive while the client is still busy with a message just
before it (an announcement), which is when the notice and `<quit>` would share a read, then:
  - the client must stop printing (no spin), and
  - once its stdin ends it must exit: its receive thread only ends on a bare `<quit>`.
Scenarios: the console's `kick`, the console's `quit`, SIGTERM, and a taken name (`yoda` gets
`yoda2`, told `[*] Name taken, you are yoda2`, and can talk).
"""

import argparse
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Runs client.py as it is; only its hard-coded ('localhost', 33000) is mapped to the port of the
# server under test (tests never use fixed ports).
WRAP = """
import runpy, socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
connect = socket.socket.connect
def mapped(self, addr):
    if tuple(addr) == ('localhost', 33000):
        addr = ('127.0.0.1', port)
    return connect(self, addr)
socket.socket.connect = mapped
sys.argv = [path]
runpy.run_path(path, run_name='__main__')
"""


class Server:
    def __init__(self, binary, workdir):
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(workdir, "credentials.txt"), "w") as f:
            f.write("yoda wise\nhans solo\n")
        self.p = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--json-port", "0", "--no-admin-socket", "0"],
            cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(os.path.join(workdir, "server.log"), "w"))
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = int(self.line().rsplit(":", 1)[1])
        self.json = int(self.line().rsplit(":", 1)[1])

    def _read(self):
        for raw in self.p.stdout:
            self.lines.put(raw.decode().rstrip("\n"))

    def line(self, wait=5):
        return self.lines.get(timeout=wait)

    def console(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def login(self, user, password):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(f"login {user} {password}\n".encode())
        expect(s, b"Welcome to the greatest messaging application ever!\n")
        return s

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def expect(sock, want, wait=5):
    sock.settimeout(wait)
    got = b""
    while want not in got:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed; got {got!r}, wanted {want!r}")
        got += chunk
    return got


class Client:
    def __init__(self, path, port, name):
        env = dict(os.environ, TERM="dumb")
        self.p = subprocess.Popen([sys.executable, "-c", WRAP, str(port), path],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env)
        self.out = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        # "[*] Press enter to continue...", then the user name.
        self.type("\n" + name + "\n")

    def _read(self):
        while True:
            chunk = self.p.stdout.read1(65536)
            if not chunk:
                return
            with self.lock:
                self.out.extend(chunk)

    def type(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def text(self):
        with self.lock:
            return self.out.decode(errors="replace")

    def wait_for(self, want, wait=5):
        deadline = time.time() + wait
        while want not in self.text():
            if time.time() > deadline:
                raise AssertionError(f"client never printed {want!r}; it printed {self.text()[-500:]!r}")
            time.sleep(0.02)

    def stopped_cleanly(self):
        """No spinning, and the process ends once its input does."""
        time.sleep(1.0)
        before = len(self.text())
        time.sleep(1.0)
        grew = len(self.text()) - before
        self.p.stdin.close()
        try:
            self.p.wait(3)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"client still running (spinning on the closed socket; "
                                 f"{grew} bytes printed in the last second)")
        if grew:
            raise AssertionError(f"client printed {grew} bytes after the close")


def scenario(name, binary, client_path, run):
    work = tempfile.mkdtemp(prefix="chatserver-seed002-")
    server = Server(binary, work)
    try:
        run(server, client_path)
        print(f"seed002: {name}: ok")
        return True
    except AssertionError as e:
        print(f"seed002: {name}: FAILED: {e}")
        print(open(os.path.join(work, "server.log")).read()[-2000:])
        return False
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def joined(server, client_path, name="Moo"):
    c = Client(client_path, server.json, name)
    c.wait_for(f"Server: Welcome {name}!")
    return c


def kick(server, client_path):
    c = joined(server, client_path)
    server.console("announce one moment\nkick Moo\n")
    c.wait_for("You have been kicked by the server")
    c.stopped_cleanly()


def console_quit(server, client_path):
    c = joined(server, client_path)
    server.console("announce closing now\nquit\n")
    c.wait_for("Server shutting down")
    c.stopped_cleanly()
    if server.p.wait(5) != 0:
        raise AssertionError("the server did not exit with status 0")


def sigterm(server, client_path):
    c = joined(server, client_path)
    server.console("announce closing now\n")
    server.p.send_signal(signal.SIGTERM)
    c.wait_for("Server shutting down")
    c.stopped_cleanly()
    if server.p.wait(5) != 0:
        raise AssertionError("the server did not exit with status 0")


def name_taken(server, client_path):
    yoda = server.login("yoda", "wise")
    c = Client(client_path, server.json, "yoda")
    c.wait_for("[*] Name taken, you are yoda2")
    c.wait_for("Server: Welcome yoda2!")
    expect(yoda, b"yoda2 logged in\n")
    c.type("<announce>\nhello from the seed client\n")
    expect(yoda, b"yoda2: hello from the seed client\n")
    server.console("kick yoda2\n")
    c.wait_for("You have been kicked by the server")
    c.stopped_cleanly()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--client", required=True)
    args = ap.parse_args()
    results = [scenario(n, args.server, args.client, f) for n, f in [
        ("kick", kick), ("console quit", console_quit), ("SIGTERM", sigterm),
        ("taken name", name_taken)]]
    print(f"seed002: {sum(results)} of {len(results)} scenarios passed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
