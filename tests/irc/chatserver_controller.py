"""irctest controller for chatserver's IRC front-end.

Loaded by tests/irc/irctest.sh as `--controller chatserver_controller` (the script puts
tests/irc on PYTHONPATH). Modelled on irctest/controllers/ngircd.py, with two differences
that SOURCE.md asks for: ports are picked by binding 127.0.0.1 (not every address), and
the server binds 127.0.0.1 only.

Environment:
  CHATSERVER_BIN  path of the binary (default: target/release/chatserver in the repo).
"""

import os
from pathlib import Path
import shutil
import socket
from typing import Optional, Set, Tuple, Type

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController

REPO = Path(__file__).resolve().parent.parent.parent

# irctest asserts the server name in RPL_MYINFO (004) params[1] and in message prefixes.
SERVER_NAME = "My.Little.Server"


def find_local_port() -> Tuple[str, int]:
    """An OS-chosen free port on 127.0.0.1 (irctest's own helper binds every address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[0], s.getsockname()[1]


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
    supported_sasl_mechanisms: Set[str] = set()  # no SASL
    supports_sts = False  # no TLS at all
    # No IRCv3 capabilities, no optional behaviours, no services.
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
        if run_services:
            raise NotImplementedByController("services")
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
        with self.open_file("credentials.txt") as fd:
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
            # who.py's OPER tests use ngIRCd's operator block (operuser/operpassword).
            "--irc-oper",
            "operuser:operpassword",
        ]
        if not password:
            command.append("--irc-guests")
        command.append("0")  # line-protocol port: OS-chosen, unused here

        if faketime and shutil.which("faketime"):
            command = ["faketime", "-f", faketime, *command]
            self.faketime_enabled = True

        self.proc = self.execute(command)


def get_irctest_controller_class() -> Type[ChatserverController]:
    return ChatserverController
