"""irctest controller for chatserver's IRC front-end.

Loaded by tests/irc/irctest.sh as `--controller chatserver_controller` (the script puts
tests/irc on PYTHONPATH). Modelled on irctest/controllers/ngircd.py, with two differences
that SOURCE.md asks for: ports are picked by binding 127.0.0.1 (not every address), and
the server binds 127.0.0.1 only.

Services (issue 22): chatserver has no separate services; its accounts are the ones SASL,
PASS and the line protocol log in to. `registerUser` registers one over the line protocol
(`register <user> <password>` at its username prompt), so services-marked tests run too.

Every server started is stopped: a test that skips in its setUp (after the server started)
never reaches tearDown, so each `run` first stops servers earlier tests left, and the
process stops the rest when it exits.

Environment:
  CHATSERVER_BIN  path of the binary (default: target/release/chatserver in the repo).
"""

import atexit
import os
from pathlib import Path
import shutil
import socket
import time
from typing import List, Optional, Set, Tuple, Type

from irctest.basecontrollers import (
    BaseServerController,
    DirectoryBasedController,
    ProcessStopped,
)
from irctest.runner import NotImplementedByController

REPO = Path(__file__).resolve().parent.parent.parent

# irctest asserts the server name in RPL_MYINFO (004) params[1] and in message prefixes.
SERVER_NAME = "My.Little.Server"


