"""The credits ledger: clawbacks never go below zero, and the balance check proves (and
catches a break in) balance == sum of the ledger, also from the command line."""

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clonechats.billing import ledger
from clonechats.cli import app as cli
from tests.factories import make_user

runner = CliRunner()


async def funded(ctx, credits: int) -> dict:
    user = await make_user(ctx, email="ledger@example.com")
    await ledger.apply(ctx.db, user_id=user["_id"], delta=credits, kind="grant", reason="pack",
                       idempotency_key="order:1", now=ctx.clock.now())
    return user


async def test_clawback_takes_what_is_there_and_reports_the_rest(ctx):
    user = await funded(ctx, 100)
    first = await ledger.clawback(ctx.db, user_id=user["_id"], amount=150, reason="refund",
                                  idempotency_key="refund:1", now=ctx.clock.now())
    assert (first.taken, first.shortfall) == (100, 50)
    again = await ledger.clawback(ctx.db, user_id=user["_id"], amount=150, reason="refund",
                                  idempotency_key="refund:1", now=ctx.clock.now())
    assert (again.taken, again.shortfall) == (100, 50)
    assert (await ctx.db.users.find_one({"_id": user["_id"]}))["credits"] == 0
    assert await ledger.check_balances(ctx.db) == []


async def test_clawback_racing_debits_never_goes_negative(ctx):
    user = await funded(ctx, 100)

    async def debit(n: int) -> None:
        with contextlib.suppress(ledger.InsufficientCredits):
            await ledger.apply(ctx.db, user_id=user["_id"], delta=-10, kind="debit",
                               reason="chat", idempotency_key=f"chat:{n}", now=ctx.clock.now())

    results = await asyncio.gather(
        *[debit(n) for n in range(6)],
        ledger.clawback(ctx.db, user_id=user["_id"], amount=80, reason="refund",
                        idempotency_key="refund:1", now=ctx.clock.now()),
        *[debit(n) for n in range(6, 12)],
    )
    clawed = results[6]
    stored = (await ctx.db.users.find_one({"_id": user["_id"]}))["credits"]
    assert stored >= 0
    assert clawed.taken + clawed.shortfall == 80
    assert await ledger.check_balances(ctx.db) == []


async def test_the_check_finds_a_balance_changed_behind_the_ledgers_back(ctx):
    user = await funded(ctx, 100)
    assert await ledger.check_balances(ctx.db) == []
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$inc": {"credits": 5}})
    assert await ledger.check_balances(ctx.db) == [
        {"user_id": user["_id"], "balance": 105, "ledger_sum": 100}]


async def test_an_entry_applied_but_not_yet_marked_counts(ctx):
    user = await funded(ctx, 100)
    await ctx.db.credit_ledger.update_one({"_id": "order:1"},
                                          {"$set": {"status": "pending"}})
    assert await ledger.check_balances(ctx.db) == []  # its key is on the user: applied
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"ledger_keys": []}})
    assert await ledger.check_balances(ctx.db) == [
        {"user_id": user["_id"], "balance": 100, "ledger_sum": 0}]


@pytest.fixture
def data_dir(settings) -> Iterator[Path]:
    """The app's data directory, for a command run beside it; the command's logging set-up is
    undone afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield settings.data_dir
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_check_ledger_command(ctx, data_dir, monkeypatch):
    for name in ("CLONECHATS_DATA_DIR", "CLONECHATS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    if ctx.settings.uses_mongodb:  # the command opens the same database as the app
        monkeypatch.setenv("CLONECHATS_DATABASE_URL", ctx.settings.database_url)
        monkeypatch.setenv("CLONECHATS_DATABASE_NAME", ctx.settings.database_name)
    monkeypatch.setenv("CLONECHATS_SECRET_KEY", ctx.secret)
    user = await funded(ctx, 100)

    def run() -> object:
        return runner.invoke(cli, ["admin", "check-ledger", "--data-dir", str(data_dir)])

    ok = await asyncio.to_thread(run)
    assert ok.exit_code == 0, ok.output
    assert "every balance equals the sum of its ledger" in ok.output
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$inc": {"credits": 7}})
    broken = await asyncio.to_thread(run)
    assert broken.exit_code == 1
    assert f"mismatch {user['_id']}: balance 107, ledger 100" in broken.output


async def test_chat_reservations_count_as_spending_net_of_releases(ctx):
    from datetime import timedelta

    user = await make_user(ctx, email="spender@example.com")
    now = ctx.clock.now()
    await ledger.apply(ctx.db, user_id=user["_id"], delta=100, kind=ledger.GRANT,
                       reason="test", idempotency_key="grant:spender", now=now)
    await ledger.apply(ctx.db, user_id=user["_id"], delta=-30, kind=ledger.RESERVE,
                       reason="reply", idempotency_key="reserve:m1", now=now)
    await ledger.apply(ctx.db, user_id=user["_id"], delta=22, kind=ledger.RELEASE,
                       reason="reply", idempotency_key="release:m1", now=now)
    spent = await ledger.spent_between(ctx.db, user["_id"], start=now - timedelta(days=1),
                                       end=now + timedelta(days=1))
    assert spent == 8
