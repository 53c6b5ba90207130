"""Replies cut at the length limit: marked as cut, and continued into the same message."""

import asyncio

from clonechats.billing import ledger
from clonechats.chat import continuation, jobs, metering
from clonechats.chat import repo as chat_repo
from clonechats.providers.llm.base import ChatMessage
from tests.chat.conftest import member, parse_sse


async def messages_of(member, conversation_id: str) -> list[dict]:
    response = await member.client.get(f"/api/v1/conversations/{conversation_id}/messages")
    return response.json()["items"]


async def cut_chat(member, fake_llm) -> tuple[str, dict]:
    """A conversation whose reply ("One two", 2 credits) was cut at the length limit."""
    conversation = await member.conversation((await member.persona())["_id"])
    fake_llm.enqueue(["One", " two"], finish_reason="length")
    response = await member.say(conversation["id"], "Count for me", stream="false")
    assert response.status_code == 201, response.text
    return conversation["id"], response.json()["message"]


def continue_path(conversation_id: str, message_id: str) -> str:
    return f"/api/v1/conversations/{conversation_id}/messages/{message_id}/continue"


async def test_a_reply_cut_at_the_length_limit_is_marked_cut(ann, fake_llm):
    conversation_id, reply = await cut_chat(ann, fake_llm)

    assert (reply["status"], reply["cut"], reply["text"]) == ("complete", True, "One two")
    fake_llm.enqueue(["Done."])
    whole = (await ann.say(conversation_id, "Thanks", stream="false")).json()["message"]
    assert (whole["status"], whole["cut"]) == ("complete", False)


async def test_continue_streams_more_text_into_the_same_message_and_charges_it(
        ann, fake_llm, ctx):
    conversation_id, reply = await cut_chat(ann, fake_llm)
    fake_llm.enqueue([" three", " four", "."])

    response = await ann.send("POST", continue_path(conversation_id, reply["id"]))

    assert response.status_code == 200, response.text
    assert response.headers["X-Message-Id"] == reply["id"]
    events = parse_sse(response.text)
    assert [data["text"] for name, data in events if name == "token"] == [" three", " four", "."]
    assert events[-1][0] == "done" and events[-1][1]["message_id"] == reply["id"]
    assert events[-1][1]["credits_charged"] == 5  # 2 for the cut part, 3 for the new one
    shown = await messages_of(ann, conversation_id)
    assert len(shown) == 2 and shown[1]["id"] == reply["id"]
    assert (shown[1]["text"], shown[1]["status"], shown[1]["cut"]) == (
        "One two three four.", "complete", False)
    assert shown[1]["usage"]["completion_tokens"] == 5
    assert await ann.balance() == 95 == await ledger.applied_sum(ctx.db, ann.id)
    sent = fake_llm.history[-1]["messages"]
    assert sent[-3:] == [ChatMessage("user", "Count for me"), ChatMessage("assistant", "One two"),
                         ChatMessage("user", continuation.CONTINUE_INSTRUCTION)]


async def test_a_continuation_cut_again_can_be_continued_again(ann, fake_llm, ctx):
    conversation_id, reply = await cut_chat(ann, fake_llm)
    fake_llm.enqueue([" three"], finish_reason="length")
    first = await ann.send("POST", continue_path(conversation_id, reply["id"]),
                           params={"stream": "false"})
    assert first.status_code == 201, first.text
    assert (first.json()["message"]["text"], first.json()["message"]["cut"]) == (
        "One two three", True)

    fake_llm.enqueue([" four"])
    second = await ann.send("POST", continue_path(conversation_id, reply["id"]),
                            params={"stream": "false"})

    assert second.status_code == 201, second.text
    message = second.json()["message"]
    assert (message["text"], message["cut"], message["credits_charged"]) == (
        "One two three four", False, 4)
    assert await ann.balance() == 96 == await ledger.applied_sum(ctx.db, ann.id)


async def test_the_next_reply_reads_the_continued_text(ann, fake_llm):
    conversation_id, reply = await cut_chat(ann, fake_llm)
    fake_llm.enqueue([" three."])
    await ann.send("POST", continue_path(conversation_id, reply["id"]), params={"stream": "false"})

    await ann.say(conversation_id, "And then?", stream="false")

    sent = fake_llm.history[-1]["messages"]
    assert sent[-3:] == [ChatMessage("user", "Count for me"),
                         ChatMessage("assistant", "One two three."),
                         ChatMessage("user", "And then?")]


async def test_another_users_reply_is_not_found(ann, bob, fake_llm):
    conversation_id, reply = await cut_chat(ann, fake_llm)

    response = await bob.send("POST", continue_path(conversation_id, reply["id"]))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "message_not_found"


