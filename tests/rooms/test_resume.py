"""A room whose process died mid-turn is resumed by the jobs: the same turn is written again
(as its next attempt), never a second one, and the lost attempt costs nothing."""

import asyncio
from datetime import timedelta

from clonechats.rooms import repo
from tests.rooms.conftest import debate, room_of


def kill_heartbeats() -> None:
    """A dead process's runner no longer renews its job's lease."""
    for task in asyncio.all_tasks():
        if task.get_coro().__name__ == "_keep_lease":
            task.cancel()


async def test_a_killed_process_is_resumed_with_exactly_one_turn_per_seq(
        ann, ctx, fake_llm, run_jobs, clock):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=2)
    fake_llm.enqueue(["Ada one."])
    dying = fake_llm.enqueue(["Bo begins. ", "Bo was cut off"], pause_after=1)
    for text in ("Bo one, again.", "Ada two.", "Bo two.", "Sum."):
        fake_llm.enqueue([text])
    before = await ann.balance()
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")

    runner = asyncio.create_task(run_jobs())
    await dying.paused.wait()  # Bo's first turn has shown its first sentence
    held = (await repo.get_room(ctx.db, room["id"]))["driver"]
    streaming = await ctx.db.room_turns.find_one({"room_id": room["id"], "status": "streaming"})
    assert streaming["speaker"]["persona_id"] == bo["_id"]
    runner.cancel()  # the process dies here ...
    await asyncio.gather(runner, return_exceptions=True)
    kill_heartbeats()
    # ... without cleaning up: its job and its hold on the room stay as they were
    await ctx.db.rooms.update_one({"_id": room["id"]}, {"$set": {"driver": held}})
    job = await ctx.db.jobs.find_one({"kind": "rooms.advance", "status": "running"})
    assert job is not None

    assert await run_jobs() == 0  # nothing is due while the leases hold
    clock.advance(seconds=ctx.settings.jobs.lease_seconds + 1)
    await run_jobs()

    room = await room_of(ann, room["id"])
    assert room["status"] == "finished" and room["summary"] == "Sum."
    turns = room["turns"]
    seqs = [t["seq"] for t in turns]
    assert seqs == list(range(1, len(turns) + 1))
    stored = await ctx.db.room_turns.find({"room_id": room["id"]}).to_list()
    assert len({t["step_key"] for t in stored}) == len(stored) == len(turns)
    args = [(t["speaker"]["persona_id"], t["text"]) for t in turns if t["kind"] == "argument"]
    assert args == [(ada["_id"], "Ada one."), (bo["_id"], "Bo one, again."),
                    (ada["_id"], "Ada two."), (bo["_id"], "Bo two.")]
    resumed = next(t for t in stored if t["_id"] == streaming["_id"])
    assert resumed["attempt"] == 2 and resumed["status"] == "complete"
    # the lost attempt's reservation came back whole: only delivered turns were charged
    assert room["credits_charged"] == 5
    assert await ann.balance() == before - 5
    # viewers were told to start that turn afresh
    events = await ctx.db.room_events.find({"room_id": room["id"], "name": "turn"}).to_list()
    assert [e["data"]["attempt"] for e in events if e["data"]["turn_id"] == resumed["_id"]] == [
        1, 2]


async def test_a_run_that_finds_the_room_held_looks_again_later(ann, ctx, fake_llm, run_jobs,
                                                                clock):
    ada = await ann.persona(name="Ada")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1)
    until = clock.now() + timedelta(seconds=30)
    await ctx.db.rooms.update_one({"_id": room["id"]},
                                  {"$set": {"driver": {"owner": "other", "until": until}}})
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()
    assert await ctx.db.room_turns.count_documents({"room_id": room["id"]}) == 0
    clock.advance(seconds=32)
    await run_jobs()
    assert (await room_of(ann, room["id"]))["status"] == "finished"
