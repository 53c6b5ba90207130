"""The `orders` collection: the only code that reads or writes it.

An order moves `created -> paid | failed` and `paid -> refunded`, nothing else. Each move is one
conditional update that matches the order only in a state the move may start from, so of two
racing moves at most one happens, and a paid order can never become failed (or a refunded one
paid again). The document holds no payment instrument of any kind: no card, UPI or bank field
exists; what the provider tells us is a status, a payment id and amounts.

Amounts are exact decimal strings ("299.00") with their currency, never floats.
"""

import secrets
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ReturnDocument

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

ORDERS = "orders"
COLLECTIONS = (ORDERS,)


class Order(TypedDict, total=False):
    _id: str
    user_id: str
    item_id: str  # what was bought, from the catalog (`billing.plans`)
    item_kind: str  # "pack" | "plan"
    item_name: str
    tier: str | None
    credits: int
    description: str
    amount: str  # an exact decimal string
    currency: str
    provider: str
    provider_order_id: str | None
    payment_session_id: str | None
    checkout_url: str | None
    provider_payment_id: str | None
    status: str  # CREATED -> PAID | FAILED, PAID -> REFUNDED
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    failed_at: datetime | None
    refunded_at: datetime | None
    fulfilled_at: datetime | None
    failure_reason: str | None
    # {refund_id, status, amount, requested_at, processed_at, provider_refund_id, ...}
    refund: dict[str, Any] | None
    needs_attention: str | None
    subscription_id: str | None  # a plan month's order
    period: int | None  # which month of that plan (yyyymm)
    retain_until: datetime  # kept for the accounts until then (`billing.retention`)
EXPIRING = Expiring(ORDERS)
CREATED, PAID, FAILED, REFUNDED = "created", "paid", "failed", "refunded"
STATUSES = (CREATED, PAID, FAILED, REFUNDED)
TRANSITIONS: dict[str, tuple[str, ...]] = {PAID: (CREATED,), FAILED: (CREATED,),
                                           REFUNDED: (PAID,)}
"""Target status -> the statuses it may be reached from."""
PAGE_ORDER = [("created_at", -1), ("_id", -1)]

INDEXES = [
    Index(ORDERS, [("user_id", 1), ("created_at", -1), ("_id", -1)]),
    Index(ORDERS, [("status", 1), ("created_at", -1), ("_id", -1)]),
    Index(ORDERS, [("subscription_id", 1), ("period", 1)], sparse=True),
]


class IllegalTransition(ValueError):
    """A move the order life cycle does not have (a programming error, never user input)."""


def new_order_id() -> str:
    return "ord_" + secrets.token_hex(12)


async def insert(db: Any, order: Order) -> Order:
    await db[ORDERS].insert_one(order)
    return order


async def get(db: Any, order_id: str) -> Order | None:
    return await db[ORDERS].find_one({"_id": order_id})


async def get_for_user(db: Any, order_id: str, user_id: str) -> Order | None:
    return await db[ORDERS].find_one({"_id": order_id, "user_id": user_id})


async def transition(db: Any, order_id: str, to: str, *, now: datetime,
                     **fields: Any) -> Order | None:
    """Move the order to `to` if its current status allows it; the new document, or None."""
    sources = TRANSITIONS.get(to)
    if sources is None:
        raise IllegalTransition(f"no order ever moves to {to!r}")
    return await db[ORDERS].find_one_and_update(
        {"_id": order_id, "status": {"$in": list(sources)}},
        {"$set": {**fields, "status": to, f"{to}_at": now, "updated_at": now}},
        return_document=ReturnDocument.AFTER,
    )


async def set_fields(db: Any, order_id: str, changes: dict[str, Any], *, now: datetime,
                     expect: dict[str, Any] | None = None) -> Order | None:
    """Set details that are not the status (provider ids, refund progress), conditionally."""
    if "status" in changes:
        raise IllegalTransition("the status changes only through transition()")
    return await db[ORDERS].find_one_and_update(
        {"_id": order_id, **(expect or {})}, {"$set": {**changes, "updated_at": now}},
        return_document=ReturnDocument.AFTER,
    )


async def page_for_user(db: Any, user_id: str, *, limit: int, cursor: str | None = None,
                        ) -> tuple[list[Order], str | None]:
    """The user's orders, newest first, and the next page's cursor."""
    return await fetch_page(db[ORDERS], {"user_id": user_id}, order=PAGE_ORDER, limit=limit,
                            cursor=cursor, kinds=(datetime, str))


async def page(db: Any, *, limit: int, status: str | None = None, cursor: str | None = None,
               ) -> tuple[list[Order], str | None]:
    """All orders (or those in `status`), newest first, and the next page's cursor."""
    return await fetch_page(db[ORDERS], {"status": status} if status else {}, order=PAGE_ORDER,
                            limit=limit, cursor=cursor, kinds=(datetime, str))


async def count_open_since(db: Any, user_id: str, since: datetime) -> int:
    return await db[ORDERS].count_documents({"user_id": user_id, "status": CREATED,
                                             "created_at": {"$gte": since}})


async def pending_older_than(db: Any, moment: datetime, *, limit: int) -> list[Order]:
    return await db[ORDERS].find({"status": CREATED, "created_at": {"$lt": moment}}).sort(
        "created_at", 1).limit(limit).to_list()


async def unfulfilled_paid(db: Any, moment: datetime, *, limit: int) -> list[Order]:
    return await db[ORDERS].find({"status": PAID, "fulfilled_at": None,
                                  "paid_at": {"$lt": moment}}).limit(limit).to_list()


async def for_user(db: Any, user_id: str) -> list[Order]:
    return await db[ORDERS].find({"user_id": user_id}).sort("created_at", 1).to_list()


async def pseudonymise_user(db: Any, user_id: str, pseudonym: str, *,
                            retain_until: datetime) -> int:
    result = await db[ORDERS].update_many(
        {"user_id": user_id},
        {"$set": {"user_id": pseudonym, "pseudonymised": True, "retain_until": retain_until}},
    )
    return result.modified_count


async def paid_for_users(db: Any, user_ids: list[str], *,
                         since: datetime) -> list[Order]:
    """Paid (or later refunded) orders of these users paid from `since` (for conversions)."""
    if not user_ids:
        return []
    return await db[ORDERS].find({"user_id": {"$in": user_ids}, "status": {"$in": [PAID, REFUNDED]},
                                  "paid_at": {"$gte": since}}).to_list()


async def failed_by_user_since(db: Any, since: datetime) -> list[dict[str, Any]]:
    """Per user, failed orders created from `since`: {_id: user_id, count, last_at, order_ids}."""
    cursor = await db[ORDERS].aggregate([
        {"$match": {"status": FAILED, "created_at": {"$gte": since}}},
        {"$group": {"_id": "$user_id", "count": {"$sum": 1}, "last_at": {"$max": "$created_at"},
                    "order_ids": {"$push": "$_id"}}},
    ])
    return await cursor.to_list()


async def refunded_since(db: Any, since: datetime) -> list[Order]:
    return await db[ORDERS].find({"status": REFUNDED, "refunded_at": {"$gte": since}}).to_list()
