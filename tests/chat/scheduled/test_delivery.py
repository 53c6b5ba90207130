"""Delivery at the due time: the two kinds, credits, failures, retries, notices."""

from clonechats.billing import ledger
from clonechats.providers.errors import ProviderRejected
from tests.chat.scheduled.conftest import (
    ledger_keys,
    messages_of,
    scheduled_item,
    stored,
)
from tests.factories import emails_to


async def chat_with(member):
    return await member.conversation((await member.persona())["_id"])


async def test_a_message_is_sent_and_answered_at_its_time_not_before(ann, ctx, clock, run_jobs,
                                                                     fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"], "Wake up, it is nine")
    clock.advance(minutes=59)
    await run_jobs()
    assert await messages_of(ctx, conversation["id"]) == []
    assert fake_llm.history == []

    clock.advance(minutes=1)
    await run_jobs()
    user, reply = await messages_of(ctx, conversation["id"])
    assert (user["role"], user["text"], user["status"]) == ("user", "Wake up, it is nine",
                                                             "complete")
    assert (reply["role"], reply["text"], reply["status"]) == ("assistant", "Hello there.",
                                                               "complete")
    assert user["created_at"] == clock.now() and user["scheduled_id"] == item["id"]
    found = await stored(ctx, item["id"])
    assert found["status"] == "delivered" and found["message_ids"] == [user["_id"], reply["_id"]]
    assert found["delivered_at"] == clock.now()
    assert await ann.balance() == 100 - 2 == await ledger.applied_sum(ctx.db, ann.id)
    assert await ledger_keys(ctx, ann.id) == [f"release:{reply['_id']}",
                                              f"reserve:{reply['_id']}"]
    conversation_doc = await ctx.db.conversations.find_one({"_id": conversation["id"]})
    assert conversation_doc["generating"] is None
    assert conversation_doc["title"] == "Wake up, it is nine"

    clock.advance(hours=5)
    await run_jobs()
    assert len(await messages_of(ctx, conversation["id"])) == 2


async def test_the_context_is_built_at_delivery_time(ann, ctx, clock, run_jobs, fake_llm):
    conversation = await chat_with(ann)
    await scheduled_item(ann, conversation["id"], "Scheduled question")
    response = await ann.say(conversation["id"], "Typed in between", stream="false")
    assert response.status_code == 201
    clock.advance(hours=1)
    await run_jobs()
    prompt = [m.content for m in fake_llm.history[-1]["messages"] if m.role != "system"]
    assert prompt == ["Typed in between", "Hello there.", "Scheduled question"]
    texts = [m["text"] for m in await messages_of(ctx, conversation["id"])]
    assert texts == ["Typed in between", "Hello there.", "Scheduled question", "Hello there."]


async def test_a_reply_item_stores_the_question_now_and_answers_later(ann, ctx, clock,
                                                                      run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"], "Answer me tomorrow", kind="reply",
                                send_at="2026-03-02T09:00:00Z")
    [question] = await messages_of(ctx, conversation["id"])
    assert question["text"] == "Answer me tomorrow" and question["role"] == "user"
    await ann.say(conversation["id"], "Meanwhile, another thing", stream="false")
    fake_llm.enqueue(["Here", " is", " my", " answer."])
    clock.advance(hours=21)
    await run_jobs()
    prompt = [m.content for m in fake_llm.history[-1]["messages"] if m.role != "system"]
    assert prompt == ["Answer me tomorrow"]  # answered as asked, before what came after
    messages = await messages_of(ctx, conversation["id"])
    assert [m["text"] for m in messages][-1] == "Here is my answer."
    found = await stored(ctx, item["id"])
    assert found["status"] == "delivered" and found["message_ids"][0] == question["_id"]
    assert sum(1 for m in messages if m["text"] == "Answer me tomorrow") == 1


async def test_no_credits_at_delivery_fails_it_visibly_and_sends_nothing(ann, ctx, clock,
                                                                         run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    await ledger.apply(ctx.db, user_id=ann.id, delta=-100, kind=ledger.DEBIT, reason="spent",
                       idempotency_key="spend-all", now=clock.now())
    clock.advance(hours=1)
    await run_jobs()
    found = await stored(ctx, item["id"])
    assert found["status"] == "failed"
    assert found["error"]["code"] == "insufficient_credits"
    assert await messages_of(ctx, conversation["id"]) == []
    assert fake_llm.history == []
    assert await ann.balance() == 0
    assert await ctx.db.paywall_hits.count_documents({}) == 1
    shown = (await ann.send("GET", "/api/v1/scheduled?status=failed")).json()["items"]
    assert [s["id"] for s in shown] == [item["id"]]
    strip = await ann.send("GET", f"/chat/{conversation['id']}/scheduled")
    assert "Not delivered" in strip.text and "enough credits" in strip.text
    conversation_doc = await ctx.db.conversations.find_one({"_id": conversation["id"]})
    assert conversation_doc["generating"] is None and conversation_doc["unread_count"] == 1
    dismissed = await ann.send("POST", f"/api/v1/scheduled/{item['id']}/dismiss")
    assert dismissed.status_code == 204 and await stored(ctx, item["id"]) is None


async def test_provider_down_is_retried_with_backoff_then_delivered(ann, ctx, clock, run_jobs,
                                                                    fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    fake_llm.enqueue([], fail_after=0)
    fake_llm.enqueue(["Back", " again."])
    clock.advance(hours=1)
    await run_jobs()
    waiting = await stored(ctx, item["id"])
    assert waiting["status"] == "delivering" and waiting["attempts"] == 1
    assert waiting["error"]["code"] == "provider_unavailable"
    strip = await ann.send("GET", f"/chat/{conversation['id']}/scheduled")
    assert "Trying again at" in strip.text
    assert (await ann.send("DELETE", f"/api/v1/scheduled/{item['id']}")).status_code == 409

    clock.advance(seconds=29)
    await run_jobs()
    assert len(fake_llm.history) == 1  # the backoff holds
    clock.advance(seconds=1)
    await run_jobs()
    found = await stored(ctx, item["id"])
    assert found["status"] == "delivered" and found["error"] is None
    visible = await ctx.db.messages.find({"conversation_id": conversation["id"],
                                          "superseded_by": None}).sort("seq", 1).to_list()
    assert [m["text"] for m in visible] == ["Good morning!", "Back again."]
    assert await ctx.db.messages.count_documents({"role": "user"}) == 1
    assert await ann.balance() == 100 - 2 == await ledger.applied_sum(ctx.db, ann.id)


async def test_provider_down_past_the_window_fails_it(ann, ctx, clock, run_jobs, fake_llm):
    ctx.settings.scheduled.retry_window_minutes = 5
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    for _ in range(10):
        fake_llm.enqueue([], fail_after=0)
    clock.advance(hours=1)
    for _ in range(12):
        await run_jobs()
        clock.advance(minutes=1)
    found = await stored(ctx, item["id"])
    assert found["status"] == "failed" and found["error"]["code"] == "provider_unavailable"
    assert 2 <= found["attempts"] <= 4  # 30 s, 60 s, 120 s... within five minutes
    assert await ann.balance() == 100  # nothing was delivered, nothing charged
    assert await ctx.db.messages.count_documents({"role": "user"}) == 1


async def test_a_rejected_request_is_not_retried(ann, ctx, clock, run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    fake_llm.enqueue([], fail_after=0, error=ProviderRejected("no", provider="fake"))
    clock.advance(hours=1)
    await run_jobs()
    assert (await stored(ctx, item["id"]))["status"] == "failed"


async def test_a_busy_conversation_delays_delivery(ann, ctx, clock, run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    await ctx.db.conversations.update_one({"_id": conversation["id"]}, {"$set": {
        "generating": {"message_id": "someone-else", "until": clock.now().replace(hour=14)}}})
    clock.advance(hours=1)
    await run_jobs()
    assert (await stored(ctx, item["id"]))["status"] == "delivering"
    await ctx.db.conversations.update_one({"_id": conversation["id"]},
                                          {"$set": {"generating": None}})
    clock.advance(seconds=ctx.settings.scheduled.busy_retry_seconds)
    await run_jobs()
    assert (await stored(ctx, item["id"]))["status"] == "delivered"


async def test_unread_badge_until_the_conversation_is_opened(ann, ctx, clock, run_jobs,
                                                             fake_llm):
    conversation = await chat_with(ann)
    await scheduled_item(ann, conversation["id"], kind="reply")
    clock.advance(hours=1)
    await run_jobs()
    listed = (await ann.send("GET", "/api/v1/conversations")).json()["items"]
    assert listed[0]["unread_count"] == 1
    page = await ann.send("GET", "/chat")
    assert "1 new" in page.text
    await ann.send("GET", f"/chat/{conversation['id']}")
    listed = (await ann.send("GET", "/api/v1/conversations")).json()["items"]
    assert listed[0]["unread_count"] == 0
    assert "1 new" not in (await ann.send("GET", "/chat")).text


async def test_email_notice_only_when_turned_on(ann, ctx, clock, run_jobs, fake_llm):
    conversation = await chat_with(ann)
    await scheduled_item(ann, conversation["id"])
    clock.advance(hours=1)
    await run_jobs()
    assert await emails_to(ctx, "ann@example.com") == []

    await ann.send("PATCH", "/api/v1/account/scheduling", json={"email_notice": True})
    await scheduled_item(ann, conversation["id"], "Second one",
                         send_at="2026-03-01T14:00:00Z")
    clock.advance(hours=1)
    await run_jobs()
    [email] = await emails_to(ctx, "ann@example.com")
    assert "answered your scheduled message" in email["subject"]
    assert f"/chat/{conversation['id']}" in email["text"]
    assert "Second one" not in email["text"] and "Hello there" not in email["text"]


async def test_a_persona_gone_fails_the_item(ann, ctx, clock, run_jobs, fake_llm):
    persona = await ann.persona()
    conversation = await ann.conversation(persona["_id"])
    item = await scheduled_item(ann, conversation["id"])
    await ctx.db.personas.delete_one({"_id": persona["_id"]})
    clock.advance(hours=1)
    await run_jobs()
    found = await stored(ctx, item["id"])
    assert found["status"] == "failed" and found["error"]["code"] == "persona_unavailable"

