"""Writing one generated text of a debate (a speaker's turn, the summary, the verdict), with
moderation before anything is shown.

The provider's tokens are held back until a sentence ends; then the whole text so far is
moderated (`chat.screening.check_output`) and, if it passes, that sentence goes out to the
viewers (`on_text`). A flagged text stops the stream: the turn is withheld (what was already
shown had passed moderation on its own, and viewers replace it with the moderator's notice).
The rest is moderated once more when the stream ends. A word limit cuts the stream at the
limit (`trimmed`). Every `rooms.renew_seconds` the job's lease on the room is renewed and the
room is read again: a stop made through any process ends the turn as "stopped", and a job that
lost its lease stops writing at once (`LeaseLost`), leaving the turn to the job that took it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clonechats.chat import screening
from clonechats.chat.generation import error_code_for
from clonechats.chat.settlement import delivered_tokens
from clonechats.providers.errors import ProviderError
from clonechats.providers.llm.base import (
    LLMProvider,
    ModelInfo,
    StreamEnd,
    TextDelta,
    Usage,
    close_stream,
)
from clonechats.providers.moderation.base import ModerationResult
from clonechats.rooms import repo
from clonechats.rooms.prompts import Prompt

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"[.!?…](?:[\"'”’)\]]*)\s|\n")
_WORD = re.compile(r"\S+")


class LeaseLost(Exception):
    """Another job holds the room now: this one must stop writing."""


@dataclass
class Written:
    text: str = ""  # everything the model wrote that is kept (cut at the word limit)
    shown_chars: int = 0  # how much of it went out to viewers
    status: str = repo.COMPLETE
    error_code: str | None = None
    # as the model reported it, else counted from the text kept
    usage: Usage = field(default_factory=lambda: Usage(prompt_tokens=0, completion_tokens=0))
    blocked: ModerationResult | None = None
    moderation: dict[str, Any] | None = None
    trimmed: bool = False


def cut_to_words(text: str, limit: int) -> tuple[str, bool]:
    words = list(_WORD.finditer(text))
    if len(words) <= limit:
        return text, False
    return text[:words[limit - 1].end()].rstrip(" ,;:—-") + "…", True


def last_sentence_end(text: str, start: int) -> int:
    end = start
    for match in _SENTENCE_END.finditer(text, start):
        end = match.end()
    return end


class Driver:
    """The job holding a room: renews its lease and reads the room's status while writing."""

    def __init__(self, ctx: Ctx, room_id: str, owner: str) -> None:
        self.ctx = ctx
        self.room_id = room_id
        self.owner = owner
        self._renewed_at = time.monotonic()

    def lease_until(self) -> Any:
        from datetime import timedelta

        return self.ctx.clock.now() + timedelta(seconds=self.ctx.settings.rooms.lease_seconds)

    async def renew(self, *, force: bool = False) -> dict[str, Any]:
        """The room as it is now (lease renewed); LeaseLost if another job holds it."""
        every = self.ctx.settings.rooms.renew_seconds
        if not force and every > 0 and time.monotonic() - self._renewed_at < every:
            return {}
        self._renewed_at = time.monotonic()
        room = await repo.renew_driver(self.ctx.db, self.room_id, owner=self.owner,
                                       until=self.lease_until())
        if room is None:
            raise LeaseLost()
        return room

    async def emit(self, name: str, data: dict[str, Any]) -> int:
        return await repo.append_event(self.ctx.db, self.room_id, name, data,
                                       now=self.ctx.clock.now())


async def _passes(ctx: Ctx, text: str, written: Written) -> bool:
    result = await screening.check_output(ctx, text)
    if result is None:
        return True  # the moderator is down: output fails open, as in chat (logged there)
    written.moderation = {"flagged": result.flagged, "reason": result.reason}
    if result.flagged:
        written.blocked = result
        return False
    return True


async def write(ctx: Ctx, driver: Driver, *, provider: LLMProvider, model: ModelInfo,
                prompt: Prompt, word_limit: int | None,
                on_text: Callable[[str], Awaitable[None]] | None,
                stoppable: bool = True) -> Written:
    """Stream, moderate and show one text. `stoppable`: a turn ends when the room stops; the
    closing summary and the verdict are written for a room that has ended already."""
    written = Written()
    reported: Usage | None = None
    parts: list[str] = []
    stream = provider.stream(model=model.id, messages=prompt.messages,
                             max_tokens=prompt.max_tokens,
                             temperature=ctx.settings.chat.temperature)
    try:
        async for item in stream:
            if isinstance(item, StreamEnd):
                reported = item.usage
                break
            if not isinstance(item, TextDelta) or not item.text:
                continue
            parts.append(item.text)
            text = "".join(parts)
            if word_limit:
                text, written.trimmed = cut_to_words(text, word_limit)
                if written.trimmed:
                    parts = [text]
                    break
            end = last_sentence_end(text, written.shown_chars)
            if end > written.shown_chars:
                if not await _passes(ctx, text[:end], written):
                    break
                if on_text is not None:
                    await on_text(text[written.shown_chars:end])
                written.shown_chars = end
            room = await driver.renew()
            if stoppable and room and room.get("status") != repo.RUNNING:
                written.status = repo.TURN_STOPPED
                break
    except ProviderError as exc:
        log.warning("debate turn failed", extra={"room_id": driver.room_id, "error": str(exc)})
        written.status, written.error_code = repo.TURN_FAILED, error_code_for(exc)
    finally:
        await close_stream(stream)
    written.text = "".join(parts)
    written.usage = reported or Usage(prompt_tokens=prompt.prompt_tokens,
                                      completion_tokens=await delivered_tokens(
                                          provider, model.id, written.text))
    rest = written.text[written.shown_chars:]
    if written.blocked is None and rest.strip() and await _passes(ctx, written.text, written):
        if on_text is not None:
            await on_text(rest)
        written.shown_chars = len(written.text)
    if written.blocked is not None:
        written.status = repo.BLOCKED
    elif not written.text.strip() and written.status == repo.COMPLETE:
        written.status, written.error_code = repo.TURN_FAILED, "empty_turn"
    return written
