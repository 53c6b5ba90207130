"""A scanner for card-like numbers in stored documents: 13-19 digits (spaces or dashes
allowed between them) that pass the Luhn check and begin like a payment card does (major
industry identifier 2-6, or 8 for RuPay's 81/82 ranges)."""

import re
from collections.abc import Iterator
from typing import Any

# Not inside a longer word: a run of digits within a hex id or digest is part of that id.
CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(?:\d[ -]?){12,18}\d(?![0-9A-Za-z])")
CARD_PREFIXES = ("2", "3", "4", "5", "6", "81", "82")


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_like(text: str) -> list[str]:
    found = []
    for match in CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and digits.startswith(CARD_PREFIXES) and luhn_ok(digits):
            found.append(digits)
    return found


def strings_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key, f"{path}.{key}#key")
            yield from strings_in(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings_in(item, f"{path}[{index}]")
    elif isinstance(value, str | int | bytes) and not isinstance(value, bool):
        yield path, value.decode(errors="replace") if isinstance(value, bytes) else str(value)


async def scan_database(db: Any) -> list[tuple[str, str, str]]:
    """(collection, field path, number) for every card-like number stored anywhere."""
    hits = []
    for name in sorted(await db.list_collection_names()):
        for document in await db[name].find({}).to_list():
            for path, text in strings_in(document):
                hits.extend((name, path, number) for number in card_like(text))
    return hits
