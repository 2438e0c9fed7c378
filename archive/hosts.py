"""Which names (``Host`` headers) the app answers to: a guard against DNS rebinding.

A page on another site can point a name of its own (rebind.attacker.example)
at 127.0.0.1 and then read an archive served on this machine as if it were
its own origin.  Its requests carry its own name in the ``Host`` header, so
an archive served on a loopback address answers only to the loopback names,
and to the ones given with ``--allowed-host``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def host_name(host: str) -> str:
    """The name in a ``Host`` header without its port, lower case: ``[::1]:8000`` → ``[::1]``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] or host
    if host.count(":") > 1:  # a bare IPv6 address, as someone may type it
        return f"[{host}]"
    return host.partition(":")[0]


def is_loopback(address: str) -> bool:
    """Whether a server bound to ``address`` can be reached from this machine only."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(address: str, extra: Iterable[str] = ()) -> list[str] | None:
    """The names a server bound to ``address`` answers to; ``None`` for any name.

    On a loopback address, the loopback names and ``extra``; on any other
    address, any name, unless ``extra`` names some (then those and the
    loopback names).
    """
    extra = [host_name(name) for name in extra if name.strip()]
    if not extra and not is_loopback(address):
        return None
    return list(dict.fromkeys([*LOOPBACK_NAMES, *extra]))
