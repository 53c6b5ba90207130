"""Cost-meter events and paywall hits: what each generation cost and where users ran out.

A cost event (collection `cost_events`), one per generation, however it ended:
    _id, user_id, ts, day ("YYYY-MM-DD", UTC), provider, model, prompt_tokens,
    completion_tokens, credits, latency_ms, ttft_ms (None when no token arrived), outcome
A paywall hit (collection `paywall_hits`): _id, user_id, ts, day, feature

Neither holds any message text. They feed the admin usage dashboard (`daily_aggregates`,
`daily_totals`). Past their retention the retention job folds raw events into anonymous daily
totals (`telemetry_daily`, `paywall_daily`; written by `telemetry.fold`); the aggregates here
count both. When an account is deleted its events lose their user id and stay only as anonymous
counts (privacy policy: telemetry and cost meters are kept in anonymised, aggregate form); until
then the person's own events are part of their data export. Both parts are registered with the
privacy registry below (imported through `domains.PERSONAL_DATA_ORDER`).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.privacy.registry import DataHolder, Owned, register
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


COST_EVENTS = "cost_events"
PAYWALL_HITS = "paywall_hits"
COST_DAILY = "telemetry_daily"
PAYWALL_DAILY = "paywall_daily"
COLLECTIONS = (COST_EVENTS, PAYWALL_HITS, COST_DAILY, PAYWALL_DAILY)
COST_EVENTS_EXPIRING = Expiring(COST_EVENTS)
PAYWALL_HITS_EXPIRING = Expiring(PAYWALL_HITS)
SUM_FIELDS = ("generations", "prompt_tokens", "completion_tokens", "credits", "latency_ms_total",
              "ttft_ms_total", "ttft_count", "failed")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")

INDEXES = [
    Index(COST_EVENTS, [("day", 1), ("provider", 1), ("model", 1)]),
    Index(COST_EVENTS, [("user_id", 1), ("ts", 1)]),
    Index(PAYWALL_HITS, [("day", 1)]),
    Index(PAYWALL_HITS, [("user_id", 1), ("ts", 1)]),
]


def _day(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        return moment.date().isoformat()
    return moment.isoformat()


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


def _millis(name: str, value: Any, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a non-negative number of milliseconds")
    return float(value)


async def record_cost(ctx: Ctx, *, user_id: str | None, provider: str, model: str,
                      prompt_tokens: int, completion_tokens: int, credits: int,
                      latency_ms: float, ttft_ms: float | None, outcome: str) -> None:
    """One generation's cost-meter event; `model` is the "provider:model" id."""
    if _NAME.fullmatch(outcome) is None:
        raise ValueError(f"outcome must be a snake_case name, not {outcome!r}")
    if not provider or not model:
        raise ValueError("provider and model are required")
    now = ctx.clock.now()
    await ctx.db[COST_EVENTS].insert_one({
        "_id": secrets.token_hex(12),
        "user_id": user_id,
        "ts": now,
        "day": _day(now),
        "provider": provider,
        "model": model,
        "prompt_tokens": _count("prompt_tokens", prompt_tokens),
        "completion_tokens": _count("completion_tokens", completion_tokens),
        "credits": _count("credits", credits),
        "latency_ms": _millis("latency_ms", latency_ms),
        "ttft_ms": _millis("ttft_ms", ttft_ms, optional=True),
        "outcome": outcome,
    })


async def record_paywall_hit(ctx: Ctx, *, user_id: str | None, feature: str) -> None:
    """A user was stopped for lack of credits (or plan) before using `feature`."""
    if _NAME.fullmatch(feature) is None:
        raise ValueError(f"feature must be a snake_case name, not {feature!r}")
    now = ctx.clock.now()
    await ctx.db[PAYWALL_HITS].insert_one({"_id": secrets.token_hex(12), "user_id": user_id,
                                           "ts": now, "day": _day(now), "feature": feature})


def _day_range(since: date | datetime, until: date | datetime | None,
               now: datetime) -> tuple[str, str]:
    return _day(since), _day(until if until is not None else now)


