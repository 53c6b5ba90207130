"""Credits for a debate, taken from the room owner exactly as chat takes them for a reply.

Prices and costs are chat's (`chat.metering.price_for`, `cost_for`, `estimate_max_cost`):
before a turn (or the summary, or the verdict) is written, the most it can cost is reserved
with one conditional ledger update keyed `reserve:room-turn:{turn_id}:{attempt}`; a short
balance raises `InsufficientCredits` after a paywall hit (feature "debate") is recorded. When
it ends, the unused part comes back under `release:…` with the same key, so settling twice
(a resumed job) changes nothing. An attempt lost with a dead process is settled at zero: its
text is thrown away and the turn is written again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clonechats.billing import ledger
from clonechats.chat import metering as chat_metering
from clonechats.providers.llm.base import Usage
from clonechats.settings import ModelPrice
from clonechats.telemetry import events

if TYPE_CHECKING:
    from clonechats.context import Ctx


PAYWALL_FEATURE = "debate"
InsufficientCredits = ledger.InsufficientCredits


def key_of(turn_id: str, attempt: int) -> str:
    return f"room-turn:{turn_id}:{attempt}"


def price(ctx: Ctx, model_id: str) -> ModelPrice:
    return chat_metering.price_for(ctx.settings.chat, model_id)


def most_it_costs(price_: ModelPrice, *, prompt_tokens: int, max_tokens: int) -> int:
    return chat_metering.estimate_max_cost(price_, prompt_tokens=prompt_tokens,
                                           max_tokens=max_tokens)


def cost(price_: ModelPrice, usage: Usage) -> int:
    return chat_metering.cost_for(price_, usage)


async def reserve(ctx: Ctx, *, owner_id: str, key: str, amount: int, what: str) -> None:
    if amount <= 0:
        return
    try:
        await ledger.apply(ctx.db, user_id=owner_id, delta=-amount, kind=ledger.RESERVE,
                           reason=f"Debate: {what} (reserved)",
                           idempotency_key=f"{ledger.RESERVE}:{key}", now=ctx.clock.now(),
                           details={"room_turn": key})
    except ledger.InsufficientCredits:
        await events.record_paywall_hit(ctx, user_id=owner_id, feature=PAYWALL_FEATURE)
        raise


async def settle(ctx: Ctx, *, owner_id: str, key: str, reserved: int, charged: int) -> int:
    """Return the unused part of a reservation; the credits it really cost."""
    unused = reserved - charged
    entry_key = f"{ledger.RELEASE}:{key}"
    if unused > 0:
        entry = await ledger.apply(ctx.db, user_id=owner_id, delta=unused, kind=ledger.RELEASE,
                                   reason="Debate: unused reservation returned",
                                   idempotency_key=entry_key, now=ctx.clock.now(),
                                   details={"room_turn": key})
        return reserved - entry["delta"]
    earlier = await ledger.get_entry(ctx.db, entry_key)
    return reserved - earlier["delta"] if earlier is not None else charged