async def test_a_reply_that_was_not_cut_is_refused(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    reply = (await ann.say(conversation["id"], "Hi", stream="false")).json()["message"]
    balance = await ann.balance()

    response = await ann.send("POST", continue_path(conversation["id"], reply["id"]))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_cut"
    assert await ann.balance() == balance and len(fake_llm.history) == 1
    stored = await chat_repo.get_owned(ctx.db, conversation["id"], ann.id)
    assert stored["generating"] is None  # the conversation is free for the next message


async def test_only_the_last_persona_message_can_be_continued(ann, fake_llm):
    conversation_id, reply = await cut_chat(ann, fake_llm)
    await ann.say(conversation_id, "Never mind", stream="false")

    response = await ann.send("POST", continue_path(conversation_id, reply["id"]))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_latest"
    user = (await messages_of(ann, conversation_id))[0]
    refused = await ann.send("POST", continue_path(conversation_id, user["id"]))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_latest"


async def test_two_continues_at_once_run_one(ann, fake_llm, ctx):
    conversation_id, reply = await cut_chat(ann, fake_llm)
    script = fake_llm.enqueue([" three", " four"], pause_after=1)
    running = asyncio.create_task(ann.send("POST", continue_path(conversation_id, reply["id"]),
                                           params={"stream": "false"}))
    await script.paused.wait()

    second = await ann.send("POST", continue_path(conversation_id, reply["id"]))
    script.resume.set()

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "reply_in_progress"
    first = await running
    assert first.status_code == 201
    assert first.json()["message"]["text"] == "One two three four"
    assert len(fake_llm.history) == 2
    assert await ann.balance() == 96 == await ledger.applied_sum(ctx.db, ann.id)


async def test_without_credits_a_continue_is_refused_and_the_reply_stays_cut(
        client, ctx, fake_llm, moderator):
    carol = await member(client, ctx, "carol@example.com")
    await carol.grant(9)  # the first reply reserves 8 and costs 2: 7 left, a continue needs 8
    conversation_id, reply = await cut_chat(carol, fake_llm)

    response = await carol.send("POST", continue_path(conversation_id, reply["id"]))

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert await carol.balance() == 7 == await ledger.applied_sum(ctx.db, carol.id)
    stored = (await messages_of(carol, conversation_id))[1]
    assert (stored["text"], stored["status"], stored["cut"]) == ("One two", "complete", True)
    assert len(fake_llm.history) == 1


async def test_stopping_a_continuation_keeps_both_parts(ann, fake_llm, ctx):
    conversation_id, reply = await cut_chat(ann, fake_llm)
    script = fake_llm.enqueue([" three", " four", " five"], pause_after=1)
    running = asyncio.create_task(ann.send("POST", continue_path(conversation_id, reply["id"])))
    await script.paused.wait()

    stopped = await ann.send(
        "POST", f"/api/v1/conversations/{conversation_id}/messages/{reply['id']}/stop")
    script.resume.set()

    assert stopped.status_code == 200, stopped.text
    assert parse_sse((await running).text)[-1][0] == "done"
    message = (await messages_of(ann, conversation_id))[1]
    assert (message["text"], message["status"], message["cut"]) == (
        "One two three", "stopped", False)
    assert message["credits_charged"] == 3
    assert await ann.balance() == 97 == await ledger.applied_sum(ctx.db, ann.id)


async def test_a_continuation_whose_process_died_keeps_its_text_and_charges_its_part(
        ann, fake_llm, ctx):
    conversation_id, reply = await cut_chat(ann, fake_llm)
    # what a continuation had written when its process died: reserved, streaming, one word saved
    earlier = continuation.Continuation(
        text="One two", usage=reply["usage"], credits_charged=2,
        ledger_id=continuation.ledger_id_for(reply["id"], 1), prompt_tokens=0)
    await metering.reserve(ctx, user_id=ann.id, message_id=earlier.ledger_id, amount=8,
                           persona_name="Ada")
    await chat_repo.begin_continuation(ctx.db, reply["id"], {
        "continuations": 1, "continuing": earlier.record(), "reserved_credits": 8,
        "text": "One two three"})
    now = ctx.clock.now()
    await ctx.db.conversations.update_one({"_id": conversation_id}, {"$set": {
        "generating": {"message_id": reply["id"], "until": now}}})

    await jobs.settle_abandoned({"message_id": reply["id"]}, ctx)

    settled = await chat_repo.get_message(ctx.db, reply["id"])
    assert (settled["text"], settled["status"]) == ("One two three", "failed")
    assert settled["credits_charged"] == 3 and settled["continuing"] is None
    assert await ann.balance() == 97 == await ledger.applied_sum(ctx.db, ann.id)
    conversation = await chat_repo.get_owned(ctx.db, conversation_id, ann.id)
    assert conversation["generating"] is None
