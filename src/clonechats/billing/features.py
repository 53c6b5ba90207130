"""What a plan's listed features mean, and which of them this deployment can deliver.

A plan's `features` come from the operator's catalog. The ones the product knows are kept only
while the capability behind them works here: `voice` needs a voice installed or configured,
`video` needs that too and video minutes for the plan's tier. Anything else the operator lists
is shown as written.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from clonechats.billing.plans import Catalog, Item

if TYPE_CHECKING:
    from clonechats.context import Ctx


FEATURE_LABELS = {
    "chat": "Chat",
    "voice": "Voice replies",
    "video": "Video replies",
    "debates": "Debate rooms",
}


def label(feature: str) -> str:
    return FEATURE_LABELS.get(feature, feature)


def offered_catalog(ctx: Ctx, catalog: Catalog) -> Catalog:
    """The catalog with each plan listing only the features this deployment can deliver."""
    plans = tuple(replace(plan, features=offered_features(ctx, plan)) for plan in catalog.plans)
    return replace(catalog, plans=plans)


def offered_features(ctx: Ctx, plan: Item) -> tuple[str, ...]:
    return tuple(feature for feature in plan.features if _can_deliver(ctx, feature, plan.tier))


def _can_deliver(ctx: Ctx, feature: str, tier: str) -> bool:
    if feature == "voice":
        return _has_voices(ctx)
    if feature == "video":
        minutes = ctx.settings.video.monthly_minutes.get(tier, 0)
        return _has_voices(ctx) and ctx.video is not None and minutes > 0
    return True


def _has_voices(ctx: Ctx) -> bool:
    return ctx.speech is not None and bool(ctx.speech.voices())
