"""Credits under concurrency: many sends at once can never overdraw a balance."""

import asyncio

from clonechats.billing import ledger
from tests.chat.conftest import MAX_REPLY, Member, member


async def test_fifty_concurrent_sends_on_a_balance_for_ten(client, ctx, fake_llm, moderator):
    ann: Member = await member(client, ctx, "ann@example.com")
    await ann.grant(10 * MAX_REPLY)
    persona = await ann.persona()
    conversations = [(await ann.conversation(persona["_id"]))["id"] for _ in range(50)]
    for _ in range(50):  # replies as long as allowed: each costs exactly its reservation
        fake_llm.enqueue([" word"] * MAX_REPLY)

    responses = await asyncio.gather(*(ann.say(cid, "Hello", stream="false")
                                       for cid in conversations))

    statuses = [r.status_code for r in responses]
    succeeded = [r for r in responses if r.status_code == 201]
    assert set(statuses) <= {201, 402}
    assert 1 <= len(succeeded) <= 10
    assert all(r.json()["error"]["code"] == "insufficient_credits"
               for r in responses if r.status_code == 402)
    balance = await ann.balance()
    assert balance >= 0
    assert balance == await ledger.applied_sum(ctx.db, ann.id)
    assert await ledger.check_balances(ctx.db) == []
    charged = sum(r.json()["message"]["credits_charged"] for r in succeeded)
    assert charged == 10 * MAX_REPLY - balance
    # every charged credit is in the ledger: a reserve per reply, less what was released
    entries = await ledger.entries_of(ctx.db, ann.id)
    spent = -sum(e["delta"] for e in entries if e["kind"] in ("reserve", "release"))
    assert spent == charged
    reserves = [e for e in entries if e["kind"] == "reserve"]
    assert len(reserves) == len(succeeded)
    assert {e["_id"] for e in reserves} == {
        f"reserve:{r.json()['message']['id']}" for r in succeeded}
    # refused sends stored nothing and never reached the model
    assert len(fake_llm.history) == len(succeeded)
    assert await ctx.db.messages.count_documents({}) == 2 * len(succeeded)
    assert await ctx.db.paywall_hits.count_documents({"user_id": ann.id}) == 50 - len(succeeded)
