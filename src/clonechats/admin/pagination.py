"""Cursors for admin lists ordered newest first by (time, id): opaque to clients, checked here."""

import re
from datetime import UTC, datetime, timedelta

from clonechats.errors import AppError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR = re.compile(r"(?P<micros>[0-9]{1,18})\.(?P<id>[A-Za-z0-9_-]{1,64})")


class InvalidCursor(AppError):
    code = "invalid_cursor"
    status = 400
    message = "That page link is not valid. Start again from the first page."


def encode(moment: datetime, item_id: str) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{(moment - _EPOCH) // _MICROSECOND}.{item_id}"


def decode(cursor: str | None) -> tuple[datetime, str] | None:
    """The (time, id) a cursor points after; None for the first page."""
    if not cursor:
        return None
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise InvalidCursor()
    try:
        moment = _EPOCH + int(match["micros"]) * _MICROSECOND
    except OverflowError:
        raise InvalidCursor() from None
    return moment, match["id"]
