"""Replies that do not simply complete: provider failures, stop, client gone, no credits."""

import asyncio
import json

import pytest

from clonechats.billing import ledger
from clonechats.chat import generation
from clonechats.chat import repo as chat_repo
from tests.chat.conftest import MAX_REPLY, parse_sse


async def messages_of(member, conversation_id: str) -> list[dict]:
    response = await member.client.get(f"/api/v1/conversations/{conversation_id}/messages")
    return response.json()["items"]


async def settled(ctx, message_id: str) -> dict:
    running = generation.running(message_id)
    if running is not None:
        await running.wait()
    message = await chat_repo.get_message(ctx.db, message_id)
    assert message["status"] != "streaming"
    return message


async def test_provider_timeout_mid_stream_keeps_everything_and_charges_what_arrived(
        ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["Once", " upon", " a", " time"], fail_after=2)

    response = await ann.say(conversation["id"], "Tell me a story")

    events = parse_sse(response.text)
    assert events[:2] == [("token", {"text": "Once"}), ("token", {"text": " upon"})]
    assert events[2][0] == "error" and len(events) == 3
    assert events[2][1]["code"] == "provider_unavailable"
    assert set(events[2][1]) == {"code", "message"}
    user, reply = await messages_of(ann, conversation["id"])
    assert (user["text"], user["status"]) == ("Tell me a story", "complete")
    assert (reply["text"], reply["status"]) == ("Once upon", "failed")
    assert reply["error_code"] == "provider_unavailable"
    # two words delivered: the fake counts a word as a token, each costs one credit
    assert reply["credits_charged"] == 2 == reply["usage"]["completion_tokens"]
    assert await ann.balance() == 98 == await ledger.applied_sum(ctx.db, ann.id)
    cost = await ctx.db.cost_events.find_one({"user_id": ann.id})
    assert cost["outcome"] == "failed" and cost["credits"] == 2


async def test_a_failure_before_any_token_charges_nothing_and_retry_works(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["never"], fail_after=0)

    failed = await ann.say(conversation["id"], "Hello?", stream="false")

    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "provider_unavailable"
    assert await ann.balance() == 100
    _user, reply = await messages_of(ann, conversation["id"])
    assert reply["status"] == "failed" and reply["credits_charged"] == 0

    fake_llm.enqueue(["Hi", " again"])
    retried = await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{reply['id']}/regenerate",
        params={"stream": "false"})
    assert retried.status_code == 201, retried.text
    assert retried.json()["message"]["replaces_message_id"] == reply["id"]
    shown = await messages_of(ann, conversation["id"])
    assert [(m["role"], m["text"], m["status"]) for m in shown] == [
        ("user", "Hello?", "complete"), ("assistant", "Hi again", "complete")]
    # the retry answered the same user message, with the same history
    assert fake_llm.history[1]["messages"][-1].content == "Hello?"
    assert await ann.balance() == 98 == await ledger.applied_sum(ctx.db, ann.id)


