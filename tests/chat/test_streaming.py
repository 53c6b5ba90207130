"""Sending a message: the SSE events, the JSON form, what is stored and what is charged."""

import asyncio

from clonechats.billing import ledger
from clonechats.providers.llm.base import Usage
from tests.chat.conftest import MAX_REPLY, parse_sse


async def messages_of(member, conversation_id: str) -> list[dict]:
    response = await member.client.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_stream_sends_tokens_then_done_as_the_contract_says(ann, fake_llm, ctx):
    persona = await ann.persona(name="Ada")
    conversation = await ann.conversation(persona["_id"])
    fake_llm.enqueue(["Hello", " there", "!"], usage=Usage(prompt_tokens=120,
                                                            completion_tokens=3))

    response = await ann.say(conversation["id"], "Hi Ada")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    events = parse_sse(response.text)
    assert events[:3] == [("token", {"text": "Hello"}), ("token", {"text": " there"}),
                          ("token", {"text": "!"})]
    name, done = events[3]
    assert name == "done" and len(events) == 4
    assert set(done) == {"message_id", "usage", "credits_charged", "balance"}
    assert done["usage"] == {"prompt_tokens": 120, "completion_tokens": 3}
    assert done["credits_charged"] == 3
    assert done["balance"] == 97 == await ann.balance()
    assert response.headers["x-message-id"] == done["message_id"]

    stored = await messages_of(ann, conversation["id"])
    assert [(m["role"], m["text"], m["status"]) for m in stored] == [
        ("user", "Hi Ada", "complete"), ("assistant", "Hello there!", "complete")]
    reply = stored[1]
    assert reply["id"] == done["message_id"]
    assert reply["html"] == "<p>Hello there!</p>\n"
    assert reply["credits_charged"] == 3 and reply["model"] == "fake:echo"
    assert reply["usage"] == {"prompt_tokens": 120, "completion_tokens": 3}


async def test_ledger_holds_a_reservation_and_its_release(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["One", " two"])
    done = parse_sse((await ann.say(conversation["id"], "Count")).text)[-1][1]

    reserve = await ledger.get_entry(ctx.db, f"reserve:{done['message_id']}")
    release = await ledger.get_entry(ctx.db, f"release:{done['message_id']}")
    assert reserve["delta"] == -MAX_REPLY and reserve["status"] == "applied"
    assert release["delta"] == MAX_REPLY - 2 and release["status"] == "applied"
    assert await ledger.applied_sum(ctx.db, ann.id) == await ann.balance() == 98
    costs = await ctx.db.cost_events.find({"user_id": ann.id}).to_list()
    assert len(costs) == 1
    assert costs[0]["credits"] == 2 and costs[0]["outcome"] == "complete"
    assert costs[0]["provider"] == "fake" and costs[0]["model"] == "fake:echo"
    assert costs[0]["completion_tokens"] == 2 and costs[0]["ttft_ms"] is not None


async def test_stream_false_returns_the_finished_message(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["**Bold**", " move"])

    response = await ann.say(conversation["id"], "Hello", stream="false")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["balance"] == 98
    message = body["message"]
    assert message["role"] == "assistant" and message["status"] == "complete"
    assert message["text"] == "**Bold** move"
    assert message["html"] == "<p><strong>Bold</strong> move</p>\n"
    assert message["credits_charged"] == 2


async def test_first_message_titles_the_conversation(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona(name="Ada"))["_id"])
    assert conversation["title"] == "Ada"
    await ann.say(conversation["id"], "Tell me about lighthouses", stream="false")
    listed = (await ann.client.get("/api/v1/conversations")).json()["items"]
    assert listed[0]["title"] == "Tell me about lighthouses"


async def test_empty_or_oversized_text_is_refused_and_nothing_changes(ann, fake_llm, settings):
    conversation = await ann.conversation((await ann.persona())["_id"])
    for text in ["", "   ", "x" * (settings.chat.max_message_chars + 1), "bad\x00char"]:
        response = await ann.say(conversation["id"], text)
        assert response.status_code == 422, text
        assert response.json()["error"]["code"] == "invalid_message"
    assert await messages_of(ann, conversation["id"]) == []
    assert fake_llm.history == []
    assert await ann.balance() == 100


async def test_one_reply_at_a_time_per_conversation(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    slow = fake_llm.enqueue(["first", " reply"], pause_after=1)
    first = asyncio.create_task(ann.say(conversation["id"], "One", stream="false"))
    await slow.paused.wait()

    second = await ann.say(conversation["id"], "Two")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "reply_in_progress"

    slow.resume.set()
    assert (await first).status_code == 201
    assert len(fake_llm.history) == 1
    assert [m["text"] for m in await messages_of(ann, conversation["id"])] == [
        "One", "first reply"]
    assert (await ann.say(conversation["id"], "Two", stream="false")).status_code == 201
