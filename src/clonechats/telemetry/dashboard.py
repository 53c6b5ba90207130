"""The admin observability dashboard: daily series and breakdowns over telemetry aggregates.

Series, one value per UTC day of the range (oldest first, empty days included):
    generations, tokens, credits_spent, cost (money, from `admin.model_costs`), ttft_p50_ms,
    ttft_p95_ms, failed_generations, error_rate (failed / generations), errors (unhandled
    server errors), paywall_hits, paywall_conversions (users who hit the paywall that day and
    paid an order afterwards), moderation_flags, active_users (distinct users who generated),
    voice_minutes, video_minutes
Breakdowns over the whole range: by model and by provider (generations, tokens, credits,
failures, cost, mean time to first token).

Only counts leave here; the one per-user read (who hit the paywall and who paid) is reduced to
numbers inside `_conversions`. Percentiles and active users come from raw events, which exist
for 30 days (older days were folded into anonymous totals and show no percentile). Never
touches HTTP.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clonechats.billing import orders
from clonechats.safety import flags
from clonechats.telemetry import clips, events
from clonechats.telemetry import errors as error_traces

if TYPE_CHECKING:
    from clonechats.context import Ctx


SERIES = ("generations", "tokens", "credits_spent", "cost", "ttft_p50_ms", "ttft_p95_ms",
          "failed_generations", "error_rate", "errors", "paywall_hits", "paywall_conversions",
          "moderation_flags", "active_users", "voice_minutes", "video_minutes")
LABELS = {
    "generations": "Generations", "tokens": "Tokens", "credits_spent": "Credits spent",
    "cost": "Cost", "ttft_p50_ms": "Time to first token, median (ms)",
    "ttft_p95_ms": "Time to first token, 95th percentile (ms)",
    "failed_generations": "Failed generations", "error_rate": "Generation error rate",
    "errors": "Server errors", "paywall_hits": "Paywall hits",
    "paywall_conversions": "Paywall conversions", "moderation_flags": "Moderation flags",
    "active_users": "Active users", "voice_minutes": "Voice minutes",
    "video_minutes": "Video minutes",
}
MAX_DAYS = 366


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (`share` in 0..1) of `values`, or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1], 1)


def price_for(costs: dict[str, Any], model: str) -> Any:
    """The most specific cost entry for a "provider:name" model id, or None."""
    provider = model.split(":", 1)[0]
    return costs.get(model) or costs.get(f"{provider}:*") or costs.get("*")


def money(costs: dict[str, Any], model: str, prompt_tokens: int,
          completion_tokens: int) -> Decimal:
    price = price_for(costs, model)
    if price is None:
        return Decimal(0)
    return (price.prompt_per_1m * prompt_tokens
            + price.completion_per_1m * completion_tokens) / Decimal(1_000_000)


def day_range(now: datetime, days: int) -> tuple[date, date]:
    last = now.astimezone(UTC).date()
    return last - timedelta(days=days - 1), last


async def _raw_cost_facts(ctx: Ctx, first: date, last: date) -> dict[str, dict[str, Any]]:
    """Per day: the times to first token and the set of users, from raw events."""
    rows = await events.raw_costs(ctx.db, first_day=first.isoformat(),
                                  last_day=last.isoformat())
    facts: dict[str, dict[str, Any]] = {}
    for row in rows:
        fact = facts.setdefault(row["day"], {"ttft": [], "users": set()})
        if row.get("ttft_ms") is not None:
            fact["ttft"].append(float(row["ttft_ms"]))
        if row.get("user_id"):
            fact["users"].add(row["user_id"])
    return facts


async def _conversions(ctx: Ctx, first: date, last: date) -> dict[str, int]:
    """Per day of the hit: users who hit the paywall that day and paid an order after it."""
    since = datetime.combine(first, time(0), tzinfo=UTC)
    hits = await events.raw_paywall_hits(ctx.db, first_day=first.isoformat(),
                                         last_day=last.isoformat())
    first_hit: dict[tuple[str, str], datetime] = {}
    for hit in hits:
        key = (hit["day"], hit["user_id"])
        moment = _aware(hit["ts"])
        first_hit[key] = min(first_hit.get(key, moment), moment)
    paid = await orders.paid_for_users(ctx.db, sorted({user for _, user in first_hit}),
                                       since=since)
    paid_at: dict[str, list[datetime]] = {}
    for order in paid:
        if order["paid_at"] is not None:  # the query asks for paid orders only
            paid_at.setdefault(order["user_id"], []).append(_aware(order["paid_at"]))
    converted: dict[str, int] = {}
    for (day, user), moment in first_hit.items():
        if any(when >= moment for when in paid_at.get(user, [])):
            converted[day] = converted.get(day, 0) + 1
    return converted


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def build(ctx: Ctx, *, days: int = 30, first: date | None = None,
                last: date | None = None) -> dict[str, Any]:
    """The dashboard over the last `days` days, or over `first`..`last` when both are given."""
    if first is None or last is None:
        first, last = day_range(ctx.clock.now(), days)
    costs = ctx.settings.admin.model_costs
    by_day = await events.daily_totals(ctx, since=first, until=last)
    by_model_day = await events.daily_aggregates(ctx, since=first, until=last)
    facts = await _raw_cost_facts(ctx, first, last)
    error_counts = await error_traces.daily_counts(ctx, first_day=first, last_day=last)
    flag_counts = await flags.daily_counts(ctx, since=datetime.combine(first, time(0),
                                                                       tzinfo=UTC))
    minutes = await clips.daily_minutes(ctx, first_day=first, last_day=last)
    conversions = await _conversions(ctx, first, last)
    cost_by_day: dict[str, Decimal] = {}
    models: dict[str, dict[str, Any]] = {}
    providers: dict[str, dict[str, Any]] = {}
    for row in by_model_day:
        amount = money(costs, row["model"], row["prompt_tokens"], row["completion_tokens"])
        cost_by_day[row["day"]] = cost_by_day.get(row["day"], Decimal(0)) + amount
        for table, key in ((models, row["model"]), (providers, row["provider"])):
            total = table.setdefault(key, {"generations": 0, "tokens": 0, "credits": 0,
                                           "failed": 0, "cost": Decimal(0),
                                           "ttft_ms_total": 0.0, "ttft_count": 0})
            for name in ("generations", "tokens", "credits", "failed", "ttft_ms_total",
                         "ttft_count"):
                total[name] += row[name]
            total["cost"] += amount
    daily = []
    for row in by_day:
        day = row["day"]
        fact = facts.get(day, {"ttft": [], "users": set()})
        generations = row["generations"]
        daily.append({
            "day": day, "generations": generations, "tokens": row["tokens"],
            "credits_spent": row["credits"],
            "cost": float(round(cost_by_day.get(day, Decimal(0)), 4)),
            "ttft_p50_ms": percentile(fact["ttft"], 0.5),
            "ttft_p95_ms": percentile(fact["ttft"], 0.95),
            "failed_generations": row["failed"],
            "error_rate": round(row["failed"] / generations, 4) if generations else 0.0,
            "errors": error_counts.get(day, 0), "paywall_hits": row["paywall_hits"],
            "paywall_conversions": conversions.get(day, 0),
            "moderation_flags": flag_counts.get(day, 0), "active_users": len(fact["users"]),
            "voice_minutes": minutes.get(day, {}).get(clips.VOICE_CLIP, 0.0),
            "video_minutes": minutes.get(day, {}).get(clips.VIDEO_CLIP, 0.0),
        })
    return {"first_day": first.isoformat(), "last_day": last.isoformat(),
            "days": len(daily), "currency": ctx.settings.admin.currency, "daily": daily,
            "totals": _totals(daily),
            "by_model": _breakdown(models, "model"), "by_provider": _breakdown(providers,
                                                                               "provider")}


def _totals(daily: list[dict[str, Any]]) -> dict[str, Any]:
    summed = ("generations", "tokens", "credits_spent", "failed_generations", "errors",
              "paywall_hits", "paywall_conversions", "moderation_flags", "voice_minutes",
              "video_minutes")
    totals: dict[str, Any] = {name: sum(row[name] for row in daily) for name in summed}
    totals["cost"] = round(sum(row["cost"] for row in daily), 4)
    totals["error_rate"] = (round(totals["failed_generations"] / totals["generations"], 4)
                            if totals["generations"] else 0.0)
    totals["conversion_rate"] = (round(totals["paywall_conversions"] / totals["paywall_hits"], 4)
                                 if totals["paywall_hits"] else 0.0)
    totals["active_users_peak"] = max((row["active_users"] for row in daily), default=0)
    return totals


def _breakdown(table: dict[str, dict[str, Any]], key: str) -> list[dict[str, Any]]:
    rows = []
    for name, total in sorted(table.items(), key=lambda item: -item[1]["generations"]):
        rows.append({key: name, "generations": total["generations"], "tokens": total["tokens"],
                     "credits": total["credits"], "failed": total["failed"],
                     "cost": float(round(total["cost"], 4)),
                     "avg_ttft_ms": (round(total["ttft_ms_total"] / total["ttft_count"], 1)
                                     if total["ttft_count"] else None)})
    return rows


def to_csv(dashboard: dict[str, Any]) -> str:
    """One row per day, one column per series (numbers only, no personal data)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", *SERIES])
    for row in dashboard["daily"]:
        writer.writerow([row["day"], *("" if row[name] is None else row[name]
                                       for name in SERIES)])
    return out.getvalue()
