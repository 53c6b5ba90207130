"""The owner rewrites a persona reply: what is shown and what the model reads next."""

import asyncio

from clonechats.chat import repo as chat_repo
from clonechats.providers.llm.base import ChatMessage
from tests.chat.conftest import BLOCK_WORD


def message_path(conversation_id: str, message_id: str) -> str:
    return f"/api/v1/conversations/{conversation_id}/messages/{message_id}"


async def replied(member, fake_llm) -> tuple[str, dict]:
    conversation = await member.conversation((await member.persona())["_id"])
    fake_llm.enqueue(["It is", " raining."])
    response = await member.say(conversation["id"], "How is the weather?", stream="false")
    assert response.status_code == 201, response.text
    return conversation["id"], response.json()["message"]


async def test_an_edited_reply_is_shown_marked_and_read_by_the_next_reply(ann, fake_llm):
    conversation_id, reply = await replied(ann, fake_llm)

    response = await ann.send("PATCH", message_path(conversation_id, reply["id"]),
                              json={"text": "It is **sunny**."})

    assert response.status_code == 200, response.text
    edited = response.json()["message"]
    assert (edited["id"], edited["text"], edited["edited"]) == (
        reply["id"], "It is **sunny**.", True)
    assert "<strong>sunny</strong>" in edited["html"] and edited["edited_at"]
    stored = (await ann.client.get(message_path(conversation_id, reply["id"]))).json()["message"]
    assert stored["text"] == "It is **sunny**." and stored["edited"] is True

    await ann.say(conversation_id, "Shall we go out?", stream="false")
    sent = fake_llm.history[-1]["messages"]
    assert sent[-3:] == [ChatMessage("user", "How is the weather?"),
                         ChatMessage("assistant", "It is **sunny**."),
                         ChatMessage("user", "Shall we go out?")]


async def test_an_unedited_reply_is_not_marked(ann, fake_llm):
    _conversation_id, reply = await replied(ann, fake_llm)
    assert reply["edited"] is False and reply["edited_at"] is None


async def test_empty_or_oversize_text_is_refused(ann, fake_llm, ctx):
    conversation_id, reply = await replied(ann, fake_llm)
    path = message_path(conversation_id, reply["id"])
    too_long = "a" * (ctx.settings.chat.max_message_chars + 1)

    for text in ("   ", too_long):
        response = await ann.send("PATCH", path, json={"text": text})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_message"
    stored = await chat_repo.get_message(ctx.db, reply["id"])
    assert stored["text"] == "It is raining." and stored.get("edited_at") is None


async def test_another_users_reply_is_not_found(ann, bob, fake_llm, ctx):
    conversation_id, reply = await replied(ann, fake_llm)

    response = await bob.send("PATCH", message_path(conversation_id, reply["id"]),
                              json={"text": "Mine now."})

    assert response.status_code == 404
    assert (await chat_repo.get_message(ctx.db, reply["id"]))["text"] == "It is raining."


async def test_a_reply_being_written_cannot_be_edited(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    script = fake_llm.enqueue(["Still", " going"], pause_after=1)
    running = asyncio.create_task(ann.say(conversation["id"], "Talk", stream="false"))
    await script.paused.wait()
    reply_id = (await ctx.db.messages.find_one({"role": "assistant"}))["_id"]

    response = await ann.send("PATCH", message_path(conversation["id"], reply_id),
                              json={"text": "Replaced."})
    script.resume.set()

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reply_in_progress"
    assert (await running).json()["message"]["text"] == "Still going"


async def test_a_user_message_is_not_edited_here(ann, fake_llm):
    conversation_id, _reply = await replied(ann, fake_llm)
    items = (await ann.client.get(f"/api/v1/conversations/{conversation_id}/messages")).json()
    user = items["items"][0]

    response = await ann.send("PATCH", message_path(conversation_id, user["id"]),
                              json={"text": "Rewritten"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reply_not_editable"


async def test_a_failed_reply_is_not_editable(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["x"], fail_after=0)
    failed = await ann.say(conversation["id"], "Hello?", stream="false")
    reply_id = failed.json()["error"]["details"]["message_id"]

    response = await ann.send("PATCH", message_path(conversation["id"], reply_id),
                              json={"text": "Fixed."})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reply_not_editable"


async def test_text_that_breaks_the_rules_is_not_saved(ann, fake_llm, ctx):
    conversation_id, reply = await replied(ann, fake_llm)

    response = await ann.send("PATCH", message_path(conversation_id, reply["id"]),
                              json={"text": f"Something {BLOCK_WORD}"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "message_blocked"
    assert (await chat_repo.get_message(ctx.db, reply["id"]))["text"] == "It is raining."


async def test_an_edited_cut_reply_continues_from_the_edited_text(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["One", " two"], finish_reason="length")
    reply = (await ann.say(conversation["id"], "Count", stream="false")).json()["message"]
    edited = await ann.send("PATCH", message_path(conversation["id"], reply["id"]),
                            json={"text": "Uno dos"})
    assert edited.json()["message"]["cut"] is True
    fake_llm.enqueue([" tres"])

    response = await ann.send("POST", message_path(conversation["id"], reply["id"]) + "/continue",
                              params={"stream": "false"})

    assert response.status_code == 201, response.text
    assert response.json()["message"]["text"] == "Uno dos tres"
    assert ChatMessage("assistant", "Uno dos") in fake_llm.history[-1]["messages"]
