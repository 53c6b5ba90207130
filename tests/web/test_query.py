"""The shared `limit` and `cursor` parameters keep the caps the lists page by."""

from typing import Any, get_args

from clonechats.chat import service as chat
from clonechats.chat.scheduled import service as scheduled
from clonechats.media.clips import service as clips
from clonechats.personas import service as personas
from clonechats.personas.memory import service as memories
from clonechats.rooms import service as rooms
from clonechats.storage import pagination
from clonechats.web import query


def cap(alias: Any, name: str) -> int:
    [found] = [getattr(m, name) for m in get_args(alias)[1].metadata if hasattr(m, name)]
    return found


def test_the_limits_are_the_services_page_caps():
    assert cap(query.OptionalLimit100, "le") == scheduled.PAGE_MAX
    assert cap(query.OptionalLimit100, "le") == clips.PAGE_MAX == personas.PAGE_MAX
    assert cap(query.OptionalLimit100, "le") == rooms.PAGE_MAX
    assert cap(query.OptionalLimit200, "le") == chat.MESSAGE_PAGE_MAX
    assert cap(query.Limit100, "le") == memories.PAGE_MAX
    assert cap(query.Limit200, "le") == 200


def test_the_cursor_caps():
    assert cap(query.Cursor, "max_length") == pagination.MAX_LENGTH == 500
    assert [cap(c, "max_length") for c in (query.Cursor300, query.Cursor100, query.Cursor20)] == [
        300, 100, 20]
