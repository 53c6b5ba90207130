"""Cost-meter events and paywall hits: what is stored, the daily aggregates, and what happens
to them on export and account deletion."""

from datetime import date, timedelta

import pytest

from clonechats.privacy import registry
from clonechats.telemetry import events


async def cost(ctx, **overrides):
    values = {"user_id": "u1", "provider": "local", "model": "local:smollm2-135m",
              "prompt_tokens": 100, "completion_tokens": 50, "credits": 2,
              "latency_ms": 1000.0, "ttft_ms": 200.0, "outcome": "complete"}
    values.update(overrides)
    await events.record_cost(ctx, **values)


async def test_a_cost_event_holds_the_meter_fields_and_no_text(ctx):
    await cost(ctx)

    [stored] = await ctx.db.cost_events.find({}).to_list()
    assert set(stored) == {"_id", "user_id", "ts", "day", "provider", "model", "prompt_tokens",
                           "completion_tokens", "credits", "latency_ms", "ttft_ms", "outcome"}
    assert stored["ts"] == ctx.clock.now()
    assert stored["day"] == "2026-03-01"
    assert (stored["prompt_tokens"], stored["completion_tokens"], stored["credits"]) == (
        100, 50, 2)


async def test_a_paywall_hit_records_who_and_which_feature(ctx):
    await events.record_paywall_hit(ctx, user_id="u1", feature="chat")

    [stored] = await ctx.db.paywall_hits.find({}).to_list()
    assert {k: stored[k] for k in ("user_id", "feature", "day")} == {
        "user_id": "u1", "feature": "chat", "day": "2026-03-01"}


@pytest.mark.parametrize("bad", [
    {"prompt_tokens": -1}, {"completion_tokens": 1.5}, {"credits": True},
    {"latency_ms": -3}, {"ttft_ms": "fast"}, {"outcome": "Done!"}, {"model": ""},
])
async def test_malformed_events_are_refused_and_nothing_is_stored(ctx, bad):
    with pytest.raises(ValueError):
        await cost(ctx, **bad)
    with pytest.raises(ValueError):
        await events.record_paywall_hit(ctx, user_id="u1", feature="")
    assert await ctx.db.cost_events.count_documents({}) == 0
    assert await ctx.db.paywall_hits.count_documents({}) == 0


async def test_daily_aggregates_group_by_day_provider_and_model(ctx, clock):
    await cost(ctx, latency_ms=1000, ttft_ms=200)
    await cost(ctx, latency_ms=3000, ttft_ms=None, outcome="failed", completion_tokens=0,
               credits=0)
    await cost(ctx, provider="openai", model="openai:gpt-4o-mini", credits=5)
    clock.advance(days=1)
    await cost(ctx, prompt_tokens=10, completion_tokens=5, credits=1, latency_ms=500,
               ttft_ms=100)

    rows = await events.daily_aggregates(ctx, since=date(2026, 3, 1))
    assert [(r["day"], r["provider"], r["model"], r["generations"]) for r in rows] == [
        ("2026-03-01", "local", "local:smollm2-135m", 2),
        ("2026-03-01", "openai", "openai:gpt-4o-mini", 1),
        ("2026-03-02", "local", "local:smollm2-135m", 1),
    ]
    local_day_one = rows[0]
    assert local_day_one["prompt_tokens"] == 200
    assert local_day_one["completion_tokens"] == 50
    assert local_day_one["tokens"] == 250
    assert local_day_one["credits"] == 2
    assert local_day_one["failed"] == 1
    assert local_day_one["avg_latency_ms"] == 2000.0
    assert local_day_one["avg_ttft_ms"] == 200.0  # the failed one never produced a token

    later = await events.daily_aggregates(ctx, since=date(2026, 3, 2))
    assert [r["day"] for r in later] == ["2026-03-02"]


async def test_daily_totals_cover_every_day_with_paywall_hits(ctx, clock):
    await cost(ctx, credits=3)
    await events.record_paywall_hit(ctx, user_id="u2", feature="chat")
    clock.advance(days=2)
    await events.record_paywall_hit(ctx, user_id="u2", feature="chat")
    await events.record_paywall_hit(ctx, user_id="u3", feature="chat")

    totals = await events.daily_totals(ctx, since=clock.now() - timedelta(days=3))
    assert [(t["day"], t["generations"], t["credits"], t["paywall_hits"]) for t in totals] == [
        ("2026-02-28", 0, 0, 0), ("2026-03-01", 1, 3, 1), ("2026-03-02", 0, 0, 0),
        ("2026-03-03", 0, 0, 2)]
    assert totals[0]["avg_latency_ms"] is None
    assert totals[1]["avg_ttft_ms"] == 200.0


async def test_folded_days_still_count_in_the_aggregates(ctx, clock):
    from clonechats.telemetry import fold as telemetry_fold

    await cost(ctx, credits=3, ttft_ms=100)
    await events.record_paywall_hit(ctx, user_id="u2", feature="chat")
    clock.advance(days=1)
    await cost(ctx, credits=4, ttft_ms=300)
    before = await events.daily_totals(ctx, since=date(2026, 3, 1))
    await telemetry_fold.fold(ctx, events.COST_EVENTS, before=clock.now())
    await telemetry_fold.fold(ctx, events.PAYWALL_HITS, before=clock.now())
    await cost(ctx, credits=5, ttft_ms=200)

    assert await ctx.db.cost_events.count_documents({}) == 2
    rows = await events.daily_aggregates(ctx, since=date(2026, 3, 1))
    assert [(r["day"], r["generations"], r["credits"], r["avg_ttft_ms"]) for r in rows] == [
        ("2026-03-01", 1, 3, 100.0), ("2026-03-02", 2, 9, 250.0)]
    after = await events.daily_totals(ctx, since=date(2026, 3, 1))
    assert after[0] == before[0]
    assert after[0]["paywall_hits"] == 1


async def test_export_lists_a_persons_events_and_deletion_leaves_anonymous_counts(ctx):
    await cost(ctx, user_id="u1")
    await cost(ctx, user_id="u2")
    await events.record_paywall_hit(ctx, user_id="u1", feature="chat")
    holder = next(h for h in registry.holders() if h.name == "telemetry")

    exported = await holder.export(ctx, "u1")
    assert len(exported["cost_events"]) == 1
    assert exported["cost_events"][0]["model"] == "local:smollm2-135m"
    assert exported["paywall_hits"] == [{"at": ctx.clock.now().isoformat(), "feature": "chat"}]

    assert await holder.delete(ctx, "u1") == 2
    assert await ctx.db.cost_events.count_documents({"user_id": "u1"}) == 0
    assert await ctx.db.paywall_hits.count_documents({"user_id": "u1"}) == 0
    [today] = await events.daily_totals(ctx, since=ctx.clock.now())
    assert (today["generations"], today["paywall_hits"]) == (2, 1)
