"""Opaque page cursors for lists ordered newest first by (time, id)."""

import base64
import binascii
from datetime import UTC, datetime, timedelta

from clonechats.errors import AppError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
MAX_CURSOR = 300


class InvalidCursor(AppError):
    code = "invalid_cursor"
    status = 400
    message = "That page link is not valid. Start again from the first page."


def encode(moment: datetime, item_id: str) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    micros = (moment - _EPOCH) // _MICROSECOND
    return base64.urlsafe_b64encode(f"{micros}|{item_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[datetime, str] | None:
    """The (time, id) a cursor points after; None for the first page."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR:
        raise InvalidCursor()
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        micros, item_id = text.split("|", 1)
        moment = _EPOCH + int(micros) * _MICROSECOND
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise InvalidCursor() from None
    if not item_id:
        raise InvalidCursor()
    return moment, item_id


def split_page(items: list[dict], limit: int,
               time_field: str) -> tuple[list[dict], str | None]:
    """`items` fetched with `limit + 1`: the page to show and the cursor of the next one."""
    if len(items) <= limit:
        return items, None
    shown = items[:limit]
    return shown, encode(shown[-1][time_field], shown[-1]["_id"])
