"""Moods worked out after a reply, in batches, off its path.

A message that should get a mood is stored with `mood_pending: true` in the write that stores
it anyway (the user message when it is sent, the reply when it settles), and handed to this
process's backlog once the reply has settled. One background task embeds up to `BATCH` waiting
texts in one call (`mood.classify_moods`) and stores each mood, clearing `mood_pending`. So the
reply's `done` never waits for an embedding, and two messages cost one call.

Moods are the first work to give way under load: while the process writes more than
`BUSY_REPLIES` replies at once, the backlog waits. It holds at most `chat.mood_backlog_max`
messages; past that, new ones are shed: they stay pending in the database, and once the backlog
is empty it reads pending messages back, oldest first, until none is left. It also does that
when it first starts, which picks up the moods a stopped process left undone. A mood the model
cannot work out is stored as none; nothing is retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from clonechats.chat import in_progress, mood, repo

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

BATCH = 16
BUSY_REPLIES = 8  # while this process writes more replies than this, moods wait
BUSY_WAIT_SECONDS = 0.5


class MoodBacklog:
    def __init__(self, ctx: Ctx, *, limit: int) -> None:
        self._ctx = ctx
        self._limit = limit
        self._waiting: deque[tuple[str, str]] = deque()
        self._look_in_database = True  # on start: what a stopped process left
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def offer(self, items: list[tuple[str, str]]) -> None:
        """Queue (message id, text) pairs already stored as pending; shed them past the cap."""
        if not items:
            return
        if len(self._waiting) + len(items) > self._limit:
            self._look_in_database = True  # shed: they wait in the database
        else:
            self._waiting.extend(items)
        self._start()

    async def wait_idle(self) -> None:
        """Until nothing is waiting, here or (once looked at) in the database."""
        if self._task is None:
            self._start()
        await self._idle.wait()

    def _start(self) -> None:
        if self._closing:
            return
        self._idle.clear()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mood-backlog")

    async def close(self) -> None:
        """Stop the task. It is cancelled until it has ended: `asyncio.wait_for` (under the
        database calls) can swallow a cancellation that lands as its call completes."""
        self._closing = True
        task, self._task = self._task, None
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=1.0)
        if task is not None and not task.cancelled():
            with contextlib.suppress(Exception):
                task.result()

    async def _next_batch(self) -> list[tuple[str, str]]:
        batch = [self._waiting.popleft() for _ in range(min(BATCH, len(self._waiting)))]
        if batch or not self._look_in_database:
            return batch
        self._look_in_database = False
        found = await repo.pending_moods(self._ctx.db, limit=BATCH)
        self._look_in_database = len(found) == BATCH  # more may be waiting
        return [(m["_id"], m.get("text") or "") for m in found]

    async def _run(self) -> None:
        while not self._closing:
            self._wake.clear()
            # Shed first: replies need the cores. A poll, as the count lives outside any loop.
            while in_progress.count() > BUSY_REPLIES and not self._closing:  # noqa: ASYNC110
                await asyncio.sleep(BUSY_WAIT_SECONDS)
            try:
                batch = await self._next_batch()
                if batch:
                    await self._store(batch)
                    continue
            except Exception:
                log.warning("mood backlog step failed", exc_info=True)
                self._look_in_database = False  # until more is offered; never spin on a fault
            if not self._waiting:
                self._idle.set()
                await self._wake.wait()

    async def _store(self, batch: list[tuple[str, str]]) -> None:
        try:
            moods = await mood.classify_moods(self._ctx, [text for _, text in batch])
            found: list[dict[str, Any] | None] = [m.as_document() for m in moods]
        except Exception:
            log.warning("mood classification failed", exc_info=True)
            found = [None] * len(batch)
        for (message_id, _), document in zip(batch, found, strict=True):
            await repo.set_mood(self._ctx.db, message_id, document)
