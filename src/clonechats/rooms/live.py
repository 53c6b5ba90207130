"""Following a room live: the events after a viewer's last one, then new ones as they come.

Events live in the database (`room_events`), written by whichever process writes the room, so
a viewer on any web process reads the same sequence: everything after its `Last-Event-ID`
first (a late or reconnecting viewer catches up), then whatever is appended, looked for every
`rooms.viewer_poll_seconds`. The stream ends once the room is closed (ended, with its summary
and any verdict written) and every event has gone out, or when the room is deleted; an idle
viewer gets a keep-alive comment every `rooms.keepalive_seconds`. This module never imports
the web framework.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from clonechats.rooms import repo

if TYPE_CHECKING:
    from clonechats.context import Ctx


KEEPALIVE = None  # yielded instead of an event: time for a keep-alive comment


def parse_last_event_id(value: str | None) -> int:
    """The seq in a Last-Event-ID header (or `last_event_id` query); 0 when absent or bad."""
    if not value:
        return 0
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 12 else 0


async def follow(ctx: Ctx, room_id: str, *, after: int,
                 transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 ) -> AsyncIterator[dict[str, Any] | None]:
    """Events `{seq, name, data}` after seq `after`, live until the room is closed."""
    settings = ctx.settings.rooms
    last, quiet_since = after, time.monotonic()
    while True:
        found = await repo.events_after(ctx.db, room_id, after_seq=last)
        for event in found:
            last = event["seq"]
            item = {"seq": event["seq"], "name": event["name"], "data": event["data"]}
            yield transform(item) if transform else item
        if found:
            quiet_since = time.monotonic()
            continue
        room = await repo.get_room(ctx.db, room_id)
        if room is None:
            return
        if room.get("closed"):
            rest = await repo.events_after(ctx.db, room_id, after_seq=last)
            for event in rest:
                item = {"seq": event["seq"], "name": event["name"], "data": event["data"]}
                yield transform(item) if transform else item
            if not rest:
                return
            last = rest[-1]["seq"]
            continue
        if time.monotonic() - quiet_since >= settings.keepalive_seconds:
            quiet_since = time.monotonic()
            yield KEEPALIVE
        await asyncio.sleep(settings.viewer_poll_seconds)
