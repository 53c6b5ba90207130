"""The credits ledger: every change to a balance is an entry with an idempotency key.

A change is written in three steps, each atomic on one document:
1. insert the entry as `pending` (its `_id` is the idempotency key, so a replay stops here);
2. apply it to the user's balance with one conditional update (never below zero), recording
   the key in the user's `ledger_keys` (last 100) in the same update;
3. mark the entry `applied` with the balance after it.
A crash between steps leaves a `pending` entry that `settle_pending` finishes or cancels by
looking for its key on the user, so the balance always equals the sum of applied entries.

The balance lives on the user document (`users.credits`, with `ledger_keys`), but this module
owns those two fields: it is the only code that writes them (an account is created with 0
credits and no keys), and `balance` is the one function that looks a balance up (a page may
show the `credits` of a user document it already holds). The rest of the user document belongs
to `accounts`.

Kinds: `grant` (trial, packs, plan months), `reserve` / `release` (a chat reply's or debate
turn's largest cost taken up front, and what it did not use given back), `debit` (spending
charged once: voice clips and videos), `refund` (credits clawed back when a payment is refunded:
never more than the balance, the rest is recorded as a shortfall; also the credits of a failed
voice clip given back) and `expiry` (a plan month's unused credits at its end).
`check_balances` proves the invariant for every user without changing anything.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clonechats.errors import AppError
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

LEDGER = "credit_ledger"
COLLECTIONS = (LEDGER,)


class LedgerEntry(TypedDict, total=False):
    _id: str  # the idempotency key: an entry is applied at most once
    user_id: str
    delta: int  # credits added (positive) or taken (negative)
    kind: str  # see above
    reason: str
    status: str  # "pending" until the balance moved, then "applied"
    balance_after: int | None
    at: datetime
    # Details stored as they were given (`apply(details=...)`): an order id, a shortfall, ...
    order_id: str
    requested: int
    shortfall: int
    model: str
    message_id: str
    persona_name: str
    clip_id: str
    video_job_id: str
    room_turn: str
EXPIRING = Expiring(LEDGER)
USERS = "users"
OWNED_FIELDS = {USERS: ("credits", "ledger_keys")}
"""Fields this module owns on a collection of another (`accounts.repo`): the balance."""
KEPT_KEYS = 100
GRANT, DEBIT, REFUND, EXPIRY = "grant", "debit", "refund", "expiry"
RESERVE, RELEASE = "reserve", "release"
"""A generation reserves its largest cost up front and releases what it did not use."""
SPENDING_KINDS = (DEBIT, RESERVE, RELEASE)
CLAWBACK_TRIES = 5
CHECK_BATCH = 500

INDEXES = [
    Index(LEDGER, [("user_id", 1), ("at", -1)]),
    Index(LEDGER, [("status", 1), ("at", 1)]),
    Index(LEDGER, [("retain_until", 1)], sparse=True),
]


class InsufficientCredits(AppError):
    code = "insufficient_credits"
    status = 402
    message = "You do not have enough credits for this. Buy a credit pack to continue."


async def apply(db: Any, *, user_id: str, delta: int, kind: str, reason: str,
                idempotency_key: str, now: datetime,
                details: dict[str, Any] | None = None) -> LedgerEntry:
    """Apply `delta` credits once per `idempotency_key`; returns the (applied) entry.

    `details` (optional) are stored on the entry as they are (an order id, a shortfall)."""
    entry = {**(details or {}), "_id": idempotency_key, "user_id": user_id, "delta": delta,
             "kind": kind, "reason": reason, "status": "pending", "balance_after": None,
             "at": now}
    try:
        await db[LEDGER].insert_one(entry)
    except DuplicateKeyError:
        existing = await db[LEDGER].find_one({"_id": idempotency_key})
        if existing is None or existing["user_id"] != user_id:
            raise AppError("Conflicting ledger key.", code="ledger_conflict", status=409) from None
        return existing
    query: dict[str, Any] = {"_id": user_id, "ledger_keys": {"$ne": idempotency_key}}
    if delta < 0:
        query["credits"] = {"$gte": -delta}
    user = await db[USERS].find_one_and_update(
        query,
        {"$inc": {"credits": delta},
         "$push": {"ledger_keys": {"$each": [idempotency_key], "$slice": -KEPT_KEYS}}},
        return_document=ReturnDocument.AFTER,
    )
    if user is None:
        await db[LEDGER].delete_one({"_id": idempotency_key, "status": "pending"})
        raise InsufficientCredits()
    return await _mark_applied(db, idempotency_key, user["credits"])


async def balance(db: Any, user_id: str) -> int:
    """The user's credits now (0 for an unknown user)."""
    user = await db[USERS].find_one({"_id": user_id}, {"credits": 1})
    return int((user or {}).get("credits", 0))


