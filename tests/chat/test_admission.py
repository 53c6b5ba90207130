"""Admission control: past `chat.max_concurrent_replies` replies in one process, a new reply is
refused at once with 503 and a Retry-After, and nothing is stored or charged for it."""

import asyncio

from tests.chat.conftest import parse_sse

BASE = "/api/v1/conversations"


async def test_a_reply_past_the_cap_is_refused_with_retry_after(ann, fake_llm, ctx):
    ctx.settings.chat.max_concurrent_replies = 1
    persona = await ann.persona()
    busy_chat = (await ann.conversation(persona["_id"]))["id"]
    other_chat = (await ann.conversation(persona["_id"]))["id"]
    slow = fake_llm.enqueue(["Still ", "writing."], pause_after=1)
    streaming = asyncio.create_task(ann.say(busy_chat, "Take your time"))
    await asyncio.wait_for(slow.paused.wait(), 10)
    balance = await ann.balance()

    refused = await ann.say(other_chat, "Me too?", stream="false")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "server_busy"
    assert refused.headers["Retry-After"] == "5"
    assert (await ann.client.get(f"{BASE}/{other_chat}/messages")).json()["items"] == []
    assert await ann.balance() == balance

    slow.resume.set()
    assert parse_sse((await streaming).text)[-1][0] == "done"
    fake_llm.enqueue(["Now there is room."])
    again = await ann.say(other_chat, "Me too?", stream="false")
    assert again.status_code == 201
    assert again.json()["message"]["text"] == "Now there is room."


async def test_regenerate_edit_and_continue_past_the_cap_are_refused_too(ann, fake_llm, ctx):
    persona = await ann.persona()
    chat = (await ann.conversation(persona["_id"]))["id"]
    await ann.say(chat, "Hello", stream="false")
    await ctx.mood_backlog.wait_idle()  # so nothing changes these messages but the calls below
    user, reply = (m["id"] for m in (await ann.client.get(f"{BASE}/{chat}/messages")).json()[
        "items"])
    ctx.settings.chat.max_concurrent_replies = 1
    busy_chat = (await ann.conversation(persona["_id"]))["id"]
    slow = fake_llm.enqueue(["Still ", "writing."], pause_after=1)
    streaming = asyncio.create_task(ann.say(busy_chat, "Take your time"))
    await asyncio.wait_for(slow.paused.wait(), 10)
    before = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"]
    for method, path, body in (
            ("POST", f"{BASE}/{chat}/messages/{reply}/regenerate", None),
            ("POST", f"{BASE}/{chat}/messages/{user}/edit", {"text": "Hi"}),
            ("POST", f"{BASE}/{chat}/messages/{reply}/continue", None)):
        refused = await ann.send(method, path, json=body, params={"stream": "false"})
        assert refused.status_code == 503, path
        assert refused.json()["error"]["code"] == "server_busy"
    assert (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"] == before
    slow.resume.set()
    await streaming
