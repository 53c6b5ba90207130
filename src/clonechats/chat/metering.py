"""What a reply costs, and the credits taken for it: reserved before, settled after.

Prices come from `settings.chat.prices` (the most specific of the model id, `provider:*` and
`*`). A reply costs `ceil(prompt/1000 * prompt_per_1k + completion/1000 * completion_per_1k)`
credits, at least the model's `minimum`; a reply that delivered no text costs nothing.

Before the provider is called, the most the reply can cost (the counted prompt plus the longest
allowed reply) is reserved with one conditional ledger update (`reserve:{message_id}`), which
fails with 402 `insufficient_credits` when the balance is short; a paywall hit is recorded then.
When the reply ends, however it ends, the difference between the reservation and the real cost
comes back as a `release:{message_id}` entry, so the net debit is what was delivered. A charge
is never more than its reservation. Both entries carry idempotency keys: settling twice (a
retried job after a crash) changes nothing the second time.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

from clonechats.billing import ledger
from clonechats.errors import AppError
from clonechats.providers.llm.base import Usage
from clonechats.settings import ChatSettings, ModelPrice
from clonechats.telemetry import events

if TYPE_CHECKING:
    from clonechats.context import Ctx


RESERVE, RELEASE = ledger.RESERVE, ledger.RELEASE
PAYWALL_FEATURE = "chat"


class ModelUnpriced(AppError):
    code = "model_unavailable"
    status = 422
    message = "This model has no price set, so it cannot be used. Please pick another model."


def price_for(settings: ChatSettings, model_id: str) -> ModelPrice:
    provider = model_id.split(":", 1)[0]
    for key in (model_id, f"{provider}:*", "*"):
        if key in settings.prices:
            return settings.prices[key]
    raise ModelUnpriced()


def cost_for(price: ModelPrice, usage: Usage) -> int:
    """Credits for a reply with this usage: rounded up, at least the minimum; 0 if it
    delivered nothing."""
    if usage.completion_tokens <= 0:
        return 0
    raw = (Decimal(max(0, usage.prompt_tokens)) * price.prompt_per_1k
           + Decimal(usage.completion_tokens) * price.completion_per_1k) / 1000
    return max(price.minimum, math.ceil(raw))


def estimate_max_cost(price: ModelPrice, *, prompt_tokens: int, max_tokens: int) -> int:
    """The most a reply of at most `max_tokens` to this prompt can cost."""
    return cost_for(price, Usage(prompt_tokens=prompt_tokens,
                                 completion_tokens=max(1, max_tokens)))


async def reserve(ctx: Ctx, *, user_id: str, message_id: str, amount: int,
                  persona_name: str) -> None:
    """Take `amount` credits ahead of a reply; InsufficientCredits (402) if the balance is
    short, after recording the paywall hit."""
    if amount <= 0:
        return
    try:
        await ledger.apply(ctx.db, user_id=user_id, delta=-amount, kind=RESERVE,
                           reason=f"Chat reply from {persona_name} (reserved)",
                           idempotency_key=f"{RESERVE}:{message_id}", now=ctx.clock.now(),
                           details={"message_id": message_id})
    except ledger.InsufficientCredits:
        await events.record_paywall_hit(ctx, user_id=user_id, feature=PAYWALL_FEATURE)
        raise


async def settle(ctx: Ctx, *, user_id: str, message_id: str, reserved: int,
                 charged: int) -> int:
    """Return what the reply did not use of its reservation; returns the credits the reply
    cost. Idempotent per message: a second settle finds the first one's entry and reports it."""
    key = f"{RELEASE}:{message_id}"
    unused = reserved - charged
    if unused > 0:
        entry = await ledger.apply(ctx.db, user_id=user_id, delta=unused, kind=RELEASE,
                                   reason="Chat reply: unused reservation returned",
                                   idempotency_key=key, now=ctx.clock.now(),
                                   details={"message_id": message_id})
        if entry.get("status") == "pending":  # half-written by a process that died
            entry = await ledger.finish_pending(ctx.db, key) or await ledger.apply(
                ctx.db, user_id=user_id, delta=unused, kind=RELEASE,
                reason="Chat reply: unused reservation returned", idempotency_key=key,
                now=ctx.clock.now(), details={"message_id": message_id})
        return reserved - entry["delta"]
    earlier = await ledger.get_entry(ctx.db, key)
    return reserved - earlier["delta"] if earlier is not None else charged


async def reserve_once(ctx: Ctx, *, user_id: str, message_id: str, amount: int,
                       persona_name: str) -> int:
    """Reserve for reply `message_id` unless that was done already (by a process that died
    since); returns the credits reserved, which a resumed reply settles against however its
    reservation was sized. An entry the dead process left half-written is finished first."""
    key = f"{RESERVE}:{message_id}"
    if await ledger.get_entry(ctx.db, key) is not None and (
            await ledger.finish_pending(ctx.db, key)) is not None:
        entry = await ledger.get_entry(ctx.db, key)
    else:
        await reserve(ctx, user_id=user_id, message_id=message_id, amount=amount,
                      persona_name=persona_name)
        entry = await ledger.finish_pending(ctx.db, key)
    return -int(entry["delta"]) if entry is not None else 0