def find_local_port() -> Tuple[str, int]:
    """An OS-chosen free port on 127.0.0.1 (irctest's own helper binds every address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[0], s.getsockname()[1]


# Servers started and not yet stopped, oldest first (see the module docstring).
_LIVE: List["ChatserverController"] = []


def _stop_all() -> None:
    while _LIVE:
        controller = _LIVE.pop()
        if controller.proc is not None:
            controller.kill_proc()
            controller.proc = None


atexit.register(_stop_all)


class LocalPortsMixin:
    """Ports for irctest's clients on 127.0.0.1, booked in irctest's shared port list."""

    def get_hostname_and_port(self) -> Tuple[str, int]:
        with self._used_ports() as used_ports:  # type: ignore[attr-defined]
            while True:
                hostname, port = find_local_port()
                if (hostname, port) not in used_ports:
                    break
            used_ports.add((hostname, port))
            self._own_ports.add((hostname, port))  # type: ignore[attr-defined]
        return (hostname, port)


class ChatserverController(
    LocalPortsMixin, BaseServerController, DirectoryBasedController
):
    software_name = "chatserver"
    supported_sasl_mechanisms: Set[str] = {"PLAIN", "SCRAM-SHA-256"}
    supports_sts = False  # irctest's STS tests need a TLS port it configures; not offered
    line_port: Optional[int] = None
    log_path: Optional[Path] = None
    # isupport.py's testValues checks that 005 carries these (our name rules, see
    # src/irc/message.rs); without any, that test would skip.
    isupport = {"CASEMAPPING": "ascii", "CHANTYPES": "#", "NICKLEN": "32"}

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: Optional[str],
        ssl: bool,
        run_services: bool,
        faketime: Optional[str],
        websocket_hostname: Optional[str],
        websocket_port: Optional[int],
    ) -> None:
        if websocket_hostname is not None or websocket_port is not None:
            raise NotImplementedByController("Websocket")
        if ssl:
            raise NotImplementedByController("TLS")
        # A server an earlier test left (it skipped in setUp, so no tearDown) stops now.
        _stop_all()
        assert self.proc is None
        self.port = port
        self.hostname = hostname
        self.create_config()
        assert self.directory

        # irctest's "server password" (PasswordedConnectionRegistrationTestCase: PASS
        # testpassword, NICK foo) maps onto chatserver accounts: the account `foo` has
        # that password and guests are off, so NICK+USER without PASS is refused and a
        # wrong PASS gets 464 + ERROR. Without a password: an empty account list and
        # guest sessions.
        # who.py, kill.py, lusers.py and info.py use ngIRCd's operator block
        # (operuser/operpassword): here an account that --operators names.
        with self.open_file("credentials.txt") as fd:
            fd.write("operuser operpassword\n")
            if password:
                fd.write("foo {}\n".format(password))
        (self.directory / "data").mkdir(exist_ok=True)

        binary = os.environ.get(
            "CHATSERVER_BIN", str(REPO / "target" / "release" / "chatserver")
        )
        command = [
            binary,
            "--bind",
            "127.0.0.1",
            "--data-dir",
            str(self.directory / "data"),
            "--credentials",
            str(self.directory / "credentials.txt"),
            "--irc-port",
            str(port),
            "--irc-server-name",
            SERVER_NAME,
            # links.py reads it from 364, as ngIRCd's controller configures it.
            "--server-description",
            "test server",
            "--operators",
            "operuser",
        ]
        if not password:
            command.append("--irc-guests")
        if faketime and shutil.which("faketime"):
            command = ["faketime", "-f", faketime, *command]
            self.faketime_enabled = True
        self._command = command
        self._line_port_tries = 0
        self._start()
        _LIVE.append(self)

    def _start(self) -> None:
        """Start the server on irctest's IRC port and a line port of our own."""
        assert self.directory
        # The line-protocol port: registerUser creates accounts through it. Booked in
        # irctest's port list like the IRC port, so the two can never be the same port.
        _, self.line_port = self.get_hostname_and_port()
        # The server's log goes to a file, not to /dev/null as irctest's `execute` would
        # send it: when the server stops at start-up (a CI run once saw "process returned
        # 1" and nothing else), check_is_alive quotes the reason.
        self.log_path = self.directory / "server.log"
        with open(self.log_path, "wb") as log:
            self.proc = self.execute(
                [*self._command, str(self.line_port)], stdout=log, stderr=log
            )

    def check_is_alive(self) -> None:
        """irctest's check, with the end of the server's log when it has stopped.

        The line port is probed free and then bound by the server, so another socket can
        take it in between; that port is ours, not irctest's, so the server starts again
        on a new one (twice at most). Any other stop is a failure, with its reason."""
        try:
            super().check_is_alive()
        except ProcessStopped as stopped:
            tail = ""
            if self.log_path is not None and self.log_path.exists():
                tail = self.log_path.read_text(errors="replace")[-2000:]
            taken = "cannot listen on 127.0.0.1:{}:".format(self.line_port)
            if taken in tail and self._line_port_tries < 2:
                self._line_port_tries += 1
                self._start()
                return
            raise ProcessStopped("{}; the server's log ends:\n{}".format(stopped, tail))

    def kill(self) -> None:
        if self in _LIVE:
            _LIVE.remove(self)
        # Under faketime the process irctest waits for is the wrapper, and the server (its
        # child) may still be removing its own files while irctest's rmtree walks the
        # directory (a FileNotFoundError for admin.sock failed a CI run). Remove the
        # directory here instead, again until the server is gone and nothing is left.
        directory, self.directory = self.directory, None
        super().kill()
        if directory:
            deadline = time.time() + 10
            while True:
                shutil.rmtree(directory, ignore_errors=True)
                if not os.path.exists(directory) or time.time() > deadline:
                    break
                time.sleep(0.1)

    def wait_for_services(self) -> None:
        """Accounts are built in: there is nothing else to wait for."""

    def registerUser(self, case, username: str, password: Optional[str] = None) -> None:
        """Create the account `username` over the line protocol, as a new user would."""
        assert self.line_port is not None
        self.wait_for_port()
        deadline = time.time() + 10
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", self.line_port), timeout=5)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        with sock:
            sock.sendall(
                "register {} {}\n".format(username, password or "password").encode()
            )
            seen = b""
            while b"Welcome" not in seen:
                chunk = sock.recv(4096)
                if not chunk:
                    raise AssertionError(
                        "registering {} failed: {!r}".format(username, seen)
                    )
                seen += chunk
            sock.sendall(b"logout\n")


def get_irctest_controller_class() -> Type[ChatserverController]:
    return ChatserverController