async def _mark_applied(db: Any, key: str, balance_after: int) -> LedgerEntry:
    return await db[LEDGER].find_one_and_update(
        {"_id": key}, {"$set": {"status": "applied", "balance_after": balance_after}},
        return_document=ReturnDocument.AFTER,
    )


async def settle_pending(db: Any, *, older_than: datetime) -> int:
    """Finish or cancel entries left pending by a crash; returns how many were settled."""
    settled = 0
    for entry in await db[LEDGER].find({"status": "pending", "at": {"$lt": older_than}}).to_list():
        user = await db[USERS].find_one({"_id": entry["user_id"]})
        if user is not None and entry["_id"] in user.get("ledger_keys", []):
            await _mark_applied(db, entry["_id"], user["credits"])
        else:
            await db[LEDGER].delete_one({"_id": entry["_id"], "status": "pending"})
        settled += 1
    return settled


async def applied_sum(db: Any, user_id: str) -> int:
    cursor = await db[LEDGER].aggregate([
        {"$match": {"user_id": user_id, "status": "applied"}},
        {"$group": {"_id": None, "total": {"$sum": "$delta"}}},
    ])
    rows = await cursor.to_list()
    return rows[0]["total"] if rows else 0


@dataclass(frozen=True)
class Clawback:
    entry: LedgerEntry
    taken: int
    shortfall: int


async def clawback(db: Any, *, user_id: str, amount: int, reason: str, idempotency_key: str,
                   now: datetime, kind: str = REFUND,
                   details: dict[str, Any] | None = None) -> Clawback:
    """Take back up to `amount` credits, never more than the balance, once per key.

    The part already spent is the `shortfall` (recorded on the entry); a concurrent debit that
    lowers the balance between the read and the update makes it try again with the new one."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    for _ in range(CLAWBACK_TRIES):
        existing = await db[LEDGER].find_one({"_id": idempotency_key})
        if existing is not None:
            return _clawback_of(existing)
        taken = min(max(0, await balance(db, user_id)), amount)
        try:
            entry = await apply(db, user_id=user_id, delta=-taken, kind=kind, reason=reason,
                                idempotency_key=idempotency_key, now=now,
                                details={**(details or {}), "requested": amount,
                                         "shortfall": amount - taken})
        except InsufficientCredits:
            continue
        return _clawback_of(entry)
    raise AppError("The balance kept changing; please try again.", code="ledger_busy",
                   status=409)


def _clawback_of(entry: LedgerEntry) -> Clawback:
    taken = -entry["delta"]
    return Clawback(entry=entry, taken=taken,
                    shortfall=entry.get("shortfall", entry.get("requested", taken) - taken))


async def spent_between(db: Any, user_id: str, *, start: datetime, end: datetime) -> int:
    """Net credits spent by `user_id` in [start, end): debits, and reservations less what
    their releases gave back."""
    cursor = await db[LEDGER].aggregate([
        {"$match": {"user_id": user_id, "status": "applied", "kind": {"$in": list(SPENDING_KINDS)},
                    "at": {"$gte": start, "$lt": end}}},
        {"$group": {"_id": None, "total": {"$sum": "$delta"}}},
    ])
    rows = await cursor.to_list()
    return -rows[0]["total"] if rows else 0


async def get_entry(db: Any, idempotency_key: str) -> LedgerEntry | None:
    return await db[LEDGER].find_one({"_id": idempotency_key})


async def page_for_user(db: Any, user_id: str, *, limit: int, cursor: str | None = None,
                        ) -> tuple[list[LedgerEntry], str | None]:
    """Applied entries newest first, and the next page's cursor."""
    return await fetch_page(db[LEDGER], {"user_id": user_id, "status": "applied"},
                            order=[("at", -1), ("_id", -1)], limit=limit, cursor=cursor,
                            kinds=(datetime, str))


