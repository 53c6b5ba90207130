"""What billing holds about a person, registered with the privacy registry.

Export: their orders (no payment instrument is ever stored, so none is exported), their credit
ledger and their subscriptions.

Delete: payment records are kept for 7 years (a legal obligation, GDPR Art. 17(3)(b)), so
orders, ledger entries and subscriptions are pseudonymised instead: the user id becomes a keyed
hash (`privacy.pseudonyms.keyed_hash(secret, "user", id)`), a live subscription ends, and each
record gets a `retain_until` after which the retention job removes it. Orders never held the
person's email or name; the sandbox's own records drop the webhooks they kept. Webhook delivery
logs hold no user id at all and age out on their own.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.billing import ledger, orders, subscriptions
from clonechats.billing.retention import retain_until as retention_end
from clonechats.privacy.pseudonyms import keyed_hash
from clonechats.privacy.registry import DataHolder, Owned, register
from clonechats.providers.payments.sandbox import SANDBOX_ORDERS, pseudonymise_customer

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "billing"
ORDER_FIELDS = ("item_id", "item_kind", "description", "amount", "currency", "credits",
                "status", "provider", "provider_order_id", "provider_payment_id", "created_at",
                "paid_at", "failed_at", "refunded_at")


def pseudonym(ctx: Ctx, user_id: str) -> str:
    return "pseudonym:" + keyed_hash(ctx.secret, "user", user_id)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {
        "orders": [{"order_id": o["_id"], **{k: _plain(o.get(k)) for k in ORDER_FIELDS}}
                   for o in await orders.for_user(ctx.db, user_id)],
        "ledger": [{"delta": e["delta"], "kind": e["kind"], "reason": e["reason"],
                    "balance_after": e["balance_after"], "at": _plain(e["at"])}
                   for e in await ledger.entries_of(ctx.db, user_id)],
        "subscriptions": [{"plan_id": s["plan_id"], "status": s["status"],
                           "period": s["period"],
                           "current_period_start": _plain(s["current_period_start"]),
                           "current_period_end": _plain(s["current_period_end"]),
                           "cancel_at_period_end": s["cancel_at_period_end"]}
                          for s in await subscriptions.for_user(ctx.db, user_id)],
    }


async def delete(ctx: Ctx, user_id: str) -> int:
    now = ctx.clock.now()
    retain_until = retention_end(now)
    alias = pseudonym(ctx, user_id)
    live = await subscriptions.live_for_user(ctx.db, user_id)
    if live is not None:
        await subscriptions.end(ctx, live, reason="account deleted", expire=False)
    changed = await orders.pseudonymise_user(ctx.db, user_id, alias, retain_until=retain_until)
    changed += await ledger.pseudonymise_user(ctx.db, user_id, alias, retain_until=retain_until)
    changed += await subscriptions.pseudonymise_user(ctx.db, user_id, alias,
                                                     retain_until=retain_until)
    changed += await pseudonymise_customer(ctx.db, user_id, alias)
    return changed


register(DataHolder(name=NAME, description="Orders, payments, the credit ledger and "
                    "subscriptions (kept 7 years under a pseudonym after deletion).",
                    export=export, delete=delete,
                    collections=(Owned(orders.ORDERS, owner_field="user_id", pseudonymised=True),
                                 Owned(ledger.LEDGER, owner_field="user_id", pseudonymised=True),
                                 Owned(subscriptions.SUBSCRIPTIONS, owner_field="user_id",
                                       pseudonymised=True),
                                 Owned(SANDBOX_ORDERS, owner_field="customer_id",
                                       pseudonymised=True))))
