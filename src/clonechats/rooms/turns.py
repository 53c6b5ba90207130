"""Writing the turns of a debate, each exactly once, and the events viewers follow.

Every turn is anchored by its `step_key` (unique in the room): a job that resumes a step after
its process died finds the turn the dead job started instead of adding a second one, settles
the lost attempt at zero and writes the turn again as its next `attempt` (viewers get the
`turn` event again and start its text afresh). A turn that already ended is left as it is.

Events per turn: `turn` {turn_id, seq, speaker, round, kind, attempt}, `token` {turn_id, text}
for each moderated sentence, `turn_end` {turn_id, status, text}. A persona's turn is metered on
the room owner's credits (`rooms.metering`); a short balance raises `InsufficientCredits`
before anything is shown, and the unshown turn is removed again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.billing import ledger
from clonechats.chat import screening
from clonechats.errors import AppError, still_there
from clonechats.personas import service as persona_service
from clonechats.providers.errors import ProviderError
from clonechats.providers.llm.base import LLMProvider, ModelInfo
from clonechats.rooms import metering, plan, prompts, repo
from clonechats.rooms.writing import Driver, Written, write
from clonechats.telemetry import events

if TYPE_CHECKING:
    from clonechats.context import Ctx


WITHHELD_TEXT = "This turn was withheld by moderation."


def model_for(ctx: Ctx, wanted: str | None) -> tuple[LLMProvider, ModelInfo]:
    """The persona's own model while it is enabled, else the operator's default."""
    return ctx.llm.resolve(wanted if wanted and ctx.llm.is_enabled(wanted) else None)


def speaker_of(kind: str, persona_id: str | None = None) -> dict[str, Any]:
    return {"type": kind, **({"persona_id": persona_id} if persona_id else {})}


def new_turn(room: dict[str, Any], *, step_key: str | None, kind: str, round_no: int,
             speaker: dict[str, Any], text: str = "", status: str = repo.STREAMING,
             now: Any) -> dict[str, Any]:
    return {"_id": repo.new_id(), "room_id": room["_id"], "owner_id": room["owner_id"],
            "step_key": step_key, "seq": 0, "round": round_no, "kind": kind,
            "speaker": speaker, "text": text, "status": status, "attempt": 1,
            "trimmed": False, "moderation": None, "model": None, "usage": None,
            "credits_charged": 0, "reserved_credits": 0, "created_at": now,
            "completed_at": now if status != repo.STREAMING else None}


def turn_event(turn: dict[str, Any]) -> dict[str, Any]:
    return {"turn_id": turn["_id"], "seq": turn["seq"], "speaker": turn["speaker"],
            "round": turn["round"], "kind": turn["kind"], "attempt": turn.get("attempt", 1)}


def end_event(turn: dict[str, Any]) -> dict[str, Any]:
    return {"turn_id": turn["_id"], "status": turn["status"], "text": turn["text"],
            "trimmed": turn.get("trimmed", False)}


async def say(ctx: Ctx, driver: Driver, room: dict[str, Any], *, step_key: str | None,
              kind: str, round_no: int, text: str,
              speaker: dict[str, Any] | None = None) -> dict[str, Any]:
    """A turn whose text is known (the moderator's lines, the user's words), once per step."""
    now = ctx.clock.now()
    turn = new_turn(room, step_key=step_key, kind=kind, round_no=round_no,
                    speaker=speaker or speaker_of(plan.MODERATOR), text=text,
                    status=repo.STREAMING, now=now)
    stored = await repo.insert_turn(ctx.db, turn)
    if stored["status"] != repo.STREAMING:
        return stored  # written by an earlier attempt of this step
    await driver.emit("turn", turn_event(stored))
    await driver.emit("token", {"turn_id": stored["_id"], "text": text})
    done = still_there(await repo.update_turn(ctx.db, stored["_id"], {
        "text": text, "status": repo.COMPLETE, "completed_at": ctx.clock.now()}))
    await driver.emit("turn_end", end_event(done))
    return done


async def _settle_lost_attempt(ctx: Ctx, turn: dict[str, Any]) -> None:
    """An attempt that died with its process: whatever it reserved comes back in full."""
    key = metering.key_of(turn["_id"], turn["attempt"])
    reserved = await ledger.get_entry(ctx.db, f"{ledger.RESERVE}:{key}")
    if reserved is not None and reserved["status"] == "applied":
        await metering.settle(ctx, owner_id=turn["owner_id"], key=key,
                              reserved=-reserved["delta"], charged=0)


async def _open_turn(ctx: Ctx, room: dict[str, Any], *, step_key: str, round_no: int,
                     persona_id: str) -> dict[str, Any] | None:
    """The turn for this step: a new one, or the one a dead job left (as its next attempt);
    None if the step's turn already ended."""
    turn = new_turn(room, step_key=step_key, kind="argument", round_no=round_no,
                    speaker=speaker_of(plan.PERSONA, persona_id), now=ctx.clock.now())
    stored = await repo.insert_turn(ctx.db, turn)
    if stored["_id"] == turn["_id"]:
        return stored
    if stored["status"] != repo.STREAMING:
        return None
    await _settle_lost_attempt(ctx, stored)
    return await repo.update_turn(ctx.db, stored["_id"], {
        "attempt": stored["attempt"] + 1, "text": "", "reserved_credits": 0,
        "trimmed": False, "moderation": None})


