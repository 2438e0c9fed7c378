"""Which names (``Host`` headers) the app answers to, and the address it gives out.

A page on another site can point a name of its own (rebind.attacker.example)
at 127.0.0.1 and then read an archive served on this machine as if it were
its own origin.  Its requests carry its own name in the ``Host`` header, so
an archive served on a loopback address answers only to the loopback names,
and to the ones given with ``--allowed-host``.

The header is read strictly (RFC 9110's ``uri-host [ ":" port ]``): a DNS
name or an IPv4 address, or an IPv6 address in brackets, then at most a
numeric port.  Anything else (``[::1]evil``, ``localhost:evil``, a bare IPv6
address, spaces, percent signs) is no name at all and is refused, whichever
names are allowed: read loosely, such a header matched a loopback name.

Nothing the app gives out is built from the header either: feed ids and
absolute links start with the configured public address (``PUBLIC_URL``),
so a request naming another host cannot make the app name that host.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
# The address ``create_app`` gives out when nothing says otherwise: serve's default.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}")
_MAX_NAME = 253


@dataclass(frozen=True)
class Host:
    """A ``Host`` header as read: the name (lower case, an IPv6 address in brackets) and port."""

    name: str
    port: int | None = None


def parse_host(header: str) -> Host | None:
    """The name and port a ``Host`` header names; ``None`` when it is not one."""
    host = header.strip().lower()
    if host.startswith("["):
        address, bracket, rest = host[1:].partition("]")
        if not bracket or not _is_ipv6(address):
            return None
        name = f"[{ipaddress.IPv6Address(address).compressed}]"
    else:
        address = host.partition(":")[0]
        rest = host[len(address) :]
        if not _is_name(address):
            return None
        name = address
    if not rest:
        return Host(name)
    if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]) or int(rest[1:]) > 65535:
        return None
    return Host(name, int(rest[1:]))


def _is_ipv6(address: str) -> bool:
    if "%" in address:  # a zone id names an interface of the client's machine
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _is_name(name: str) -> bool:
    """A DNS name (letters, digits, hyphens; a trailing dot allowed) or an IPv4 address."""
    labels = name.removesuffix(".").split(".")
    if not name or len(name) > _MAX_NAME or not all(_LABEL.fullmatch(x) for x in labels):
        return False
    if labels[-1].isdigit():
        # Only a whole dotted quad: 127.1 and 2130706433 also reach 127.0.0.1 in some
        # resolvers, and a name cannot end in a number.
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return False
    return True


def host_name(host: str) -> str:
    """The name in a ``Host`` value without its port; ``ValueError`` if it names none."""
    found = parse_host(host)
    if found is None:
        raise ValueError(f"「{host[:100]}」はホスト名として読み取れません")
    return found.name


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
    loopback names).  A bare IPv6 address in ``extra`` is taken as one in brackets.
    """
    names = [host_name(_bracketed(name)) for name in extra if name.strip()]
    if not names and not is_loopback(address):
        return None
    return list(dict.fromkeys([*LOOPBACK_NAMES, *names]))


def _bracketed(name: str) -> str:
    name = name.strip()
    return f"[{name}]" if name.count(":") > 1 and not name.startswith("[") else name


def public_url(url: str) -> str:
    """The public address as links start with it (``https://archive.example``, no
    trailing slash); ``ValueError`` with the reason, in Japanese, if it cannot be one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError("http:// か https:// で始まるアドレスにしてください")
    if parts.username is not None or parts.password is not None:
        raise ValueError("ユーザー名やパスワードは入れられません")
    if parts.query or parts.fragment:
        raise ValueError("? や # 以降は入れられません")
    host = parse_host(parts.netloc)
    if host is None:
        raise ValueError(f"「{parts.netloc}」はホスト名として読み取れません")
    port = f":{host.port}" if host.port is not None else ""
    return f"{parts.scheme}://{host.name}{port}{parts.path.rstrip('/')}"


def default_public_url(address: str, port: int, extra: Iterable[str] = ()) -> str:
    """The public address a server bound to ``address`` gives out when none is configured.

    On a loopback address or a given one, that address (``http://127.0.0.1:8000``);
    on every address (``0.0.0.0``, ``::``), the first ``--allowed-host`` name,
    else this machine's name; over http (a TLS proxy in front needs ``--public-url``).
    """
    names = [host_name(_bracketed(name)) for name in extra if name.strip()]
    name = address.strip().lower().strip("[]")
    if not is_loopback(name) and _is_unspecified(name):
        name = names[0] if names else socket.gethostname().lower()
    elif ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}"


def _is_unspecified(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_unspecified
    except ValueError:
        return False


def public_host(url: str) -> str:
    """The name of a public address (``https://archive.example/`` → ``archive.example``)."""
    return host_name(urlsplit(url).netloc)
