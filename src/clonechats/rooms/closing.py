"""The end of a debate: the closing summary, and the verdict when the owner asks for one.

Both are written by the platform's moderator voice with the default model, moderated like a
turn and metered on the owner's credits (keys `room-turn:{room_id}-summary:{attempt}`). Each
is written once: it is stored on the room with a conditional update, and an attempt lost with
a dead process is settled at zero and written again. When the model cannot be used (no
credits left, the provider down, the text withheld by moderation, the transcript too long),
the summary is made without a model from each speaker's first sentences, so a debate always
ends with one; a verdict has no such fallback and is reported as not possible.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from clonechats.billing import ledger
from clonechats.errors import AppError
from clonechats.providers.errors import ProviderError
from clonechats.rooms import metering, prompts, repo
from clonechats.rooms.writing import Driver, write

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

VERDICT_UNAVAILABLE = "A verdict could not be written just now. Please ask again later."


async def _settle_lost(ctx: Ctx, owner_id: str, key: str) -> None:
    reserved = await ledger.get_entry(ctx.db, f"{ledger.RESERVE}:{key}")
    if reserved is not None and reserved["status"] == "applied":
        await metering.settle(ctx, owner_id=owner_id, key=key, reserved=-reserved["delta"],
                              charged=0)


async def _moderator_text(ctx: Ctx, driver: Driver, room: dict[str, Any], *,
                          what: str) -> str | None:
    """The summary or verdict written by the model, or None when it cannot be had."""
    field = f"{what}_attempt"
    attempt = int(room.get(field) or 0)
    if attempt:
        await _settle_lost(ctx, room["owner_id"], metering.key_of(f"{room['_id']}-{what}",
                                                                  attempt))
    attempt += 1
    await repo.update_room(ctx.db, room["_id"], {}, {field: attempt})
    key = metering.key_of(f"{room['_id']}-{what}", attempt)
    try:
        provider, model = ctx.llm.resolve(None)
        turns = await repo.turns_of(ctx.db, room["_id"])
        build = prompts.summary_prompt if what == "summary" else prompts.verdict_prompt
        prompt = await build(ctx, room=room, turns=turns, provider=provider, model=model)
        price = metering.price(ctx, model.id)
    except (AppError, ProviderError, prompts.PromptTooLong):
        log.warning("debate %s could not be prompted", what, extra={"room_id": room["_id"]})
        return None
    reserve = metering.most_it_costs(price, prompt_tokens=prompt.prompt_tokens,
                                     max_tokens=prompt.max_tokens)
    try:
        await metering.reserve(ctx, owner_id=room["owner_id"], key=key, amount=reserve,
                               what=f"the {what}")
    except metering.InsufficientCredits:
        return None
    written = await write(ctx, driver, provider=provider, model=model, prompt=prompt,
                          word_limit=None, on_text=None, stoppable=False)
    charge = min(reserve, metering.cost(price, written.usage)) if written.text else 0
    charged = await metering.settle(ctx, owner_id=room["owner_id"], key=key, reserved=reserve,
                                    charged=charge)
    await repo.update_room(ctx.db, room["_id"], {}, {}, inc={"credits_charged": charged})
    if written.status != repo.COMPLETE or not written.text.strip():
        return None
    return written.text.strip()


async def write_summary(ctx: Ctx, driver: Driver, room: dict[str, Any]) -> None:
    if room.get("summary"):
        return
    text = None
    if room.get("reason") != "insufficient_credits":  # no credits: no model, no second hit
        text = await _moderator_text(ctx, driver, room, what="summary")
    if text is None:
        text = prompts.extractive_summary(room, await repo.turns_of(ctx.db, room["_id"]))
    stored = await repo.update_room(ctx.db, room["_id"], {"summary": None},
                                    {"summary": text, "updated_at": ctx.clock.now()})
    if stored is not None:
        await driver.emit("summary", {"text": text})


async def write_verdict(ctx: Ctx, driver: Driver, room: dict[str, Any]) -> None:
    if room.get("verdict") or not room.get("verdict_requested"):
        return
    text = await _moderator_text(ctx, driver, room, what="verdict")
    if text is None:
        await repo.update_room(ctx.db, room["_id"], {}, {"verdict_requested": False})
        await driver.emit("verdict", {"text": None, "error": VERDICT_UNAVAILABLE})
        return
    stored = await repo.update_room(ctx.db, room["_id"], {"verdict": None},
                                    {"verdict": text, "updated_at": ctx.clock.now()})
    if stored is not None:
        await driver.emit("verdict", {"text": text})