async def check_balances(db: Any) -> list[dict[str, Any]]:
    """Every user whose balance differs from the sum of their ledger (read-only).

    A pending entry counts when its key is already on the user (applied to the balance but not
    yet marked), exactly as `settle_pending` would finish it."""
    cursor = await db[LEDGER].aggregate([
        {"$match": {"status": "applied"}},
        {"$group": {"_id": "$user_id", "total": {"$sum": "$delta"}}},
    ])
    sums = {row["_id"]: row["total"] for row in await cursor.to_list()}
    pending: dict[str, list[dict[str, Any]]] = {}
    for entry in await db[LEDGER].find({"status": "pending"}).to_list():
        pending.setdefault(entry["user_id"], []).append(entry)
    mismatches: list[dict[str, Any]] = []
    last_id: str | None = None
    while True:
        query = {} if last_id is None else {"_id": {"$gt": last_id}}
        users = await db[USERS].find(query, {"credits": 1, "ledger_keys": 1}).sort(
            "_id", 1).limit(CHECK_BATCH).to_list()
        if not users:
            break
        for user in users:
            keys = set(user.get("ledger_keys") or [])
            expected = sums.pop(user["_id"], 0) + sum(
                entry["delta"] for entry in pending.get(user["_id"], []) if entry["_id"] in keys)
            balance = user.get("credits", 0)
            if balance != expected:
                mismatches.append({"user_id": user["_id"], "balance": balance,
                                   "ledger_sum": expected})
        last_id = users[-1]["_id"]
    return mismatches


async def entries_of(db: Any, user_id: str) -> list[LedgerEntry]:
    return await db[LEDGER].find({"user_id": user_id, "status": "applied"}).sort(
        "at", 1).to_list()


async def pseudonymise_user(db: Any, user_id: str, pseudonym: str, *,
                            retain_until: datetime) -> int:
    """Keep a deleted account's entries (payment records) under a pseudonym, until then.

    An entry whose key names the user (a trial's grant, `trial:<user id>`) is stored again
    under the key with the pseudonym in its place, so no key still names the person."""
    for entry in await db[LEDGER].find({"user_id": user_id}).to_list():
        if user_id in entry["_id"]:
            with contextlib.suppress(DuplicateKeyError):  # a retry after a crash
                await db[LEDGER].insert_one(
                    {**entry, "_id": entry["_id"].replace(user_id, pseudonym)})
            await db[LEDGER].delete_one({"_id": entry["_id"]})
    result = await db[LEDGER].update_many(
        {"user_id": user_id},
        {"$set": {"user_id": pseudonym, "pseudonymised": True, "retain_until": retain_until}},
    )
    return result.modified_count


async def finish_pending(db: Any, idempotency_key: str) -> LedgerEntry | None:
    """Finish one entry a crash left pending, as `settle_pending` does: applied if the balance
    took it (its key is on the user), else removed (None), so its key can be applied again."""
    entry = await db[LEDGER].find_one({"_id": idempotency_key})
    if entry is None or entry["status"] != "pending":
        return entry
    user = await db[USERS].find_one({"_id": entry["user_id"]})
    if user is not None and idempotency_key in user.get("ledger_keys", []):
        return await _mark_applied(db, idempotency_key, user["credits"])
    await db[LEDGER].delete_one({"_id": idempotency_key, "status": "pending"})
    return None
async def grants_by_user_since(db: Any, since: datetime) -> list[dict[str, Any]]:
    """Per user, credits granted from `since` other than by a purchase (no `order_id`):
    {_id: user_id, credits, count, last_at, reasons}."""
    cursor = await db[LEDGER].aggregate([
        {"$match": {"kind": GRANT, "status": "applied", "at": {"$gte": since},
                    "order_id": {"$exists": False}}},
        {"$group": {"_id": "$user_id", "credits": {"$sum": "$delta"}, "count": {"$sum": 1},
                    "last_at": {"$max": "$at"}, "reasons": {"$addToSet": "$reason"}}},
    ])
    return await cursor.to_list()


async def recent_for_user(db: Any, user_id: str, *, limit: int = 20) -> list[LedgerEntry]:
    return await db[LEDGER].find({"user_id": user_id}).sort("at", -1).limit(limit).to_list()
