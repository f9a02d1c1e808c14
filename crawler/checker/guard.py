"""Which URLs the checker may fetch: the SSRF guard, secure by default.

The checker fetches URLs a stranger types into a web form, so it must never be
turned against the machine it runs on or its network. ``guard`` refuses, unless
the caller passes ``allow_private=True``:

* schemes other than ``http`` and ``https``, URLs with userinfo (``user@host``),
  URLs without a host, ports outside 1-65535;
* IP literals in any notation ``ipaddress`` or ``socket.inet_aton`` accept
  (``127.1``, ``2130706433``, ``0x7f.1``, ``[::1]``, ``[::ffff:127.0.0.1]``)
  that are loopback, private, link-local, multicast, reserved, unspecified or
  otherwise not globally routable, including IPv4 addresses embedded in
  IPv6 (mapped, compatible, 6to4, Teredo, NAT64);
* a host whose last label is numeric (WHATWG "ends in a number") but is no
  valid IPv4 address: browsers and proxies disagree about such names;
* names that resolve to any such address: *every* resolved address is checked.

A name is resolved once and the connection is made to the address checked
(``Target.connect_host``; the caller sends the name in ``Host`` and as the TLS
server name), so a DNS answer that changes between check and connect (DNS
rebinding) cannot reach a refused address.

Through a proxy (``http_proxy``/``https_proxy`` from the environment) the
proxy connects, not us: IP literals and names that resolve locally are still
checked, but a name that does not resolve here is left to the proxy and
cannot be pinned. The proxy is then the trust boundary.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# WHATWG URL: a host whose last label is a decimal or 0x-hex number must be an IPv4 address.
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V4_COMPAT = ipaddress.IPv6Network("::/96")
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="checker-dns")


class Refused(ValueError):
    """The target may not be fetched (or the URL is malformed); the message says why, for people."""


class Unresolvable(OSError):
    """The host name does not resolve (and no proxy is there to resolve it)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A URL the guard let through, and where to connect for it.

    ``connect_host`` is the checked IP address to connect to (pinned), or the
    name itself when a proxy resolves it (``pinned`` is then False).
    """

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]
    connect_host: str
    pinned: bool

    @property
    def host_header(self) -> str:
        """``Host`` as the server expects it: the name, plus the port when it is not the default."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == _DEFAULT_PORTS[self.scheme] else f"{name}:{self.port}"


def why_not_public(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be fetched (``"loopback"``...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped
        if embedded is None and ip in _V4_COMPAT and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.sixtofour is not None:
            embedded = ip.sixtofour
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is not None:
            inner = why_not_public(embedded)
            if inner is not None:
                return f"{inner} (IPv4 {embedded} embedded in IPv6)"
        if ip.is_site_local:
            return "site-local"
    for label, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return label
    if not ip.is_global:
        return "not globally routable"
    return None


def ip_literal(host: str) -> IPAddress | None:
    """``host`` read as an IP address in any notation the resolver accepts, or None for a name.

    Raises ``Refused`` for a host that ends in a number but is no valid IPv4
    address (``1.2.3.999``): it is neither a name nor an address.
    """
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if "%" in text:  # an IPv6 zone id: never a public address
        try:
            return ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise Refused(f"{host!r} is not a valid host") from None
    last = text.rstrip(".").rsplit(".", 1)[-1]
    if not _NUMERIC_LABEL.match(last):
        return None
    try:
        packed = socket.inet_aton(text.rstrip("."))
    except OSError:
        raise Refused(f"{host!r} ends in a number but is not a valid IPv4 address") from None
    return ipaddress.IPv4Address(packed)


def _split(url: str) -> tuple[SplitResult, str, int]:
    if any(c in url for c in "\r\n\t\x00"):
        raise Refused("the URL contains control characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise Refused(f"only http and https URLs can be checked, not {scheme or 'a URL without scheme'!r}")
    if "@" in parts.netloc:
        raise Refused("URLs with a user name or password (user@host) are refused")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("the URL has no host")
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise Refused(f"port {port} is out of range")
    return parts, host, port


def resolve(host: str, port: int, timeout: float) -> tuple[str, ...]:
    """Every address ``host`` resolves to, within ``timeout`` seconds (getaddrinfo has no timeout)."""
    future = _RESOLVER.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.01))
    except FutureTimeout:
        raise Unresolvable(f"resolving {host} took longer than {timeout:g} s") from None
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"{host} does not resolve: {exc}") from None
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def guard(
    url: str,
    *,
    allow_private: bool = False,
    proxied: bool = False,
    timeout: float = 5.0,
) -> Target:
    """Check ``url`` and resolve its host; raise ``Refused`` (policy) or ``Unresolvable`` (DNS).

    ``proxied``: a proxy will make the connection, so a name that does not
    resolve locally is passed on to it unchecked (see the module docstring).
    """
    parts, host, port = _split(url)
    scheme = parts.scheme.lower()
    literal = ip_literal(host)
    if literal is not None:
        reason = why_not_public(literal)
        if reason is not None and not allow_private:
            raise Refused(f"{host} is a {reason} address; only public addresses are checked")
        address = str(literal)
        connect = f"[{address}]" if literal.version == 6 else address
        return Target(url, scheme, address, port, (address,), connect, True)
    try:
        addresses = resolve(host, port, timeout)
    except Unresolvable:
        if proxied:
            return Target(url, scheme, host.lower(), port, (), host.lower(), False)
        raise
    if not allow_private:
        for address in addresses:
            reason = why_not_public(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason is not None:
                raise Refused(f"{host} resolves to {address}, a {reason} address; only public addresses are checked")
    if proxied:
        # The proxy resolves the name again; we checked what we could.
        return Target(url, scheme, host.lower(), port, addresses, host.lower(), False)
    first = ipaddress.ip_address(addresses[0].split("%", 1)[0])
    connect = f"[{first}]" if first.version == 6 else str(first)
    return Target(url, scheme, host.lower(), port, addresses, connect, True)
