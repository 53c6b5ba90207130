"""The embedded store keeps data on disk: it survives closing and reopening, and other processes
opening the same files see committed writes."""

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clonechats.app import create_app
from clonechats.clock import FrozenClock
from clonechats.jobs import repo as jobs_repo
from clonechats.jobs.runner import JobRunner
from clonechats.storage import DuplicateKeyError, connect
from tests.conftest import make_settings


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    first = await connect(None, data_dir=tmp_path)
    await first.db.users.create_index([("email", 1)], unique=True, name="email_1")
    await first.db.users.insert_many([
        {"_id": "u1", "email": "ada@example.org", "credits": 5},
        {"_id": "u2", "email": "grace@example.org", "credits": 9},
        {"_id": "u3", "email": "alan@example.org", "credits": 1},
    ])
    await first.db.users.update_one({"_id": "u1"}, {"$inc": {"credits": 10}})
    await first.db.users.delete_one({"_id": "u3"})
    await first.db.notes.insert_one({"_id": "n1", "text": "kept"})
    await first.close()

    second = await connect(None, data_dir=tmp_path)
    try:
        users = await second.db.users.find({}).sort("_id", 1).to_list()
        assert [(u["_id"], u["credits"]) for u in users] == [("u1", 15), ("u2", 9)]
        assert await second.db.notes.find_one({"_id": "n1"}) == {"_id": "n1", "text": "kept"}
        assert {"users", "notes"} <= set(await second.db.list_collection_names())
        # the unique index was kept too
        with pytest.raises(DuplicateKeyError):
            await second.db.users.insert_one({"_id": "u9", "email": "ada@example.org"})
    finally:
        await second.close()


async def test_file_url_names_where_the_store_lives(tmp_path: Path) -> None:
    url = f"file:{tmp_path / 'elsewhere' / 'store.db'}"
    first = await connect(url, data_dir=tmp_path / "unused")
    await first.db.things.insert_one({"_id": 1, "v": "x"})
    await first.close()
    assert (tmp_path / "elsewhere" / "store.db").is_dir()
    assert not (tmp_path / "unused").exists()

    second = await connect(url, data_dir=tmp_path / "unused")
    try:
        assert await second.db.things.find_one({"_id": 1}) == {"_id": 1, "v": "x"}
    finally:
        await second.close()


async def test_app_restart_keeps_documents_and_queued_jobs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    clock = FrozenClock()
    first = create_app(settings, clock=clock)
    async with first.router.lifespan_context(first):
        ctx = first.state.ctx
        await ctx.db.profiles.insert_one({"_id": "p1", "name": "Ada"})
        job = await ctx.enqueue("test.record", {"n": 1})

    second = create_app(settings, clock=clock)
    async with second.router.lifespan_context(second):
        ctx = second.state.ctx
        assert await ctx.db.profiles.find_one({"_id": "p1"}) == {"_id": "p1", "name": "Ada"}
        seen: list[dict] = []

        async def record(payload: dict, context: object) -> None:
            seen.append(payload)

        ctx.jobs.register("test.record", record)
        runner = JobRunner(db=ctx.db, registry=ctx.jobs, context=ctx, clock=clock,
                           settings=settings.jobs)
        assert await runner.run_until_idle() == 1
        assert seen == [{"n": 1}]
        assert (await jobs_repo.get(ctx.db, job["_id"]))["status"] == jobs_repo.DONE


def run_python(code: str) -> str:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


async def test_another_process_sees_committed_writes_both_ways(tmp_path: Path) -> None:
    connection = await connect(None, data_dir=tmp_path)
    try:
        await connection.db.shared.insert_one({"_id": "from-parent", "n": 1})
        output = run_python(f"""
            import asyncio, json
            from pathlib import Path
            from clonechats.storage import connect

            async def main():
                other = await connect(None, data_dir=Path({str(tmp_path)!r}))
                seen = await other.db.shared.find_one({{"_id": "from-parent"}})
                await other.db.shared.insert_one({{"_id": "from-child", "n": 2}})
                await other.close()
                print(json.dumps(seen))

            asyncio.run(main())
        """)
        assert json.loads(output) == {"_id": "from-parent", "n": 1}
        # the still-open connection notices the other process's write
        assert await connection.db.shared.find_one({"_id": "from-child"}) == {
            "_id": "from-child", "n": 2,
        }
        assert await connection.db.shared.count_documents({}) == 2
    finally:
        await connection.close()


async def test_conditional_updates_stay_atomic_across_two_clients_of_one_store(
    tmp_path: Path,
) -> None:
    """Two clients on the same files (as `serve` and a worker would be): 40 debits of 10
    against 200 split between them, and exactly 20 succeed."""
    first = await connect(None, data_dir=tmp_path)
    second = await connect(None, data_dir=tmp_path)
    try:
        await first.db.wallets.insert_one({"_id": "w", "balance": 200})

        async def debit(db: object) -> bool:
            result = await db.wallets.find_one_and_update(  # type: ignore[attr-defined]
                {"_id": "w", "balance": {"$gte": 10}}, {"$inc": {"balance": -10}}
            )
            return result is not None

        outcomes = await asyncio.gather(
            *(debit(first.db if n % 2 else second.db) for n in range(40))
        )
        assert outcomes.count(True) == 20
        assert (await first.db.wallets.find_one({"_id": "w"}))["balance"] == 0
        assert (await second.db.wallets.find_one({"_id": "w"}))["balance"] == 0
    finally:
        await first.close()
        await second.close()