async def test_stop_keeps_the_partial_reply_and_charges_only_it(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    script = fake_llm.enqueue(["A", " long", " reply", " goes", " on"], pause_after=2)
    streaming = asyncio.create_task(ann.say(conversation["id"], "Go on"))
    await script.paused.wait()
    reply_id = (await messages_of(ann, conversation["id"]))[1]["id"]

    stopped = await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{reply_id}/stop")
    script.resume.set()

    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["message"]["status"] == "stopped"
    events = parse_sse((await streaming).text)
    assert [name for name, _ in events] == ["token", "token", "done"]
    assert events[-1][1]["credits_charged"] == 2
    reply = (await messages_of(ann, conversation["id"]))[1]
    assert (reply["text"], reply["status"], reply["credits_charged"]) == ("A long", "stopped", 2)
    assert script.closed and script.delivered <= 3
    assert await ann.balance() == 98 == await ledger.applied_sum(ctx.db, ann.id)


async def test_a_stop_written_by_another_process_is_seen(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    script = fake_llm.enqueue(["One", " two", " three", " four"], pause_after=1)
    streaming = asyncio.create_task(ann.say(conversation["id"], "Count", stream="false"))
    await script.paused.wait()
    reply_id = (await messages_of(ann, conversation["id"]))[1]["id"]
    await ctx.db.messages.update_one({"_id": reply_id}, {"$set": {"stop_requested": True}})
    script.resume.set()

    response = await streaming
    assert response.status_code == 201
    assert response.json()["message"]["status"] == "stopped"
    assert response.json()["message"]["text"] in ("One", "One two")


async def test_a_client_that_goes_away_stops_the_reply_and_it_is_settled(ann, fake_llm, app, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    script = fake_llm.enqueue(["Tok "] * 6, pause_after=2)
    body = json.dumps({"text": "Stream to me"}).encode()
    gone = asyncio.Event()
    sent: list[dict] = []
    cookies = "; ".join(f"{k}={v}" for k, v in ann.client.cookies.items())
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": f"/api/v1/conversations/{conversation['id']}/messages",
        "raw_path": b"", "query_string": b"", "root_path": "", "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), (b"cookie", cookies.encode()),
                    (b"x-csrf-token", ann.client.cookies["csrf_token"].encode())],
    }
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    request = asyncio.create_task(app(scope, receive, send))
    await script.paused.wait()
    gone.set()
    await request  # the fake is still waiting to send its third token, and never will

    assert sent[0]["status"] == 200
    reply_id = dict(sent[0]["headers"])[b"x-message-id"].decode()
    reply = await settled(ctx, reply_id)
    assert reply["status"] == "stopped"
    assert reply["text"] == "Tok Tok "
    assert reply["credits_charged"] == 2
    assert script.closed
    assert await ann.balance() == 98 == await ledger.applied_sum(ctx.db, ann.id)
    conversation_doc = await chat_repo.get_conversation(ctx.db, conversation["id"])
    assert conversation_doc["generating"] is None


async def test_blocked_input_is_stored_not_sent_and_not_charged(ann, fake_llm, ctx, moderator):
    conversation = await ann.conversation((await ann.persona())["_id"])

    response = await ann.say(conversation["id"], "You are FORBIDDEN words")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "message_blocked"
    assert "harassment" in error["message"]
    assert fake_llm.history == []
    assert await ann.balance() == 100
    [blocked] = await messages_of(ann, conversation["id"])
    assert blocked["status"] == "blocked" and blocked["role"] == "user"
    assert blocked["moderation"] == {"flagged": True, "reason": "harassment"}
    flag = await ctx.db.moderation_flags.find_one({"ref_id": blocked["id"]})
    assert flag["subject"] == "user_message" and flag["user_id"] == ann.id
    # the conversation is free again, and the blocked text never reaches the model later
    fake_llm.enqueue(["Fine"])
    assert (await ann.say(conversation["id"], "Hello", stream="false")).status_code == 201
    sent = [m.content for m in fake_llm.history[0]["messages"]]
    assert not any("FORBIDDEN" in text for text in sent)


async def test_a_blocked_reply_is_hidden_but_charged(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["That", " is", " FORBIDDEN"])

    response = await ann.say(conversation["id"], "Say something")

    events = parse_sse(response.text)
    assert events[-1] == ("error", {"code": "reply_blocked",
                                    "message": "This reply was hidden by moderation."})
    _user, reply = await messages_of(ann, conversation["id"])
    assert reply["status"] == "blocked"
    assert reply["text"] == "This reply was hidden by moderation."
    assert "FORBIDDEN" not in json.dumps(reply)
    assert reply["credits_charged"] == 3
    stored = await chat_repo.get_message(ctx.db, reply["id"])
    assert stored["withheld_text"] == "That is FORBIDDEN"
    flag = await ctx.db.moderation_flags.find_one({"ref_id": reply["id"]})
    assert flag["subject"] == "model_output"
    assert await ann.balance() == 97
    as_json = await ann.say(conversation["id"], "Again", stream="false")
    assert as_json.status_code == 201  # the default reply is fine


async def test_no_credits_is_402_before_anything_is_stored(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    await ledger.apply(ctx.db, user_id=ann.id, delta=-(100 - MAX_REPLY + 1), kind="debit",
                       reason="spend", idempotency_key="spend", now=ctx.clock.now())

    response = await ann.say(conversation["id"], "Hello")

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert fake_llm.history == []
    assert await messages_of(ann, conversation["id"]) == []
    assert await ann.balance() == MAX_REPLY - 1
    hit = await ctx.db.paywall_hits.find_one({"user_id": ann.id})
    assert hit["feature"] == "chat"
    await ann.grant(50)
    assert (await ann.say(conversation["id"], "Hello", stream="false")).status_code == 201


async def test_deleting_a_conversation_mid_reply_stops_and_settles_it(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    script = fake_llm.enqueue(["Half ", "a ", "reply"], pause_after=2)
    streaming = asyncio.create_task(ann.say(conversation["id"], "Hello"))
    await script.paused.wait()

    deleted = await ann.send("DELETE", f"/api/v1/conversations/{conversation['id']}")

    assert deleted.status_code == 204
    events = parse_sse((await streaming).text)
    assert events[-1][0] == "done" and events[-1][1]["credits_charged"] == 2
    assert await ctx.db.messages.count_documents({"conversation_id": conversation["id"]}) == 0
    assert await ann.balance() == 98 == await ledger.applied_sum(ctx.db, ann.id)


async def test_a_store_failure_after_the_reservation_gives_the_credits_back(
        ann, fake_llm, ctx, monkeypatch):
    from clonechats.chat import replies

    conversation = await ann.conversation((await ann.persona())["_id"])

    async def broken_enqueue(*args, **kwargs):
        raise RuntimeError("the jobs collection is unavailable")

    monkeypatch.setattr(ctx, "enqueue", broken_enqueue)
    with pytest.raises(RuntimeError):
        await replies.send_message(ctx, user_id=ann.id, conversation_id=conversation["id"],
                                   text="Hello")
    assert fake_llm.history == []
    assert await ann.balance() == 100 == await ledger.applied_sum(ctx.db, ann.id)
    stored = await ctx.db.messages.find({"conversation_id": conversation["id"]}).to_list()
    assert [m["status"] for m in stored if m["role"] == "assistant"] == ["failed"]
    monkeypatch.undo()
    assert (await ann.say(conversation["id"], "Again", stream="false")).status_code == 201