async def folded_costs(db: Any, *, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Folded daily totals per provider and model, in the shape of the raw aggregates."""
    rows = await db[COST_DAILY].find({"day": {"$gte": first_day, "$lte": last_day}},
                                     {"batches": 0}).to_list()
    return [{k: v for k, v in row.items() if k != "_id"} for row in rows]


async def folded_paywall_hits(db: Any, *, first_day: str, last_day: str) -> dict[str, int]:
    rows = await db[PAYWALL_DAILY].find({"day": {"$gte": first_day, "$lte": last_day}}).to_list()
    hits: dict[str, int] = {}
    for row in rows:
        hits[row["day"]] = hits.get(row["day"], 0) + row["hits"]
    return hits


async def daily_aggregates(ctx: Ctx, *, since: date | datetime,
                           until: date | datetime | None = None) -> list[dict[str, Any]]:
    """Per day, provider and model (days in UTC, `since`..`until` inclusive, default up to
    today): generations, tokens, credits, failures, mean latency and time to first token.
    Days whose raw events were already folded into anonymous totals by the retention job
    (`telemetry.fold`) are counted from those totals."""
    first, last = _day_range(since, until, ctx.clock.now())
    cursor = await ctx.db[COST_EVENTS].aggregate([
        {"$match": {"day": {"$gte": first, "$lte": last}}},
        {"$group": {
            "_id": {"day": "$day", "provider": "$provider", "model": "$model"},
            "generations": {"$sum": 1},
            "prompt_tokens": {"$sum": "$prompt_tokens"},
            "completion_tokens": {"$sum": "$completion_tokens"},
            "credits": {"$sum": "$credits"},
            "latency_ms_total": {"$sum": "$latency_ms"},
            "ttft_ms_total": {"$sum": {"$ifNull": ["$ttft_ms", 0]}},
            "ttft_count": {"$sum": {"$cond": [{"$eq": [{"$ifNull": ["$ttft_ms", None]}, None]},
                                              0, 1]}},
            "failed": {"$sum": {"$cond": [{"$eq": ["$outcome", "failed"]}, 1, 0]}},
        }},
    ])
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    folded = await folded_costs(ctx.db, first_day=first, last_day=last)
    for row in [*await cursor.to_list(), *folded]:
        key = row.get("_id", row)
        total = groups.setdefault((key["day"], key["provider"], key["model"]),
                                  dict.fromkeys(SUM_FIELDS, 0))
        for name in SUM_FIELDS:
            total[name] += row.get(name) or 0
    rows = []
    for (day, provider, model), total in sorted(groups.items()):
        rows.append({"day": day, "provider": provider, "model": model, **total,
                     "tokens": total["prompt_tokens"] + total["completion_tokens"],
                     "avg_latency_ms": _mean(total["latency_ms_total"], total["generations"]),
                     "avg_ttft_ms": _mean(total["ttft_ms_total"], total["ttft_count"])})
    return rows


async def daily_paywall_hits(ctx: Ctx, *, since: date | datetime,
                             until: date | datetime | None = None) -> dict[str, int]:
    """Paywall hits per day, raw and already folded ones together."""
    first, last = _day_range(since, until, ctx.clock.now())
    cursor = await ctx.db[PAYWALL_HITS].aggregate([
        {"$match": {"day": {"$gte": first, "$lte": last}}},
        {"$group": {"_id": "$day", "hits": {"$sum": 1}}},
    ])
    hits = await folded_paywall_hits(ctx.db, first_day=first, last_day=last)
    for group in await cursor.to_list():
        hits[group["_id"]] = hits.get(group["_id"], 0) + group["hits"]
    return hits


async def daily_totals(ctx: Ctx, *, since: date | datetime,
                       until: date | datetime | None = None) -> list[dict[str, Any]]:
    """One row per day of the range, oldest first, empty days included (for tables and
    charts): the day's sums over every provider and model, plus its paywall hits."""
    first, last = _day_range(since, until, ctx.clock.now())
    totals: dict[str, dict[str, Any]] = {}
    day = date.fromisoformat(first)
    while day.isoformat() <= last:
        totals[day.isoformat()] = {
            "day": day.isoformat(), "generations": 0, "prompt_tokens": 0,
            "completion_tokens": 0, "tokens": 0, "credits": 0, "failed": 0,
            "latency_ms_total": 0.0, "ttft_ms_total": 0.0, "ttft_count": 0, "paywall_hits": 0}
        day += timedelta(days=1)
    for row in await daily_aggregates(ctx, since=since, until=until):
        total = totals[row["day"]]
        for name in ("generations", "prompt_tokens", "completion_tokens", "tokens", "credits",
                     "failed", "latency_ms_total", "ttft_ms_total", "ttft_count"):
            total[name] += row[name]
    for hit_day, hits in (await daily_paywall_hits(ctx, since=since, until=until)).items():
        totals[hit_day]["paywall_hits"] = hits
    for total in totals.values():
        total["avg_latency_ms"] = _mean(total["latency_ms_total"], total["generations"])
        total["avg_ttft_ms"] = _mean(total["ttft_ms_total"], total["ttft_count"])
    return list(totals.values())


def _mean(total: float, count: int) -> float | None:
    return round(total / count, 1) if count else None


async def raw_costs(db: Any, *, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Raw cost events of those days (not yet folded): `day`, `ttft_ms`, `user_id`."""
    return await db[COST_EVENTS].find({"day": {"$gte": first_day, "$lte": last_day}},
                                      {"day": 1, "ttft_ms": 1, "user_id": 1}).to_list()


async def raw_paywall_hits(db: Any, *, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Raw paywall hits of signed-in users on those days: `day`, `user_id`, `ts`."""
    return await db[PAYWALL_HITS].find(
        {"day": {"$gte": first_day, "$lte": last_day}, "user_id": {"$ne": None}},
        {"day": 1, "user_id": 1, "ts": 1}).to_list()


# Personal data: export while the account exists, anonymise when it is deleted.

async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    costs = await ctx.db[COST_EVENTS].find({"user_id": user_id}).sort("ts", 1).to_list()
    hits = await ctx.db[PAYWALL_HITS].find({"user_id": user_id}).sort("ts", 1).to_list()
    fields = ("provider", "model", "prompt_tokens", "completion_tokens", "credits",
              "latency_ms", "ttft_ms", "outcome")
    return {
        "cost_events": [{"at": e["ts"].isoformat(), **{k: e.get(k) for k in fields}}
                        for e in costs],
        "paywall_hits": [{"at": h["ts"].isoformat(), "feature": h["feature"]} for h in hits],
    }


async def delete(ctx: Ctx, user_id: str) -> int:
    changed = 0
    for raw in (ctx.db[COST_EVENTS], ctx.db[PAYWALL_HITS]):
        result = await raw.update_many({"user_id": user_id}, {"$set": {"user_id": None}})
        changed += result.modified_count
    return changed


register(DataHolder(name="telemetry", description="Cost-meter events of your generations and "
                    "paywall hits (kept without your user id, as anonymous counts, after the "
                    "account is deleted).", export=export, delete=delete,
                    collections=(Owned(COST_EVENTS, owner_field="user_id", nullable_owner=True),
                                 Owned(PAYWALL_HITS, owner_field="user_id",
                                       nullable_owner=True))))
