"""The job that drives a debate: `rooms.advance` {room_id}, one step per run.

Each run takes the room's lease (`driver`, one conditional update) so no two jobs ever write one
room, then: turns the waiting interjections and moderator actions into turns; if the room was
stopped (or ran out of credits), closes it; otherwise writes the next step (the next planned
step of an auto-moderated debate, or the speaker the user gave the floor to) and moves the
room's pointer on with a conditional update. It releases the lease and queues the next run
while work remains. Turns are therefore written strictly in order, one at a time, by whichever
process's runner claims the job.

If the process dies mid-step its job's lease runs out and another runner claims the job again;
the room's own lease runs out too, and the step is resumed where it was (`rooms.turns`: the same
turn, as its next attempt; never a second turn). A run that finds the room held by a live lease
looks again when that lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from clonechats.jobs.service import JobRegistry
from clonechats.rooms import closing, plan, repo, turns
from clonechats.rooms.metering import InsufficientCredits
from clonechats.rooms.writing import Driver, LeaseLost

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

ADVANCE_JOB = "rooms.advance"
COMPACT_JOB = "rooms.compact_events"
LEASE_GRACE_SECONDS = 1
FAILURES_BEFORE_GIVING_UP = 2
OUT_OF_CREDITS = ("The debate stopped because the owner's credits ran out. Buy credits and "
                  "start a new debate to go on.")
PROVIDER_DOWN = "The debate stopped because the model is not available right now."


async def queue_advance(ctx: Ctx, room_id: str) -> None:
    await ctx.enqueue(ADVANCE_JOB, {"room_id": room_id})


async def advance(payload: dict[str, Any], ctx: Ctx) -> None:
    room_id = payload["room_id"]
    owner = secrets.token_hex(8)
    driver = Driver(ctx, room_id, owner)
    room = await repo.take_driver(ctx.db, room_id, owner=owner, now=ctx.clock.now(),
                                  until=driver.lease_until())
    if room is None:
        held = await repo.get_room(ctx.db, room_id)
        if held is not None and held.get("driver"):
            later = held["driver"]["until"] + timedelta(seconds=LEASE_GRACE_SECONDS)
            await ctx.enqueue(ADVANCE_JOB, payload, run_at=later,
                              dedupe_key=f"{ADVANCE_JOB}:{room_id}:{later.isoformat()}")
        return
    more = False
    heartbeat = asyncio.create_task(_keep_lease(ctx, room_id, owner))
    try:
        more = await step(ctx, driver, room)
    except LeaseLost:
        log.warning("a debate job lost its room to another job", extra={"room_id": room_id})
        return
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        await repo.release_driver(ctx.db, room_id, owner=owner)
    room = await repo.get_room(ctx.db, room_id)
    if room is not None and (more or room.get("pending") or (
            room["status"] in repo.ENDED and not room.get("closed"))):
        await queue_advance(ctx, room_id)


async def _keep_lease(ctx: Ctx, room_id: str, owner: str) -> None:
    """Keep the room while a step waits on something slow (a queued local model, a moderator
    loading its classifiers), so no other job takes it from a live one."""
    every = ctx.settings.rooms.lease_seconds / 3
    while True:
        await asyncio.sleep(every)
        until = ctx.clock.now() + timedelta(seconds=ctx.settings.rooms.lease_seconds)
        if await repo.renew_driver(ctx.db, room_id, owner=owner, until=until) is None:
            return


async def step(ctx: Ctx, driver: Driver, room: dict[str, Any]) -> bool:
    """Do one step of the room; True when another step follows at once."""
    for item in list(room.get("pending") or []):
        await _pending(ctx, driver, room, item)
        await repo.pop_pending(ctx.db, room["_id"], owner=driver.owner, item_id=item["id"])
    room = await driver.renew(force=True)
    if room["status"] in repo.ENDED:
        await _close(ctx, driver, room)
        return False
    if room["status"] != repo.RUNNING:
        return False
    try:
        if room["moderator"] == "auto":
            return await _auto_step(ctx, driver, room)
        return await _user_step(ctx, driver, room)
    except InsufficientCredits:
        await _end(ctx, driver, room, status=repo.STOPPED, reason="insufficient_credits",
                   message=OUT_OF_CREDITS)
        return True


async def _pending(ctx: Ctx, driver: Driver, room: dict[str, Any], item: dict[str, Any]) -> None:
    key = f"p-{item['id']}"
    if item["kind"] == "interjection":
        await turns.say(ctx, driver, room, step_key=key, kind="interjection",
                        round_no=_round_now(room), text=item["text"],
                        speaker=turns.speaker_of(plan.USER))
    elif item["kind"] == "warning":
        await turns.say(ctx, driver, room, step_key=key, kind="warning",
                        round_no=_round_now(room), text=item["text"],
                        speaker=turns.speaker_of(plan.USER))
    elif item["kind"] == "notice":
        await turns.say(ctx, driver, room, step_key=key, kind="notice",
                        round_no=_round_now(room), text=item["text"])


def _round_now(room: dict[str, Any]) -> int:
    if room["moderator"] == "auto":
        steps = plan.auto_steps(room)
        return steps[min(room.get("step", 0), len(steps) - 1)].round
    return int(room.get("round") or 0)


async def _auto_step(ctx: Ctx, driver: Driver, room: dict[str, Any]) -> bool:
    steps = plan.auto_steps(room)
    index = room.get("step", 0)
    if index >= len(steps):
        await _end(ctx, driver, room, status=repo.FINISHED, reason=None, message=None)
        return True
    current = steps[index]
    failed: bool | None = None  # a moderator step leaves the count of failed turns alone
    if current.kind == "opening":
        await turns.say(ctx, driver, room, step_key=current.key, kind="opening", round_no=0,
                        text=plan.opening_line(room))
    elif current.kind == "introduction":
        await turns.say(ctx, driver, room, step_key=current.key, kind="introduction",
                        round_no=1, text=plan.introduction_line(room, current.persona_id))
    elif current.kind == "round":
        await turns.say(ctx, driver, room, step_key=current.key, kind="round",
                        round_no=current.round, text=plan.round_line(room, current.round))
    elif current.kind == "closing":
        await turns.say(ctx, driver, room, step_key=current.key, kind="closing",
                        round_no=current.round, text=plan.closing_line(room, stopped=False))
    elif current.kind == "summary":
        await closing.write_summary(ctx, driver, room)
    else:
        person = plan.participant(room, current.persona_id) or {}
        if not person.get("left"):
            failed = await _argue(ctx, driver, room, step_key=current.key,
                                  round_no=current.round, persona_id=current.persona_id)
    return await _move_on(ctx, driver, room, {"step": index + 1}, {"step": index},
                          failed=failed)


async def _argue(ctx: Ctx, driver: Driver, room: dict[str, Any], *, step_key: str,
                 round_no: int, persona_id: str) -> bool:
    """A speaker's turn with the moderator's follow-up; True if the turn failed."""
    done = await turns.speak(ctx, driver, room, step_key=step_key, round_no=round_no,
                             persona_id=persona_id)
    if done is None:
        return False
    name = (plan.participant(room, persona_id) or {}).get("name", "The speaker")
    if done["status"] == repo.BLOCKED:
        reason = (done.get("moderation") or {}).get("reason")
        await turns.say(ctx, driver, room, step_key=f"{step_key}-withheld", kind="notice",
                        round_no=round_no, text=plan.withheld_line(name, reason))
    elif done.get("trimmed") and room["moderator"] == "auto":
        await turns.say(ctx, driver, room, step_key=f"{step_key}-time", kind="notice",
                        round_no=round_no, text=plan.over_time_line(name,
                                                                    room["max_turn_words"]))
    elif done["status"] == repo.TURN_FAILED:
        await turns.say(ctx, driver, room, step_key=f"{step_key}-failed", kind="notice",
                        round_no=round_no, text=plan.failed_line(name))
        return True
    return False


async def _move_on(ctx: Ctx, driver: Driver, room: dict[str, Any], changes: dict[str, Any],
                   expected: dict[str, Any], *, failed: bool | None) -> bool:
    failures = room.get("failures", 0)
    if failed is not None:
        failures = failures + 1 if failed else 0
    moved = await repo.update_room(ctx.db, room["_id"], {**expected, "driver.owner": driver.owner},
                                   {**changes, "failures": failures,
                                    "updated_at": ctx.clock.now()})
    if moved is None:
        raise LeaseLost()
    if failures >= FAILURES_BEFORE_GIVING_UP:
        await _end(ctx, driver, moved, status=repo.FAILED, reason="provider_unavailable",
                   message=PROVIDER_DOWN)
    return True


async def _user_step(ctx: Ctx, driver: Driver, room: dict[str, Any]) -> bool:
    floor = room.get("floor")
    spoken = await spoken_counts(ctx, room)
    if not floor:
        if spoken and plan.user_mode_done(room, spoken):  # the last speakers were muted
            await _end(ctx, driver, room, status=repo.FINISHED, reason=None, message=None)
            return True
        return False
    failed = False
    if plan.user_turns_left(room, spoken, floor["persona_id"]) > 0:
        failed = await _argue(ctx, driver, room, step_key=f"f-{floor['id']}",
                              round_no=spoken.get(floor["persona_id"], 0) + 1,
                              persona_id=floor["persona_id"])
    room_round = max(spoken.values(), default=0)
    await _move_on(ctx, driver, room, {"floor": None, "round": room_round},
                   {"floor.id": floor["id"]}, failed=failed)
    if plan.user_mode_done(room, await spoken_counts(ctx, room)):
        await _end(ctx, driver, room, status=repo.FINISHED, reason=None, message=None)
    return True


async def spoken_counts(ctx: Ctx, room: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for turn in await repo.turns_of(ctx.db, room["_id"]):
        if turn["kind"] == "argument" and turn["status"] != repo.STREAMING:
            persona_id = turn["speaker"].get("persona_id")
            counts[persona_id] = counts.get(persona_id, 0) + 1
    return counts


async def _end(ctx: Ctx, driver: Driver, room: dict[str, Any], *, status: str,
               reason: str | None, message: str | None) -> None:
    now = ctx.clock.now()
    ended = await repo.update_room(ctx.db, room["_id"], {"status": repo.RUNNING},
                                   {"status": status, "reason": reason, "finished_at": now,
                                    "updated_at": now})
    if ended is not None:
        await driver.emit("status", {"status": status, "reason": reason, "message": message})


async def _close(ctx: Ctx, driver: Driver, room: dict[str, Any]) -> None:
    """Everything an ended room still owes: the closing line of a stopped debate, the summary,
    a requested verdict. Then the room is closed (viewers' streams end)."""
    if room["status"] != repo.FINISHED and room.get("started_at") and not room.get("summary"):
        await turns.say(ctx, driver, room, step_key="c-closing", kind="closing",
                        round_no=_round_now(room), text=plan.closing_line(room, stopped=True))
    if room.get("started_at"):
        await closing.write_summary(ctx, driver, await driver.renew(force=True))
    await closing.write_verdict(ctx, driver, await driver.renew(force=True))
    closed = await repo.update_room(ctx.db, room["_id"], {"driver.owner": driver.owner},
                                    {"closed": True, "updated_at": ctx.clock.now()})
    if closed is not None:
        later = ctx.clock.now() + timedelta(seconds=ctx.settings.rooms.compact_after_seconds)
        await ctx.enqueue(COMPACT_JOB, {"room_id": room["_id"]}, run_at=later)


async def compact_events(payload: dict[str, Any], ctx: Ctx) -> None:
    """`rooms.compact_events`: a closed room's token events go; its `turn_end` events carry
    each turn's whole text, so a late viewer still replays the whole debate."""
    room = await repo.get_room(ctx.db, payload["room_id"])
    if room is not None and room.get("closed"):
        await repo.drop_token_events(ctx.db, room["_id"])


def register_jobs(registry: JobRegistry) -> None:
    registry.register(ADVANCE_JOB, advance)
    registry.register(COMPACT_JOB, compact_events)
