"""Fraud signals: named rules over what the other domains already record, each with its
threshold in `settings.admin.fraud` and the evidence that made it fire.

Rules (over the last `window_hours`):
- `trials_per_address`: free trials started from one hashed address.
- `signups_per_address`: sign-ups from one hashed address (the audit log).
- `failed_orders`: payment orders of one account that failed (card testing).
- `refund_after_use`: a refunded order whose credits were mostly spent already.
- `credit_grants`: credits granted to one account other than by a purchase.
- `webhook_signature_failures`: payment webhooks whose signature did not verify.

A signal is `{rule, subject, evidence, seen_at, actions}`; the subject is `address:<hash>`,
`user:<id>` or `provider:<name>`. Signals are computed when asked for, so a threshold change
applies at once and nothing new is stored. Actions: `suspend` (a user) and `revoke_trials`
(every trial account started from an address: remaining credits clawed back, account
suspended), audit-logged with the admin and a note. Never touches HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.accounts import audit, suspension, trials, users
from clonechats.accounts.users import User
from clonechats.billing import ledger, orders, webhook_log
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError

if TYPE_CHECKING:
    from clonechats.context import Ctx


RULES = {
    "trials_per_address": "Many free trials from one network address",
    "signups_per_address": "Many sign-ups from one network address",
    "failed_orders": "Payment orders that keep failing (card testing)",
    "refund_after_use": "A refund after most of the credits were used",
    "credit_grants": "Credits granted out of line (not purchases)",
    "webhook_signature_failures": "Payment webhooks with a bad signature",
}
ACTIONS = ("suspend", "revoke_trials")


class InvalidFraudAction(AppError):
    code = "invalid_action"
    status = 422


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _signal(rule: str, subject: str, evidence: dict[str, Any], seen_at: datetime,
            actions: list[str]) -> dict[str, Any]:
    return {"rule": rule, "title": RULES[rule], "subject": subject, "evidence": evidence,
            "seen_at": _iso(seen_at), "actions": actions}


async def signals(ctx: Ctx) -> list[dict[str, Any]]:
    """Every rule's signals now, most recent first."""
    rules = ctx.settings.admin.fraud
    since = ctx.clock.now() - timedelta(hours=rules.window_hours)
    window = {"window_hours": rules.window_hours}
    found = []
    for row in await trials.counts_by_address_since(ctx.db, since):
        if row["count"] >= rules.trials_per_address:
            found.append(_signal("trials_per_address", f"address:{row['_id']}", {
                **window, "trials": row["count"], "threshold": rules.trials_per_address,
                "first_at": _iso(row["first_at"])}, row["last_at"], ["revoke_trials"]))
    for row in await audit.counts_by_address_since(ctx.db, "signup", since):
        if row["count"] >= rules.signups_per_address:
            found.append(_signal("signups_per_address", f"address:{row['_id']}", {
                **window, "signups": row["count"], "threshold": rules.signups_per_address,
                "user_ids": sorted(u for u in row["user_ids"] if u)}, row["last_at"],
                ["revoke_trials"]))
    for row in await orders.failed_by_user_since(ctx.db, since):
        if row["_id"] and row["count"] >= rules.failed_orders_per_user:
            found.append(_signal("failed_orders", f"user:{row['_id']}", {
                **window, "failed_orders": row["count"],
                "threshold": rules.failed_orders_per_user,
                "order_ids": sorted(row["order_ids"])[:20]}, row["last_at"], ["suspend"]))
    for order in await orders.refunded_since(ctx.db, since):
        refunded_at = order.get("refunded_at")
        if refunded_at is None:  # the query asks for refunded orders only
            continue
        credits = order.get("credits") or 0
        shortfall = (order.get("refund") or {}).get("shortfall") or 0
        if credits and order.get("user_id") and shortfall / credits >= rules.refund_used_share:
            found.append(_signal("refund_after_use", f"user:{order['user_id']}", {
                "order_id": order["_id"], "credits": credits, "already_spent": shortfall,
                "threshold_share": rules.refund_used_share}, refunded_at,
                ["suspend"]))
    for row in await ledger.grants_by_user_since(ctx.db, since):
        if row["_id"] and row["credits"] >= rules.granted_credits_per_user:
            found.append(_signal("credit_grants", f"user:{row['_id']}", {
                **window, "credits": row["credits"], "grants": row["count"],
                "threshold": rules.granted_credits_per_user,
                "reasons": sorted(row["reasons"])[:10]}, row["last_at"], ["suspend"]))
    for row in await webhook_log.signature_failures_since(ctx.db, since):
        if row["count"] >= rules.webhook_signature_failures:
            found.append(_signal("webhook_signature_failures", f"provider:{row['_id']}", {
                **window, "failures": row["count"],
                "threshold": rules.webhook_signature_failures}, row["last_at"], []))
    return sorted(found, key=lambda signal: signal["seen_at"], reverse=True)


async def act(ctx: Ctx, *, action: str, subject: str, note: str, admin: User,
              client: ClientInfo | None) -> dict[str, Any]:
    """Apply `action` to a signal's subject; returns what changed."""
    kind, _, value = subject.partition(":")
    if action not in ACTIONS or not value:
        raise InvalidFraudAction("Choose suspend (for an account) or revoke_trials (for an "
                                 "address).")
    if action == "suspend":
        if kind != "user":
            raise InvalidFraudAction("Only an account (user:<id>) can be suspended.")
        await suspension.suspend(ctx, user_id=value, actor_id=admin["_id"], note=note,
                                 client=client)
        return {"suspended": [value], "credits_revoked": 0}
    if kind != "address":
        raise InvalidFraudAction("Trials are revoked for an address (address:<hash>).")
    since = ctx.clock.now() - timedelta(hours=ctx.settings.admin.fraud.window_hours)
    suspended, revoked = [], 0
    for user_id in await audit.users_with_event_from(ctx.db, "trial_started", value, since):
        user = await users.get(ctx.db, user_id)
        if user is None or user["status"] != users.TRIAL or user.get("role") == "admin":
            continue
        taken = await ledger.clawback(ctx.db, user_id=user_id, amount=user.get("credits", 0),
                                      reason="trial revoked (fraud signal)",
                                      idempotency_key=f"trial_revoked:{user_id}",
                                      now=ctx.clock.now())
        revoked += taken.taken
        await suspension.suspend(ctx, user_id=user_id, actor_id=admin["_id"], note=note,
                                 reason="This free trial was ended: too many trials came from "
                                 "one network.", client=client)
        suspended.append(user_id)
    await audit.record(ctx.db, "trials_revoked", now=ctx.clock.now(), client=client,
                       actor_id=admin["_id"], subject=subject, note=note,
                       accounts=len(suspended), credits=revoked)
    return {"suspended": suspended, "credits_revoked": revoked}
