"""Moods are worked out after the reply, in batches: `done` never waits for them, none is lost
when the backlog is full or the process stops, and a failing model stores none."""

import asyncio
from collections.abc import Sequence
from typing import Any

from clonechats.chat import repo
from clonechats.chat.mood_backlog import MoodBacklog
from tests.chat.conftest import parse_sse

BASE = "/api/v1/conversations"


class GatedEmbeddings:
    """The real embedding model behind a gate the test opens, counting the calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.open = asyncio.Event()
        self.calls: list[int] = []

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        await self.open.wait()
        self.calls.append(len(texts))
        return await self.inner.embed_queries(texts)


async def stored(ctx, chat: str) -> list[dict[str, Any]]:
    return await repo.visible_after(ctx.db, chat, after_seq=0)


async def test_moods_are_stored_for_both_messages_after_the_reply(ann, fake_llm, ctx):
    chat = (await ann.conversation((await ann.persona())["_id"]))["id"]
    fake_llm.enqueue(["I am so happy for you, that is wonderful news!"])
    await ann.say(chat, "I got the job, I'm thrilled!", stream="false")
    await ctx.mood_backlog.wait_idle()
    user, reply = await stored(ctx, chat)
    for message in (user, reply):
        assert message["mood"]["label"] in {"joyful", "grateful", "calm", "curious", "neutral"}
        assert -1 <= message["mood"]["valence"] <= 1 and "mood_pending" not in message
    assert user["mood"]["valence"] > 0


async def test_done_does_not_wait_for_the_moods_which_come_in_one_batch(ann, fake_llm, ctx):
    await ctx.mood_backlog.wait_idle()
    gated = GatedEmbeddings(ctx.embeddings)
    await gated.inner.embed_queries(["warm the model and the mood centroids"])
    ctx.embeddings = gated
    chat = (await ann.conversation((await ann.persona())["_id"]))["id"]
    fake_llm.enqueue(["What a lovely surprise!"])
    events = parse_sse((await ann.say(chat, "Guess what, I passed!")).text)
    assert events[-1][0] == "done"  # while the embedding model is still held shut
    user, reply = await stored(ctx, chat)
    assert user["mood"] is None and reply["mood"] is None
    assert user["mood_pending"] and reply["mood_pending"]

    gated.open.set()
    await ctx.mood_backlog.wait_idle()
    user, reply = await stored(ctx, chat)
    assert user["mood"] and reply["mood"]
    assert gated.calls[-1] == 2  # both messages in one call


async def test_messages_shed_by_a_full_backlog_are_picked_up_from_the_database(ann, fake_llm,
                                                                               ctx):
    await ctx.mood_backlog.wait_idle()
    full = MoodBacklog(ctx, limit=0)  # everything offered is shed
    await full.wait_idle()  # nothing pending yet
    usual, ctx.mood_backlog = ctx.mood_backlog, full
    try:
        chat = (await ann.conversation((await ann.persona())["_id"]))["id"]
        for text in ("Thank you so much!", "I'm furious about this!"):
            await ann.say(chat, text, stream="false")
        await full.wait_idle()
        moods = [m["mood"] for m in await stored(ctx, chat)]
        assert all(moods) and len(moods) == 4
    finally:
        ctx.mood_backlog = usual
        await full.close()


async def test_moods_a_stopped_process_left_are_worked_out_on_start(ann, fake_llm, ctx):
    chat = (await ann.conversation((await ann.persona())["_id"]))["id"]
    await ann.say(chat, "I'm so happy today!", stream="false")
    await ctx.mood_backlog.wait_idle()
    for message in await stored(ctx, chat):  # as if the process stopped before their moods
        await ctx.db.messages.update_one({"_id": message["_id"]}, {"$set": {
            "mood": None, "mood_pending": True}})
    started = MoodBacklog(ctx, limit=10)
    await started.wait_idle()
    assert all(m["mood"] and "mood_pending" not in m for m in await stored(ctx, chat))
    await started.close()


async def test_a_failing_mood_model_stores_no_mood_and_leaves_nothing_pending(ann, fake_llm,
                                                                             ctx):
    await ctx.mood_backlog.wait_idle()
    ctx.embeddings = None
    chat = (await ann.conversation((await ann.persona())["_id"]))["id"]
    response = await ann.say(chat, "Hello", stream="false")
    assert response.status_code == 201
    await ctx.mood_backlog.wait_idle()
    for message in await stored(ctx, chat):
        assert message["mood"] is None and "mood_pending" not in message


async def test_with_moods_off_nothing_is_pending(ann, fake_llm, ctx):
    await ctx.mood_backlog.wait_idle()
    backlog, ctx.mood_backlog = ctx.mood_backlog, None
    try:
        chat = (await ann.conversation((await ann.persona())["_id"]))["id"]
        await ann.say(chat, "Hello", stream="false")
        for message in await stored(ctx, chat):
            assert message["mood"] is None and "mood_pending" not in message
    finally:
        ctx.mood_backlog = backlog
