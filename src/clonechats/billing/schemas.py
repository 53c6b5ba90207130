"""API models and the public shapes of billing documents."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clonechats.billing.ledger import LedgerEntry
from clonechats.billing.orders import Order
from clonechats.billing.plans import format_amount


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=32)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


class PlanChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(min_length=1, max_length=32)


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=100)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_created(order: Order) -> dict[str, Any]:
    """The 201 answer to `POST /api/v1/billing/orders`, exactly as API.md has it."""
    return {"order_id": order["_id"], "status": order["status"], "provider": order["provider"],
            "checkout_url": order["checkout_url"]}


def order_public(order: Order) -> dict[str, Any]:
    refund = order.get("refund") or None
    return {
        **order_created(order),
        "item_id": order["item_id"], "item_kind": order["item_kind"],
        "description": order["description"], "amount": order["amount"],
        "currency": order["currency"],
        "amount_display": format_amount(Decimal(order["amount"]), order["currency"]),
        "credits": order["credits"], "provider_order_id": order["provider_order_id"],
        "created_at": _iso(order["created_at"]), "paid_at": _iso(order["paid_at"]),
        "failed_at": _iso(order["failed_at"]), "refunded_at": _iso(order["refunded_at"]),
        "refund": {"status": refund["status"], "requested_at": _iso(refund["requested_at"])}
        if refund else None,
    }


def order_admin(order: Order) -> dict[str, Any]:
    refund = order.get("refund") or None
    return {
        **order_public(order), "user_id": order["user_id"],
        "provider_payment_id": order["provider_payment_id"],
        "failure_reason": order["failure_reason"], "needs_attention": order["needs_attention"],
        "fulfilled_at": _iso(order["fulfilled_at"]),
        "refund": {**{k: v for k, v in refund.items() if not isinstance(v, datetime)},
                   "requested_at": _iso(refund.get("requested_at"))} if refund else None,
    }


def ledger_entry(entry: LedgerEntry) -> dict[str, Any]:
    return {"id": entry["_id"], "delta": entry["delta"], "kind": entry["kind"],
            "reason": entry["reason"], "balance_after": entry["balance_after"],
            "at": _iso(entry["at"])}


def subscription_public(sub: dict[str, Any] | None) -> dict[str, Any] | None:
    if sub is None:
        return None
    return {"id": sub["_id"], "plan_id": sub["plan_id"], "tier": sub["tier"],
            "status": sub["status"], "period": sub["period"],
            "current_period_start": _iso(sub["current_period_start"]),
            "current_period_end": _iso(sub["current_period_end"]),
            "cancel_at_period_end": sub["cancel_at_period_end"],
            "renewal_order_id": sub.get("renewal_order_id"),
            "next_plan": None if not sub.get("next_plan") else {
                "plan_id": sub["next_plan"]["plan_id"], "tier": sub["next_plan"]["tier"],
                "name": sub["next_plan"]["plan_name"],
                "monthly_credits": sub["next_plan"]["monthly_credits"],
                "amount": sub["next_plan"]["amount"], "currency": sub["currency"],
                "starts_at": _iso(sub["current_period_end"])}}


def delivery_admin(delivery: dict[str, Any]) -> dict[str, Any]:
    return {k: (_iso(v) if isinstance(v, datetime) else v)
            for k, v in delivery.items() if k not in ("_id", "retain_until")}
