"""Keyset pagination: opaque cursors over a list's sort keys, and the page query built from them.

A list sorted by, say, `[("pinned", -1), ("created_at", -1), ("_id", -1)]` pages by position,
never by offset: a cursor holds the sort-key values of the last item shown, and the next page
is what sorts after them (`after`). The last key must be unique (`_id`), which breaks ties on
the earlier ones, so a walk lists every document exactly once. Every document in the list must
hold every sort key, of the kind the caller names (a missing or null key sorts apart from the
rest and would never be reached).

A cursor is base64url (unpadded) of a compact JSON list: strings, integers and booleans as
themselves, a datetime as integer microseconds since the Unix epoch (UTC). It is opaque to
clients but not secret: a position only narrows a query the caller has already limited to what
the user may see. Decoding is strict: anything but the canonical encoding of values of the
expected kinds is `InvalidCursor` (400), never a 500.

Both engines keep datetimes to the millisecond. Cursors are made from values read back from the
database, so they hold exactly the stored value and the comparisons of `after` land on it.
The filters use only `$or`, `$lt`/`$gt` and equality, which both engines evaluate alike.
"""

import base64
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from clonechats.errors import AppError

MAX_LENGTH = 500
"""The longest cursor made or accepted. A route may cap its `cursor` parameter lower."""
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Integers a database can compare: BSON's 64-bit range."""
KINDS = (datetime, str, int, bool)

Order = Sequence[tuple[str, int]]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


class InvalidCursor(AppError):
    code = "invalid_cursor"
    status = 400
    message = "That page link is not valid. Start again from the first page."


def _plain(value: Any) -> bool | int | str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return (value - _EPOCH) // _MICROSECOND
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise ValueError(f"{value} is outside the 64-bit range a database compares")
        return value
    raise TypeError("a cursor holds datetimes, strings, integers and booleans, "
                    f"not {type(value).__name__}")


def encode_cursor(*values: Any) -> str:
    """The cursor of a position: the sort-key values of the last item shown, in sort order."""
    if not values:
        raise ValueError("a cursor holds at least one value")
    text = json.dumps([_plain(value) for value in values], separators=(",", ":"),
                      ensure_ascii=False)
    cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    if len(cursor) > MAX_LENGTH:
        raise ValueError(f"a cursor of these values would be longer than {MAX_LENGTH}")
    return cursor


def _refuse(text: str) -> Any:
    raise ValueError(f"{text} has no place in a cursor")


def _value(raw: Any, kind: type) -> Any:
    if kind is bool and type(raw) is bool:
        return raw
    if kind is str and type(raw) is str:
        return raw
    if kind is int and type(raw) is int and INT_MIN <= raw <= INT_MAX:
        return raw
    if kind is datetime and type(raw) is int:
        return _EPOCH + raw * _MICROSECOND  # OverflowError past year 1 or 9999
    raise ValueError("a value of the wrong kind")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """The values of `cursor`, one of each of `kinds` in turn (datetimes come back in UTC);
    InvalidCursor for anything `encode_cursor` would not have made from such values."""
    if not kinds or any(kind not in KINDS for kind in kinds):
        raise TypeError(f"kinds must be one or more of {', '.join(k.__name__ for k in KINDS)}")
    if (not isinstance(cursor, str) or len(cursor) > MAX_LENGTH
            or _ALPHABET.fullmatch(cursor) is None):
        raise InvalidCursor()
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        raw = json.loads(text, parse_float=_refuse, parse_constant=_refuse)
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError("a list of the wrong length")
        values = tuple(_value(item, kind) for item, kind in zip(raw, kinds, strict=True))
        canonical = encode_cursor(*values)
    except (ValueError, OverflowError):  # binascii, Unicode and JSON errors are ValueErrors
        raise InvalidCursor() from None
    if canonical != cursor:  # other spacing, escapes or padding bits: not a cursor we made
        raise InvalidCursor()
    return values


def after(order: Order, values: Sequence[Any]) -> dict[str, Any]:
    """The filter for what sorts after the position `values` in `order`: one branch per key,
    with the keys before it equal and it strictly beyond (`$lt` descending, `$gt` ascending)."""
    if not order or len(order) != len(values):
        raise ValueError("one value for each key of the order")
    branches = []
    for depth, ((field, direction), value) in enumerate(zip(order, values, strict=True)):
        if direction not in (1, -1):
            raise ValueError(f"direction of {field!r} must be 1 or -1")
        branch = {earlier: earlier_value
                  for (earlier, _), earlier_value in zip(order[:depth], values[:depth],
                                                         strict=True)}
        branch[field] = {"$lt" if direction == -1 else "$gt": value}
        branches.append(branch)
    return branches[0] if len(branches) == 1 else {"$or": branches}


def _both(query: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    if not query:
        return condition
    if any(key in query for key in condition):
        return {"$and": [query, condition]}
    return {**query, **condition}


async def fetch_page(collection: Any, query: dict[str, Any], *, order: Order, limit: int,
                     cursor: str | None, kinds: Sequence[type],
                     projection: dict[str, Any] | None = None,
                     ) -> tuple[list[Any], str | None]:
    """One page of `collection` matching `query` in `order`, after `cursor` (None or "" for
    the first page), and the cursor of the next page (None when this one is the last). The
    documents are as stored: the owner's repo gives them their type.
    `kinds` are the kinds of the sort keys, in order; a projection must keep every sort key."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(kinds) != len(order):
        raise ValueError("one kind for each key of the order")
    if cursor:
        query = _both(query, after(order, decode_cursor(cursor, kinds)))
    found = await (collection.find(query, projection).sort(list(order)).limit(limit + 1)
                   .to_list())
    items = found[:limit]
    if len(found) <= limit:
        return items, None
    last = items[-1]
    for (field, _), kind in zip(order, kinds, strict=True):
        value = last.get(field)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"{field!r} of {last.get('_id')!r} is not a {kind.__name__}")
    return items, encode_cursor(*(last[field] for field, _ in order))
