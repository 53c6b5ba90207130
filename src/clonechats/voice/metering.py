"""What speech costs, charged on the credit ledger like chat tokens.

A clip costs `ceil(duration_s * speech.credits_per_second)` credits, at least
`speech.clip_minimum_credits`. The charge is taken after the audio was made (its length is
known only then) and before it is stored, with one conditional ledger update keyed
`speech:{clip_id}`: a short balance gives 402 `insufficient_credits` and nothing is stored.
If storing then fails, the same amount comes back (`speech-refund:{clip_id}`). Audio that was
not made is never charged.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clonechats.billing import ledger
from clonechats.telemetry import events

if TYPE_CHECKING:
    from clonechats.context import Ctx


PAYWALL_FEATURE = "voice"


def cost_for(settings: Any, duration_s: float) -> int:
    if duration_s <= 0:
        return 0
    raw = Decimal(str(round(duration_s, 3))) * settings.credits_per_second
    return max(settings.clip_minimum_credits, math.ceil(raw))


async def charge(ctx: Ctx, *, user_id: str, clip_id: str, credits: int, what: str) -> None:
    if credits <= 0:
        return
    try:
        await ledger.apply(ctx.db, user_id=user_id, delta=-credits, kind=ledger.DEBIT,
                           reason=f"Voice clip: {what}", idempotency_key=f"speech:{clip_id}",
                           now=ctx.clock.now(), details={"clip_id": clip_id})
    except ledger.InsufficientCredits:
        await events.record_paywall_hit(ctx, user_id=user_id, feature=PAYWALL_FEATURE)
        raise


async def refund(ctx: Ctx, *, user_id: str, clip_id: str, credits: int) -> None:
    if credits <= 0:
        return
    await ledger.apply(ctx.db, user_id=user_id, delta=credits, kind=ledger.REFUND,
                       reason="Voice clip could not be stored: credits returned",
                       idempotency_key=f"speech-refund:{clip_id}", now=ctx.clock.now(),
                       details={"clip_id": clip_id})
