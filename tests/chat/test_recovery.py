"""A reply whose process died mid-stream is settled by its job once the lease runs out."""

from datetime import timedelta

from clonechats.billing import ledger
from clonechats.chat import replies
from clonechats.chat import repo as chat_repo
from clonechats.chat.replies import SETTLE_JOB
from clonechats.chat.settlement import ReplyPlan


async def abandoned_reply(ann, ctx, fake_llm, monkeypatch) -> dict:
    """Start a reply whose task never runs, as if the process died after saving some text."""
    started: list[ReplyPlan] = []

    class NeverRuns:
        def __init__(self, _ctx, plan):
            self.plan = plan

        def start(self):
            started.append(self.plan)
            return self

    monkeypatch.setattr(replies, "Generation", NeverRuns)
    conversation = await ann.conversation((await ann.persona())["_id"])
    await replies.send_message(ctx, user_id=ann.id, conversation_id=conversation["id"],
                               text="Hello")
    [plan] = started
    await chat_repo.update_message(ctx.db, plan.message_id, {"text": "Saved three words"})
    return {"conversation_id": conversation["id"], "message_id": plan.message_id}


async def test_an_abandoned_reply_is_settled_for_what_it_saved(ann, ctx, fake_llm, clock,
                                                               run_jobs, monkeypatch):
    found = await abandoned_reply(ann, ctx, fake_llm, monkeypatch)
    assert await ann.balance() == 100 - 8  # the reservation is held
    job = await ctx.db.jobs.find_one({"kind": SETTLE_JOB})
    assert job["payload"] == {"message_id": found["message_id"]}

    await run_jobs()  # not due yet: the lease still holds
    assert (await chat_repo.get_message(ctx.db, found["message_id"]))["status"] == "streaming"

    clock.advance(seconds=ctx.settings.chat.generation_lease_seconds + 60)
    await run_jobs()

    reply = await chat_repo.get_message(ctx.db, found["message_id"])
    assert reply["status"] == "failed" and reply["error_code"] == "interrupted"
    assert reply["text"] == "Saved three words"
    assert reply["credits_charged"] == 3  # three words, one credit each
    assert await ann.balance() == 97 == await ledger.applied_sum(ctx.db, ann.id)
    conversation = await chat_repo.get_conversation(ctx.db, found["conversation_id"])
    assert conversation["generating"] is None
    cost = await ctx.db.cost_events.find_one({"user_id": ann.id})
    assert cost["outcome"] == "failed" and cost["credits"] == 3

    clock.advance(minutes=10)
    await run_jobs()  # running it again changes nothing
    assert await ann.balance() == 97


async def test_a_renewed_lease_postpones_the_check(ann, ctx, fake_llm, clock, run_jobs,
                                                   monkeypatch):
    found = await abandoned_reply(ann, ctx, fake_llm, monkeypatch)
    clock.advance(seconds=ctx.settings.chat.generation_lease_seconds + 60)
    await chat_repo.renew_generation(ctx.db, found["conversation_id"],
                                     message_id=found["message_id"],
                                     until=clock.now() + timedelta(seconds=60))
    await run_jobs()
    assert (await chat_repo.get_message(ctx.db, found["message_id"]))["status"] == "streaming"
    clock.advance(seconds=120)
    await run_jobs()
    assert (await chat_repo.get_message(ctx.db, found["message_id"]))["status"] == "failed"
