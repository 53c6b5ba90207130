"""The lease-based job runner: exactly-once claims, lease expiry, retries, dead letters."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from clonechats.clock import FrozenClock
from clonechats.jobs import repo
from clonechats.jobs.runner import JobRunner
from clonechats.jobs.service import JobRegistry, enqueue
from clonechats.settings import JobSettings
from clonechats.storage import Connection, apply_indexes, connect
from tests.storage.engines import ENGINES, mongodb_url, open_engine

LEASE = 60.0


@pytest.fixture(params=ENGINES)
async def connection(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Connection]:
    async with open_engine(request.param, tmp_path / "data") as opened:
        await apply_indexes(opened.db, repo.INDEXES)
        yield opened


@pytest.fixture
def db(connection: Connection) -> Any:
    return connection.db


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))  # whole seconds: stored exactly


@pytest.fixture
def registry() -> JobRegistry:
    return JobRegistry()


def make_runner(db: Any, registry: JobRegistry, clock: FrozenClock, owner: str,
                **settings: Any) -> JobRunner:
    values: dict[str, Any] = {"lease_seconds": LEASE, "backoff_base_seconds": 1.0,
                              "poll_seconds": 0.01}
    values.update(settings)
    return JobRunner(db=db, registry=registry, context=None, clock=clock,
                     settings=JobSettings(**values), owner=owner)


async def open_second_connection(connection: Connection, data_dir: Path) -> Connection:
    """Another client on the same database, as a second process would open it."""
    if connection.engine == "embedded":
        return await connect(None, data_dir=data_dir)
    return await connect(mongodb_url(), data_dir=data_dir, name=connection.db.name)


async def enqueue_many(db: Any, clock: FrozenClock, count: int, kind: str = "test.record") -> None:
    for number in range(count):
        await enqueue(db, kind, {"n": number}, clock=clock)


def recording_handler(registry: JobRegistry, executed: list[int]) -> None:
    async def record(payload: dict[str, Any], context: Any) -> None:
        await asyncio.sleep(0)  # let the other runner interleave
        executed.append(payload["n"])

    registry.register("test.record", record)


async def test_two_runners_racing_on_100_jobs_run_each_exactly_once(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    executed: list[int] = []
    recording_handler(registry, executed)
    await enqueue_many(db, clock, 100)

    first = make_runner(db, registry, clock, "runner-a")
    second = make_runner(db, registry, clock, "runner-b")
    counts = await asyncio.gather(first.run_until_idle(), second.run_until_idle())

    assert sorted(executed) == list(range(100))
    assert sum(counts) == 100
    assert min(counts) > 0, "both runners took part"
    assert await repo.count_by_status(db) == {repo.DONE: 100}
    jobs = await db[repo.COLLECTION].find({}).to_list()
    assert {job["attempts"] for job in jobs} == {1}


async def test_runners_on_separate_connections_to_one_store_run_each_job_once(
    connection: Connection, registry: JobRegistry, clock: FrozenClock, tmp_path: Path
) -> None:
    """Two clients on the same files (or server): claims stay exclusive across them."""
    executed: list[int] = []
    recording_handler(registry, executed)
    await enqueue_many(connection.db, clock, 100)
    other = await open_second_connection(connection, tmp_path / "data")
    try:
        first = make_runner(connection.db, registry, clock, "runner-a")
        second = make_runner(other.db, registry, clock, "runner-b")
        counts = await asyncio.gather(first.run_until_idle(), second.run_until_idle())
    finally:
        await other.close()

    duplicates = [n for n, times in Counter(executed).items() if times > 1]
    assert duplicates == []
    assert sorted(executed) == list(range(100))
    assert sum(counts) == 100
    assert await repo.count_by_status(connection.db) == {repo.DONE: 100}


async def test_job_of_a_runner_that_died_runs_again_after_its_lease_expires(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    executed: list[int] = []
    recording_handler(registry, executed)
    job = await enqueue(db, "test.record", {"n": 7}, clock=clock)

    claimed = await repo.claim_next(db, owner="runner-that-dies", now=clock.now(),
                                    lease=timedelta(seconds=LEASE))
    assert claimed is not None and claimed["_id"] == job["_id"]
    survivor = make_runner(db, registry, clock, "survivor")

    assert await survivor.run_until_idle() == 0  # the lease still holds
    clock.advance(seconds=LEASE - 1)
    assert await survivor.run_until_idle() == 0
    clock.advance(seconds=2)
    assert await survivor.run_until_idle() == 1

    assert executed == [7]
    stored = await repo.get(db, job["_id"])
    assert (stored["status"], stored["attempts"]) == (repo.DONE, 2)
    # the dead runner coming back cannot overwrite the outcome
    assert not await repo.finish(db, job["_id"], owner="runner-that-dies", now=clock.now())
    assert await survivor.run_until_idle() == 0


async def test_lease_is_renewed_while_a_job_runs(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    lease = 0.05  # renewed every lease/3 seconds of real time
    other = make_runner(db, registry, clock, "other", lease_seconds=lease)
    observed: dict[str, Any] = {}

    async def long_job(payload: dict[str, Any], context: Any) -> None:
        first_until = (await repo.get(db, job["_id"]))["lease_until"]
        clock.advance(seconds=10)  # far past the first lease

        async def renewed() -> Any:
            while True:
                until = (await repo.get(db, job["_id"]))["lease_until"]
                if until > first_until:
                    return until
                await asyncio.sleep(0.005)

        observed["renewed_until"] = await asyncio.wait_for(renewed(), timeout=10)
        observed["stolen"] = await other.run_once()

    registry.register("test.long", long_job)
    job = await enqueue(db, "test.long", {}, clock=clock)
    runner = make_runner(db, registry, clock, "owner", lease_seconds=lease)
    assert await runner.run_until_idle() == 1

    assert observed["renewed_until"] > clock.now()
    assert observed["stolen"] is False
    stored = await repo.get(db, job["_id"])
    assert (stored["status"], stored["attempts"]) == (repo.DONE, 1)


async def test_failing_job_is_retried_with_growing_backoff_then_dead_lettered(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    attempts: list[int] = []

    async def always_fails(payload: dict[str, Any], context: Any) -> None:
        attempts.append(len(attempts) + 1)
        raise RuntimeError(f"vendor unavailable (try {len(attempts)})")

    registry.register("test.fails", always_fails)
    job = await enqueue(db, "test.fails", {}, clock=clock, max_attempts=4)
    runner = make_runner(db, registry, clock, "runner", backoff_base_seconds=1.0)

    delays = []
    for _ in range(3):
        assert await runner.run_until_idle() == 1
        stored = await repo.get(db, job["_id"])
        assert stored["status"] == repo.QUEUED
        delay = (stored["run_at"] - clock.now()).total_seconds()
        delays.append(delay)
        assert await runner.run_until_idle() == 0  # not due before its backoff
        clock.advance(seconds=delay)

    assert delays == [1.0, 2.0, 4.0]
    assert await runner.run_until_idle() == 1
    stored = await repo.get(db, job["_id"])
    assert stored["status"] == repo.DEAD
    assert stored["attempts"] == 4
    assert stored["last_error"] == "RuntimeError: vendor unavailable (try 4)"
    assert stored["finished_at"] == clock.now()
    assert attempts == [1, 2, 3, 4]

    clock.advance(days=1)
    assert await runner.run_until_idle() == 0  # dead letters stay dead
    assert await repo.count_by_status(db) == {repo.DEAD: 1}


async def test_backoff_is_capped(db: Any, registry: JobRegistry, clock: FrozenClock) -> None:
    async def fails(payload: dict[str, Any], context: Any) -> None:
        raise ValueError("no")

    registry.register("test.fails", fails)
    job = await enqueue(db, "test.fails", {}, clock=clock, max_attempts=10)
    runner = make_runner(db, registry, clock, "runner", backoff_base_seconds=2.0,
                         backoff_max_seconds=5.0)
    delays = []
    for _ in range(4):
        await runner.run_until_idle()
        delay = ((await repo.get(db, job["_id"]))["run_at"] - clock.now()).total_seconds()
        delays.append(delay)
        clock.advance(seconds=delay)
    assert delays == [2.0, 4.0, 5.0, 5.0]


async def test_job_that_fails_then_succeeds_is_done(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    calls: list[str] = []

    async def flaky(payload: dict[str, Any], context: Any) -> None:
        calls.append("call")
        if len(calls) < 3:
            raise ConnectionError("try again")

    registry.register("test.flaky", flaky)
    job = await enqueue(db, "test.flaky", {}, clock=clock)
    runner = make_runner(db, registry, clock, "runner")
    for _ in range(3):
        assert await runner.run_until_idle() == 1
        clock.advance(minutes=1)
    stored = await repo.get(db, job["_id"])
    assert (stored["status"], stored["attempts"], len(calls)) == (repo.DONE, 3, 3)


async def test_error_marked_not_retryable_is_dead_lettered_at_once(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    class Rejected(Exception):
        retryable = False

    async def rejected(payload: dict[str, Any], context: Any) -> None:
        raise Rejected("the vendor refused this request")

    registry.register("test.rejected", rejected)
    job = await enqueue(db, "test.rejected", {}, clock=clock, max_attempts=5)
    assert await make_runner(db, registry, clock, "runner").run_until_idle() == 1
    stored = await repo.get(db, job["_id"])
    assert (stored["status"], stored["attempts"]) == (repo.DEAD, 1)


async def test_unknown_job_kind_is_dead_lettered_without_retries(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    job = await enqueue(db, "nobody.handles.this", {"x": 1}, clock=clock, max_attempts=5)
    runner = make_runner(db, registry, clock, "runner")
    assert await runner.run_until_idle() == 1
    clock.advance(hours=1)
    assert await runner.run_until_idle() == 0

    stored = await repo.get(db, job["_id"])
    assert (stored["status"], stored["attempts"]) == (repo.DEAD, 1)
    assert "nobody.handles.this" in stored["last_error"]


async def test_job_whose_lease_expired_too_often_is_dead_lettered_without_running(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    executed: list[int] = []
    recording_handler(registry, executed)
    job = await enqueue(db, "test.record", {"n": 1}, clock=clock, max_attempts=2)
    for owner in ("crashes-first", "crashes-second"):
        assert await repo.claim_next(db, owner=owner, now=clock.now(),
                                     lease=timedelta(seconds=LEASE)) is not None
        clock.advance(seconds=LEASE + 1)

    assert await make_runner(db, registry, clock, "runner").run_until_idle() == 1
    stored = await repo.get(db, job["_id"])
    assert stored["status"] == repo.DEAD
    assert "lease expired" in stored["last_error"]
    assert executed == []


async def test_enqueue_with_a_dedupe_key_returns_the_same_job(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    first = await enqueue(db, "test.record", {"n": 1}, clock=clock, dedupe_key="grant:u1:2026-03")
    again = await enqueue(db, "test.record", {"n": 2}, clock=clock, dedupe_key="grant:u1:2026-03")
    other = await enqueue(db, "test.record", {"n": 3}, clock=clock, dedupe_key="grant:u2:2026-03")
    plain = [await enqueue(db, "test.record", {"n": n}, clock=clock) for n in (4, 5)]

    assert again["_id"] == first["_id"]
    assert again["payload"] == {"n": 1}
    assert len({first["_id"], other["_id"], *(job["_id"] for job in plain)}) == 4
    assert await db[repo.COLLECTION].count_documents({}) == 4

    executed: list[int] = []
    recording_handler(registry, executed)
    await make_runner(db, registry, clock, "runner").run_until_idle()
    done_again = await enqueue(db, "test.record", {"n": 9}, clock=clock,
                               dedupe_key="grant:u1:2026-03")
    assert done_again["_id"] == first["_id"] and done_again["status"] == repo.DONE
    assert sorted(executed) == [1, 3, 4, 5]


async def test_job_due_later_waits_for_its_time(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    executed: list[int] = []
    recording_handler(registry, executed)
    await enqueue(db, "test.record", {"n": 1}, clock.now() + timedelta(hours=2), clock=clock)
    await enqueue(db, "test.record", {"n": 2}, clock=clock)
    runner = make_runner(db, registry, clock, "runner")

    assert await runner.run_until_idle() == 1
    assert executed == [2]
    clock.advance(hours=2)
    assert await runner.run_until_idle() == 1
    assert executed == [2, 1]


async def test_run_forever_runs_jobs_concurrently_up_to_its_limit_and_stops(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    running = 0
    peak = 0
    finished: list[int] = []
    all_finished = asyncio.Event()
    full = asyncio.Event()

    async def job(payload: dict[str, Any], context: Any) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            full.set()
        await full.wait()
        running -= 1
        finished.append(payload["n"])
        if len(finished) == 9:
            all_finished.set()

    registry.register("test.record", job)
    await enqueue_many(db, clock, 9)
    runner = make_runner(db, registry, clock, "runner", concurrency=3)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_forever(stop))
    try:
        await asyncio.wait_for(all_finished.wait(), timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)

    assert sorted(finished) == list(range(9))
    assert peak == 3
    assert await repo.count_by_status(db) == {repo.DONE: 9}


async def test_finished_jobs_are_pruned_after_their_keep_time_and_dead_ones_stay(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    executed: list[int] = []
    recording_handler(registry, executed)

    async def fails(payload: dict[str, Any], context: Any) -> None:
        raise ValueError("no")

    registry.register("test.fails", fails)
    await enqueue_many(db, clock, 3)
    await enqueue(db, "test.fails", {}, clock=clock, max_attempts=1)
    runner = make_runner(db, registry, clock, "pruner", keep_done_hours=48)
    assert await runner.run_until_idle() == 4
    assert await runner.prune_when_due() == 0  # finished just now: kept
    later = await enqueue(db, "test.record", {"n": 9}, clock=clock,
                          run_at=clock.now() + timedelta(hours=47))
    clock.advance(hours=49)
    assert await runner.run_until_idle() == 1
    assert await runner.prune_when_due() == 3
    assert await runner.prune_when_due() == 0  # not again within PRUNE_EVERY
    left = {job["_id"]: job["status"] for job in await db.jobs.find({}).to_list()}
    assert sorted(left.values()) == [repo.DEAD, repo.DONE] and later["_id"] in left


async def test_a_due_job_is_taken_before_an_expired_lease_and_both_run(
    db: Any, registry: JobRegistry, clock: FrozenClock
) -> None:
    executed: list[int] = []
    recording_handler(registry, executed)
    await enqueue(db, "test.record", {"n": 1}, clock=clock)
    await repo.claim_next(db, owner="gone", now=clock.now(), lease=timedelta(seconds=LEASE))
    clock.advance(seconds=LEASE + 1)
    await enqueue(db, "test.record", {"n": 2}, clock=clock)
    runner = make_runner(db, registry, clock, "survivor")
    assert await runner.run_until_idle() == 2
    assert executed == [2, 1]
