"""Which addresses a visitor-typed endpoint may reach under ``CHAT_VISITOR_ENDPOINTS=public``.

Pure functions, no I/O. ``visitor_http`` calls ``refusal`` on every address a
host name resolves to, at connect time, and connects only to an address it
checked: a name that resolves to a public address when typed and to 127.0.0.1
when connected (DNS rebinding) is still refused.

Host names are also read the way ``inet_aton`` reads them (decimal
``2130706433``, hex ``0x7f000001``, octal ``0177.0.0.1``, short ``127.1``),
because the system resolver turns those into addresses without DNS; naming
the spelling in the message tells a visitor why a "number" was refused.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598: carrier NAT, never public
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: an IPv4 address inside IPv6
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")
_OCTAL = re.compile(r"0[0-7]+")
_DECIMAL = re.compile(r"[1-9][0-9]*|0")
ALLOW_HINT = "The app's owner can allow any address by setting CHAT_VISITOR_ENDPOINTS=any."


def literal_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``inet_aton`` reads in ``host`` (``127.1``, ``0x7f000001``...), if any."""
    parts = host.rstrip(".").split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        if _HEX.fullmatch(part):
            numbers.append(int(part[2:] or "0", 16))
        elif _OCTAL.fullmatch(part):
            numbers.append(int(part, 8))
        elif _DECIMAL.fullmatch(part):
            numbers.append(int(part))
        else:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    return ipaddress.IPv4Address(value * 256 ** (4 - len(head)) + last)


def parse_address(host: str) -> IPAddress | None:
    """``host`` as an IP address in any spelling (``[::1]``, ``127.1``...), or None for a name."""
    bare = host.strip().strip("[]").split("%", 1)[0]  # an IPv6 zone id names no other host
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return literal_ipv4(bare)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _kind(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "a loopback address (this machine)"
    if ip.is_unspecified:
        return "the unspecified address (this machine)"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives at 169.254.169.254)"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10)"
    if ip.is_private:
        return "a private network address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address (None when it is); IPv4 inside IPv6 counts as IPv4."""
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        why = _kind(inner)
        return None if why is None else f"{why}, written as IPv6"
    return _kind(ip)


def refusal_message(host: str, ip: IPAddress, why: str) -> str:
    """The message a visitor sees for a refused endpoint: what, why, and who can allow it."""
    shown = host if host == str(ip) else f"{host} ({ip})"
    return (
        f"This app does not connect visitor-entered endpoints to {shown}: it is {why}. "
        f"Use a public address. {ALLOW_HINT}"
    )


def check_addresses(host: str, addresses: list[IPAddress]) -> str | None:
    """The refusal message when any address ``host`` resolved to is not public, else None."""
    literal = parse_address(host)
    for ip in [literal, *addresses] if literal is not None else addresses:
        why = refusal(ip)
        if why is not None:
            return refusal_message(host, ip, why)
    return None
