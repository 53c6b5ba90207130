"""Exactly once under races and crashes: cancel or edit against a running delivery, several
runners at once, and a delivery whose process died half-way (resumed without a second user
message or a second charge)."""

import asyncio
import contextlib
from datetime import timedelta

from clonechats.billing import ledger
from clonechats.chat.scheduled import delivery
from clonechats.chat.scheduled import repo as scheduled_repo
from clonechats.jobs.runner import JobRunner
from tests.chat.scheduled.conftest import ledger_keys, messages_of, scheduled_item, stored


async def chat_with(member):
    return await member.conversation((await member.persona())["_id"])


async def test_a_cancel_during_delivery_is_refused_and_delivery_completes(ann, ctx, clock,
                                                                          run_jobs, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    reply = fake_llm.enqueue(["Slow", " reply."], pause_after=1)
    clock.advance(hours=1)
    running = asyncio.create_task(run_jobs())
    await reply.paused.wait()
    response = await ann.send("DELETE", f"/api/v1/scheduled/{item['id']}")
    assert response.status_code == 409
    edit = await ann.send("PATCH", f"/api/v1/scheduled/{item['id']}", json={"text": "changed"})
    assert edit.status_code == 409
    reply.resume.set()
    await running
    found = await stored(ctx, item["id"])
    assert found["status"] == "delivered" and found["text"] == "Good morning!"


async def test_cancel_and_delivery_racing_give_one_outcome(ann, ctx, clock, fake_llm):
    conversation = await chat_with(ann)
    ids = [(await scheduled_item(ann, conversation["id"], f"note {n}"))["id"] for n in range(6)]
    clock.advance(hours=1)
    runner = JobRunner(db=ctx.db, registry=ctx.jobs, context=ctx, clock=ctx.clock,
                       settings=ctx.settings.jobs, owner="racer")

    async def cancel(item_id):
        return await ann.send("DELETE", f"/api/v1/scheduled/{item_id}")

    outcomes = await asyncio.gather(runner.run_until_idle(), *(cancel(i) for i in ids))
    for item_id, response in zip(ids, outcomes[1:], strict=True):
        found = await stored(ctx, item_id)
        sent = await ctx.db.messages.count_documents({"scheduled_id": item_id})
        if response.status_code == 200:
            assert found["status"] == "cancelled" and found["text"] == "" and sent == 0
        else:
            assert response.status_code == 409
            assert found["status"] == "delivered" and sent == 2
    await runner.run_until_idle()
    statuses = {(await stored(ctx, i))["status"] for i in ids}
    assert statuses <= {"cancelled", "delivered"}


async def test_two_runners_deliver_each_item_once(ann, ctx, clock, fake_llm):
    conversations = [await chat_with(ann) for _ in range(4)]
    ids = [(await scheduled_item(ann, c["id"]))["id"] for c in conversations]
    clock.advance(hours=1)
    runners = [JobRunner(db=ctx.db, registry=ctx.jobs, context=ctx, clock=ctx.clock,
                         settings=ctx.settings.jobs, owner=f"r{n}") for n in range(2)]
    await asyncio.gather(*(r.run_until_idle() for r in runners))
    for item_id in ids:
        assert (await stored(ctx, item_id))["status"] == "delivered"
        assert await ctx.db.messages.count_documents({"scheduled_id": item_id}) == 2
    assert await ann.balance() == 100 - 2 * 4 == await ledger.applied_sum(ctx.db, ann.id)


async def crash_after(monkeypatch, step_name: str):
    """Make the delivery die (as a killed process would) right after `step_name` ran."""
    original = getattr(delivery, step_name)

    class Died(BaseException):
        pass

    async def dies(*args, **kwargs):
        await original(*args, **kwargs)
        raise Died()

    monkeypatch.setattr(delivery, step_name, dies)
    return Died


async def test_a_delivery_that_died_after_storing_is_finished_once(ann, ctx, clock, fake_llm,
                                                                   monkeypatch):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    died = await crash_after(monkeypatch, "_store")
    clock.advance(hours=1)
    with contextlib.suppress(died):
        await delivery.deliver_scheduled({"scheduled_id": item["id"]}, ctx)
    half = await stored(ctx, item["id"])
    assert half["status"] == "delivering"
    # The process "died": its item lease and the conversation's lease stay as they were.
    await ctx.db.scheduled_messages.update_one({"_id": item["id"]}, {"$set": {
        "lease_owner": "dead-worker", "lease_until": clock.now().replace(minute=1)}})
    monkeypatch.undo()
    assert len(await messages_of(ctx, conversation["id"])) == 2  # user + "streaming" reply
    clock.advance(minutes=2)
    await delivery.deliver_scheduled({"scheduled_id": item["id"]}, ctx)

    found = await stored(ctx, item["id"])
    assert found["status"] == "delivered"
    user, reply = await messages_of(ctx, conversation["id"])
    assert user["text"] == "Good morning!" and reply["text"] == "Hello there."
    assert reply["status"] == "complete" and reply["_id"] == half["reply_id"]
    assert await ledger_keys(ctx, ann.id) == [f"release:{reply['_id']}",
                                              f"reserve:{reply['_id']}"]
    assert await ann.balance() == 98 == await ledger.applied_sum(ctx.db, ann.id)


async def test_a_delivery_that_died_mid_reply_restarts_it_on_the_same_reservation(
        ann, ctx, clock, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    reply = fake_llm.enqueue(["Half", " written", " reply"], pause_after=2)
    clock.advance(hours=1)
    task = asyncio.create_task(delivery.deliver_scheduled({"scheduled_id": item["id"]}, ctx))
    await reply.paused.wait()
    half = await stored(ctx, item["id"])
    task.cancel()  # the worker is gone mid-stream; its saved text stays behind
    await asyncio.gather(task, return_exceptions=True)
    await ctx.db.messages.update_one({"_id": half["reply_id"]}, {"$set": {
        "status": "streaming", "text": "Half written", "credits_charged": 0,
        "completed_at": None}})
    await ctx.db.credit_ledger.delete_one({"_id": f"release:{half['reply_id']}"})
    await ctx.db.users.update_one({"_id": ann.id}, {"$set": {"credits": 100 - 8}})
    await ctx.db.scheduled_messages.update_one({"_id": item["id"]}, {"$set": {
        "status": "delivering", "lease_owner": "dead", "lease_until": clock.now()}})

    fake_llm.enqueue(["Whole", " reply."])
    clock.advance(seconds=1)
    await delivery.deliver_scheduled({"scheduled_id": item["id"]}, ctx)
    found = await stored(ctx, item["id"])
    assert found["status"] == "delivered"
    messages = await messages_of(ctx, conversation["id"])
    assert [m["text"] for m in messages] == ["Good morning!", "Whole reply."]
    assert await ledger_keys(ctx, ann.id) == [f"release:{half['reply_id']}",
                                              f"reserve:{half['reply_id']}"]
    assert await ann.balance() == 98


async def test_a_claim_held_by_a_live_worker_is_left_alone(ann, ctx, clock, fake_llm):
    conversation = await chat_with(ann)
    item = await scheduled_item(ann, conversation["id"])
    clock.advance(hours=1)
    taken = await scheduled_repo.claim(ctx.db, item["id"], owner="alive", now=clock.now(),
                                       until=clock.now().replace(hour=14))
    assert taken is not None
    await delivery.deliver_scheduled({"scheduled_id": item["id"]}, ctx)
    assert await ctx.db.messages.count_documents({}) == 0
    follow_up = await ctx.db.jobs.find({"kind": "chat.deliver_scheduled",
                                        "status": "queued"}).to_list()
    assert any(j["run_at"] > clock.now() for j in follow_up)  # it looks again after the lease


async def test_a_reservation_left_half_written_is_finished_not_doubled(ann, ctx, clock,
                                                                       fake_llm):
    """A worker died inside the ledger write: once after the balance took the reservation,
    once before. Either way the resumed delivery ends with one reserve and one release and
    the balance its ledger says."""
    for applied in (True, False):
        conversation = await chat_with(ann)
        item = await scheduled_item(ann, conversation["id"], send_at=(
            clock.now() + timedelta(minutes=30)).isoformat())
        clock.advance(minutes=30)
        before = await ann.balance()
        reply_id = (await stored(ctx, item["id"]))["reply_id"]
        key = f"reserve:{reply_id}"
        await ctx.db.credit_ledger.insert_one({
            "_id": key, "user_id": ann.id, "delta": -8, "kind": "reserve", "reason": "x",
            "status": "pending", "balance_after": None, "at": clock.now()})
        if applied:
            await ctx.db.users.update_one({"_id": ann.id}, {"$inc": {"credits": -8},
                                                            "$push": {"ledger_keys": key}})
        await delivery.deliver_scheduled({"scheduled_id": item["id"]}, ctx)
        assert (await stored(ctx, item["id"]))["status"] == "delivered"
        entries = await ctx.db.credit_ledger.find(
            {"_id": {"$in": [key, f"release:{reply_id}"]}}).to_list()
        assert sorted((e["kind"], e["status"]) for e in entries) == [
            ("release", "applied"), ("reserve", "applied")]
        assert await ann.balance() == before - 2 == await ledger.applied_sum(ctx.db, ann.id)
