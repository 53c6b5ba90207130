"""First-party analytics, only with consent: anonymous daily counts of pages and features.

A count is one number per (day, kind, name), e.g. (2026-03-01, page, /personas/{persona_id}):
no user id, session, address, browser or exact time is stored, and pages are counted by their
route template, never by a URL holding an id. Nothing is counted for a visitor who is not
signed in or for a user who has not turned analytics on in Privacy Settings: such an event is
dropped before anything is written. No cookie is involved; consent is stored on the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.privacy import consent, repo

if TYPE_CHECKING:
    from clonechats.context import Ctx


PAGE, FEATURE = "page", "feature"
FEATURES = frozenset({
    "export_requested", "data_request_filed", "persona_created", "conversation_started",
    "message_sent", "card_imported", "voice_uploaded",
})
"""Features a page may report (`data-analytics-feature` on a button or link)."""


async def record(ctx: Ctx, *, user_id: str | None, kind: str, name: str) -> bool:
    """Count one page view or feature use if the user consented; True if it was counted.

    `name` must already be a route template (pages) or one of FEATURES (features)."""
    if kind not in (PAGE, FEATURE):
        raise ValueError(f"unknown analytics kind {kind!r}")
    if kind == FEATURE and name not in FEATURES:
        raise ValueError(f"unknown feature {name!r}")
    if not await consent.analytics_allowed(ctx, user_id):
        return False
    day = ctx.clock.now().date().isoformat()
    await repo.count_event(ctx.db, day=day, kind=kind, name=name)
    return True


async def summary(ctx: Ctx, *, since_day: str) -> list[dict[str, Any]]:
    """Counts from `since_day` on, newest day first (for the admin view)."""
    return [{"day": row["day"], "kind": row["kind"], "name": row["name"],
             "count": row["count"]} for row in await repo.analytics_since(ctx.db, since_day)]
