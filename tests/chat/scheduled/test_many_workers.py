"""Several `clonechats worker` processes on one embedded database deliver every due item once,
even when one of them is killed mid-delivery.

Real subprocesses of `python -m clonechats worker` share one data directory (the embedded
engine's cross-process write lock makes each claim atomic between them). The model is a
loopback server speaking OpenAI's wire format (`tests/fakes/openai_server.py`), slow enough
(a few ms a word) that deliveries are in flight when a worker is killed with SIGKILL. Its
leases (2 s) then run out and the other workers resume what it held: the test checks one user
message, one reply and one reserve/release pair per item, balances equal to their ledgers, and
at least one delivery job that was taken over. Waiting is a bounded poll of the database:
these processes end only when told to.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from clonechats.billing import ledger
from clonechats.chat import service as chat
from clonechats.chat.scheduled import service as scheduled
from clonechats.clock import Clock, FrozenClock
from clonechats.context import open_context
from clonechats.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import make_persona, make_user
from tests.fakes.openai_server import OpenAIServer

ITEMS, USERS, WORKERS = 500, 25, 3
KILL_AFTER = 120
LIMIT_S = 240.0
GRANT = 1000

WORKER_SETTINGS = {
    "CLONECHATS_SECRET_KEY": TEST_SECRET,
    "CLONECHATS_LOG_JSON": "1",
    "CLONECHATS_LOG_LEVEL": "WARNING",
    "CLONECHATS_JOBS__LEASE_SECONDS": "2",
    "CLONECHATS_JOBS__POLL_SECONDS": "0.05",
    "CLONECHATS_JOBS__CONCURRENCY": "4",
    "CLONECHATS_CHAT__MOOD_SIGNALS": "false",
    "CLONECHATS_CHAT__MAX_REPLY_TOKENS": "8",
    "CLONECHATS_CHAT__GENERATION_LEASE_SECONDS": "4",
    "CLONECHATS_CHAT__PRICES": '{"openai:*": {"prompt_per_1k": 0, "completion_per_1k": 1000,'
                               ' "minimum": 1}}',
    "CLONECHATS_ACCOUNTS__BCRYPT_ROUNDS": "4",
    "CLONECHATS_DEV_MODE": "1",
}


def environment(data_dir: Path, server: OpenAIServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLONECHATS_")}
    env.update(WORKER_SETTINGS, CLONECHATS_DATA_DIR=str(data_dir), **server.environment())
    return env


async def seed(settings: Settings) -> list[str]:
    """USERS members with credits, and ITEMS scheduled messages already due, one per
    conversation, made through the service as the API makes them."""
    clock = FrozenClock(Clock().now() - timedelta(minutes=5))
    ctx = await open_context(settings, clock=clock)
    ids = []
    try:
        users = [await make_user(ctx, email=f"m{n}@example.com") for n in range(USERS)]
        for user in users:
            await ledger.apply(ctx.db, user_id=user["_id"], delta=GRANT, kind=ledger.GRANT,
                               reason="test", idempotency_key=f"grant:{user['_id']}",
                               now=clock.now())
            user["persona"] = await make_persona(ctx, owner_id=user["_id"])

        async def one(n: int) -> str:
            user = users[n % USERS]
            conversation = await chat.create(ctx, user_id=user["_id"],
                                             persona_id=user["persona"]["_id"])
            item = await scheduled.create(
                ctx, user=user, conversation_id=conversation["_id"], text=f"note {n}",
                send_at=(clock.now() + timedelta(seconds=1)).isoformat(), kind="message")
            return item["_id"]

        for start in range(0, ITEMS, 10):  # the moderation calls overlap the writes
            ids += await asyncio.gather(*(one(n) for n in range(start, start + 10)))
    finally:
        await ctx.close()
    return ids


async def delivered_count(db) -> int:
    return await db.scheduled_messages.count_documents({"status": "delivered"})


async def watch(settings: Settings, workers: list[subprocess.Popen]) -> None:
    """Kill the first worker once KILL_AFTER items are delivered; return when all are."""
    ctx = await open_context(settings)
    try:
        deadline = time.monotonic() + LIMIT_S
        killed = False
        while time.monotonic() < deadline:
            done = await delivered_count(ctx.db)
            if not killed and done >= KILL_AFTER:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
                killed = True
            if done == ITEMS:
                return
            for worker in workers[1:]:
                assert worker.poll() is None, "a worker exited on its own"
            await asyncio.sleep(0.25)
        pytest.fail(f"only {await delivered_count(ctx.db)} of {ITEMS} delivered in {LIMIT_S} s")
    finally:
        await ctx.close()


async def check(settings: Settings, ids: list[str]) -> None:
    ctx = await open_context(settings)
    db = ctx.db
    try:
        items = await db.scheduled_messages.find({}).to_list()
        assert Counter(i["status"] for i in items) == {"delivered": ITEMS}
        assert {i["_id"] for i in items} == set(ids)
        messages = await db.messages.find({}).to_list()
        assert len(messages) == 2 * ITEMS
        per_item = Counter((m["scheduled_id"], m["role"]) for m in messages)
        assert set(per_item.values()) == {1} and len(per_item) == 2 * ITEMS
        assert all(m["status"] == "complete" and m["superseded_by"] is None for m in messages)
        replies = {m["_id"]: m for m in messages if m["role"] == "assistant"}
        for item in items:
            assert item["message_ids"][1] in replies
            assert replies[item["message_ids"][1]]["text"] == f"Reply to: {item['text']}"
        entries = await db.credit_ledger.find({"kind": {"$in": ["reserve", "release"]}}).to_list()
        assert all(e["status"] == "applied" for e in entries)
        keys = Counter(e["_id"] for e in entries)
        assert set(keys.values()) == {1}
        assert {k.split(":", 1)[1] for k in keys} == set(replies)
        assert Counter(e["kind"] for e in entries) == {"reserve": ITEMS, "release": ITEMS}
        for user in await db.users.find({}).to_list():
            assert user["credits"] == GRANT - 4 * (ITEMS // USERS)  # four words a reply
            assert user["credits"] == await ledger.applied_sum(db, user["_id"])
        conversations = await db.conversations.find({}).to_list()
        assert all(c["generating"] is None and c["message_seq"] >= 2 for c in conversations)
        jobs = await db.jobs.find({"kind": scheduled.DELIVER_JOB}).to_list()
        assert max(j["attempts"] for j in jobs) >= 2, "no delivery was taken over"
    finally:
        await ctx.close()


def test_three_workers_deliver_500_items_once_with_one_killed(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    with OpenAIServer(chunk_delay=0.004, words=4) as server:
        env = environment(data_dir, server)
        for name, value in env.items():
            if name.startswith("CLONECHATS_"):
                monkeypatch.setenv(name, value)
        settings = Settings(_env_file=None)
        ids = asyncio.run(seed(settings))
        logs = [(tmp_path / f"worker{n}.log").open("wb") for n in range(WORKERS)]
        workers = [subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "clonechats", "worker", "--data-dir", str(data_dir)],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path) for log in logs]
        try:
            asyncio.run(watch(settings, workers))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            for log in logs:
                log.close()
        assert workers[0].returncode == -signal.SIGKILL
        asyncio.run(check(settings, ids))
        assert server.requests >= ITEMS
