"""Detectors for the privacy audit: raw IP addresses and card-like numbers in text and bytes.

IP addresses: a candidate must stand alone (no letter, digit, dot or colon glued to it, and
not a `product/1.2.3.4` version token such as a browser's `Chrome/120.0.0.0`) and must parse
with `ipaddress`; reserved, loopback and unspecified addresses, IPv6 candidates with fewer
than two groups (binary database pages contain such byte runs by chance), and the server's own
address (from `public_url`, which appears in every link we send) are not a client's. Hex
digests never match: they hold no dots, and their colons-free digit runs are glued to letters.

Card numbers: 13 to 19 digits, optionally grouped by spaces or dashes, starting with a major
network's first digit (2-6), standing alone, and passing the Luhn check. Timestamps in
milliseconds or microseconds start with 1 and are not mistaken for cards.
"""

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

_V4 = r"(?<![\w.:])(?<!\w/)(\d{1,3}(?:\.\d{1,3}){3})(?!\.?\d)(?!\w)"
_V6 = (r"(?<![\w:.])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}))"
       r"(?![\w:]|\.\d)")
_CARD = r"(?<![\w.-])([2-6](?:[ -]?\d){12,18})(?![\w]|[ -]\d)"

TEXT_PATTERNS = (re.compile(_V4), re.compile(_V6))
BYTES_PATTERNS = (re.compile(_V4.encode()), re.compile(_V6.encode()))
CARD_TEXT = re.compile(_CARD)
CARD_BYTES = re.compile(_CARD.encode())


def _is_client_ip(candidate: str, ignored: frozenset[str]) -> bool:
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if address.version == 6 and sum(1 for group in candidate.split(":") if group) < 2:
        return False  # "::d" and the like: what binary data (database pages) yields by chance
    return not (address.is_unspecified or address.is_reserved or address.is_loopback
                or address.compressed in ignored)


def find_ips(text: str, *, ignored: frozenset[str] = frozenset()) -> list[str]:
    return [m.group(1) for pattern in TEXT_PATTERNS for m in pattern.finditer(text)
            if _is_client_ip(m.group(1), ignored)]


def ip_positions(data: bytes, *, ignored: frozenset[str] = frozenset()) -> list[int]:
    """Offsets of the IP addresses in `data` (scanned in overlapping windows by the caller)."""
    return [match.start(1) for pattern in BYTES_PATTERNS for match in pattern.finditer(data)
            if _is_client_ip(match.group(1).decode("ascii"), ignored)]


def find_ips_in_bytes(data: bytes, *, ignored: frozenset[str] = frozenset()) -> list[str]:
    return [match.group(1).decode("ascii") for pattern in BYTES_PATTERNS
            for match in pattern.finditer(data)
            if _is_client_ip(match.group(1).decode("ascii"), ignored)]


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def find_cards(text: str) -> list[str]:
    return [m.group(1) for m in CARD_TEXT.finditer(text) if _card(m.group(1))]


def find_cards_in_bytes(data: bytes) -> list[str]:
    return [m.group(1).decode("ascii") for m in CARD_BYTES.finditer(data)
            if _card(m.group(1).decode("ascii"))]


def card_positions(data: bytes) -> list[int]:
    return [m.start(1) for m in CARD_BYTES.finditer(data) if _card(m.group(1).decode("ascii"))]


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, text) in a document: string values and keys, recursively."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            where = f"{path}.{key_text}" if path else key_text
            yield where + " (key)", key_text
            yield from strings(item, where)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


def server_addresses(public_url: str) -> frozenset[str]:
    """The server's own address, if `public_url` names it by IP (never a client's)."""
    from urllib.parse import urlsplit

    host = urlsplit(public_url).hostname or ""
    try:
        return frozenset({ipaddress.ip_address(host).compressed})
    except ValueError:
        return frozenset()
