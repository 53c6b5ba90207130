"""A reply spoken while it is written: sentences cut as tokens arrive, each synthesised while
the next one streams.

`spoken_batches(ctx, generation, persona=)` wraps a reply's event batches (`Generation.
event_batches`): `token` events pass through at once; every finished sentence
(`voice.sentences.SentenceSplitter`) goes to one speaker task that checks it against the
content rules, speaks it (`voice.synthesis.speak_text`, a clip of the reply with its `seq`) and
sends an `audio` event `{"clip_id", "url", "seq", "text"}` as soon as it is stored. The reply's
last event (`done` or `error`) is held until the remaining sentences are spoken; `done` then
also carries `audio_credits_charged` and the balance after them.

If speech fails (a provider down, credits run out, a sentence flagged), one `audio_error` event
`{"code", "message"}` says so and the text reply goes on without audio; nothing is charged for
audio that was not made. A reply that ends blocked deletes the clips already made for it. If
the client goes away, the speaker task is cancelled with the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from clonechats.billing.ledger import balance
from clonechats.chat import repo as chat_repo
from clonechats.chat import screening
from clonechats.errors import AppError
from clonechats.media.clips import service as clips
from clonechats.personas import repo as persona_repo
from clonechats.personas.repo import Persona
from clonechats.voice.sentences import SentenceSplitter
from clonechats.voice.synthesis import speak_text

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

Batch = list[tuple[str, dict[str, Any]]]
FINAL = ("done", "error")
UNAVAILABLE = "Audio is unavailable for the rest of this reply; the text goes on."


def _audio_error(exc: BaseException) -> tuple[str, dict[str, Any]]:
    if isinstance(exc, AppError):
        code, message = exc.code, exc.message
        if exc.code == "insufficient_credits":
            message = "You ran out of credits for audio; the rest of this reply is text only."
    else:
        code, message = "speech_unavailable", UNAVAILABLE
    return "audio_error", {"code": code, "message": message}


class SpokenReply:
    def __init__(self, ctx: Ctx, generation: Any, *, persona: Persona | None) -> None:
        self.ctx = ctx
        self.generation = generation
        self.persona = persona
        self.owner_id = generation.plan.owner_id
        self.message_id = generation.message_id
        self.conversation_id = generation.plan.conversation_id
        self._out: asyncio.Queue[Batch | None] = asyncio.Queue()
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue()
        self.credits = 0
        self.failed = False

    async def _speak_all(self) -> None:
        seq = 0
        while (sentence := await self._sentences.get()) is not None:
            if self.failed:
                continue
            try:
                verdict = await screening.check_output(self.ctx, sentence)
                if verdict is not None and verdict.flagged:
                    raise AppError("The rest of this reply is not spoken: it breaks the "
                                   "content rules.", code="reply_blocked", status=422)
                spoken = await speak_text(self.ctx, owner_id=self.owner_id,
                                          persona=self.persona, text=sentence,
                                          conversation_id=self.conversation_id,
                                          message_id=self.message_id, seq=seq)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not isinstance(exc, AppError):
                    log.exception("speaking a sentence failed",
                                  extra={"message_id": self.message_id})
                self.failed = True
                await self._out.put([_audio_error(exc)])
                continue
            clip = spoken.clip
            self.credits += clip["credits_charged"]
            await self._out.put([("audio", {"clip_id": clip["_id"],
                                            "url": f"/media/{clip['media_id']}",
                                            "seq": seq, "text": clip["text"],
                                            "duration_s": clip["duration_s"]})])
            seq += 1

    async def _read(self, speaker: asyncio.Task[None]) -> None:
        splitter = SentenceSplitter()
        final: tuple[str, dict[str, Any]] | None = None
        async for batch in self.generation.event_batches():
            passing = []
            for name, data in batch:
                if name in FINAL:
                    final = (name, data)
                    continue
                passing.append((name, data))
                if name == "token":
                    for sentence in splitter.feed(data.get("text", "")):
                        self._sentences.put_nowait(sentence)
            if passing:
                await self._out.put(passing)
        if final is not None and final[0] == "done":
            for sentence in splitter.flush():
                self._sentences.put_nowait(sentence)
        else:
            self.failed = True  # the reply did not finish: nothing more is spoken
        self._sentences.put_nowait(None)
        await speaker
        if final is not None:
            await self._out.put([await self._finish(final)])
        await self._out.put(None)

    async def _finish(self, final: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        name, data = final
        if name == "done":
            data = {**data, "audio_credits_charged": self.credits,
                    "balance": await balance(self.ctx.db, self.owner_id)}
        elif data.get("code") == "reply_blocked":
            await clips.delete_for_message(self.ctx, owner_id=self.owner_id,
                                           message_id=self.message_id)
        return name, data

    async def batches(self) -> AsyncIterator[Batch]:
        speaker = asyncio.create_task(self._speak_all(), name=f"speak-{self.message_id}")
        reader = asyncio.create_task(self._read(speaker), name=f"spoken-{self.message_id}")
        try:
            while (batch := await self._out.get()) is not None:
                yield batch
            await reader
        finally:
            for task in (reader, speaker):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task


async def spoken_batches(ctx: Ctx, generation: Any) -> AsyncIterator[Batch]:
    """The reply's events with `audio` events merged in (see the module docstring)."""
    conversation = await chat_repo.get_conversation(ctx.db, generation.plan.conversation_id)
    persona = None
    if conversation is not None:
        persona = await persona_repo.get(ctx.db, conversation["persona_id"])
    async for batch in SpokenReply(ctx, generation, persona=persona).batches():
        yield batch
