"""irctest's ngIRCd controller, fixed for Debian's ngIRCd 26.1 and for 127.0.0.1.

irctest/controllers/ngircd.py writes `Bind = host`, which 26.1 ignores ("Unknown variable";
its key is `Listen =`) and so listens on 0.0.0.0 and ::; it also picks ports by binding every
address. This subclass rewrites the key and picks ports on 127.0.0.1 only. Used by `tests/irc/irctest.sh --ngircd` as the baseline.
"""

from typing import Type

from irctest.controllers import ngircd

from chatserver_controller import LocalPortsMixin

ngircd.TEMPLATE_CONFIG = ngircd.TEMPLATE_CONFIG.replace(
    "Bind = {hostname}", "Listen = {hostname}"
)


class LocalNgircdController(LocalPortsMixin, ngircd.NgircdController):
    pass


def get_irctest_controller_class() -> Type[LocalNgircdController]:
    return LocalNgircdController