async def speak(ctx: Ctx, driver: Driver, room: dict[str, Any], *, step_key: str,
                round_no: int, persona_id: str) -> dict[str, Any] | None:
    """One persona's turn: written, moderated, metered, shown. Returns the ended turn, or None
    if the step had ended already. Raises InsufficientCredits (nothing shown)."""
    person = plan.participant(room, persona_id)
    try:
        persona = await persona_service.get_usable(ctx, user_id=room["owner_id"],
                                                   persona_id=persona_id)
    except persona_service.PersonaNotFound:
        persona = None
    if persona is None or person is None:
        await repo.set_participant(ctx.db, room["_id"], persona_id, {"left": True})
        await say(ctx, driver, room, step_key=step_key, kind="notice", round_no=round_no,
                  text=plan.left_line(person["name"] if person else "A speaker"))
        return None
    turn = await _open_turn(ctx, room, step_key=step_key, round_no=round_no,
                            persona_id=persona_id)
    if turn is None:
        return None
    try:
        provider, model = model_for(ctx, person.get("model"))
        history = await repo.turns_of(ctx.db, room["_id"])
        prompt = await prompts.speaker_prompt(ctx, room=room, persona=persona, turns=history,
                                              round_no=round_no, provider=provider,
                                              model=model)
        metering.price(ctx, model.id)  # an unpriced model cannot be used
    except (AppError, ProviderError, prompts.PromptTooLong) as exc:
        code = getattr(exc, "code", "prompt_too_long")
        return await _give_up(ctx, driver, turn, code)
    return await _generate(ctx, driver, room, turn, provider=provider, model=model,
                           prompt=prompt, what=f"{person['name']}'s turn",
                           word_limit=room.get("max_turn_words"))


async def _give_up(ctx: Ctx, driver: Driver, turn: dict[str, Any], code: str) -> dict[str, Any]:
    """End a turn that could not be written at all (no charge)."""
    done = await repo.update_turn(ctx.db, turn["_id"], {
        "status": repo.TURN_FAILED, "text": "", "error_code": code,
        "completed_at": ctx.clock.now()}, status=repo.STREAMING)
    if done is None:
        return await repo.get_turn(ctx.db, turn["_id"]) or turn
    if turn["attempt"] > 1:  # viewers saw it begin
        await driver.emit("turn_end", end_event(done))
    return done


async def _generate(ctx: Ctx, driver: Driver, room: dict[str, Any], turn: dict[str, Any], *,
                    provider: LLMProvider, model: ModelInfo, prompt: prompts.Prompt, what: str,
                    word_limit: int | None) -> dict[str, Any]:
    price = metering.price(ctx, model.id)
    reserve = metering.most_it_costs(price, prompt_tokens=prompt.prompt_tokens,
                                     max_tokens=prompt.max_tokens)
    key = metering.key_of(turn["_id"], turn["attempt"])
    await repo.update_turn(ctx.db, turn["_id"], {"reserved_credits": reserve,
                                                 "model": model.id})
    try:
        await metering.reserve(ctx, owner_id=room["owner_id"], key=key, amount=reserve,
                               what=what)
    except metering.InsufficientCredits:
        if turn["attempt"] == 1:  # never shown: it goes
            await repo.delete_first_attempt(ctx.db, turn["_id"])
        else:
            await _give_up(ctx, driver, turn, metering.InsufficientCredits.code)
        raise
    await driver.emit("turn", turn_event(turn))

    async def show(text: str) -> None:
        await driver.emit("token", {"turn_id": turn["_id"], "text": text})

    written = await write(ctx, driver, provider=provider, model=model, prompt=prompt,
                          word_limit=word_limit, on_text=show)
    return await _finish(ctx, driver, room, turn, written, price=price, reserved=reserve,
                         key=key, model=model)


async def _finish(ctx: Ctx, driver: Driver, room: dict[str, Any], turn: dict[str, Any],
                  written: Written, *, price: Any, reserved: int, key: str,
                  model: ModelInfo) -> dict[str, Any]:
    charge = min(reserved, metering.cost(price, written.usage)) if written.text else 0
    charged = await metering.settle(ctx, owner_id=room["owner_id"], key=key, reserved=reserved,
                                    charged=charge)
    changes: dict[str, Any] = {
        "status": written.status, "text": written.text, "trimmed": written.trimmed,
        "moderation": written.moderation, "error_code": written.error_code,
        "usage": {"prompt_tokens": written.usage.prompt_tokens,
                  "completion_tokens": written.usage.completion_tokens},
        "credits_charged": charged, "completed_at": ctx.clock.now()}
    if written.blocked is not None:
        changes.update(text=WITHHELD_TEXT, withheld_text=written.text)
        await screening.flag(ctx, user_id=room["owner_id"], subject="room_turn",
                             ref_id=turn["_id"], result=written.blocked)
    done = await repo.update_turn(ctx.db, turn["_id"], changes, status=repo.STREAMING)
    if done is None:  # ended meanwhile by another job: report that
        return await repo.get_turn(ctx.db, turn["_id"]) or {**turn, **changes}
    await repo.update_room(ctx.db, room["_id"], {}, {"updated_at": ctx.clock.now()},
                           inc={"credits_charged": charged})
    await driver.emit("turn_end", end_event(done))
    await events.record_cost(ctx, user_id=room["owner_id"], provider=model.provider,
                             model=model.id, prompt_tokens=written.usage.prompt_tokens,
                             completion_tokens=written.usage.completion_tokens,
                             credits=charged, latency_ms=0.0, ttft_ms=None,
                             outcome=written.status)
    return done
