"""Retention: one table of rules, applied by a daily self-rescheduling job. Tests move the clock
to just before and just after each rule's date."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from clonechats.privacy import retention, retention_rules
from clonechats.privacy.retention_rules import RULES, Rule
from clonechats.telemetry import events
from tests.factories import make_user
from tests.media.samples import wav_bytes, webm_with_video
from tests.privacy.helpers import store_media

HOUR = timedelta(hours=1)

# What a document of each rule needs besides its date, so that the rule applies to it.
SAMPLES: dict[str, dict[str, Any]] = {
    "audit_log": {"event": "login_ok", "user_id": None},
    "login_attempts": {"outcome": "failed", "user_id": None},
    "login_throttle": {"failures": 3},
    "sessions": {"user_id": "someone", "public_id": "{name}"},
    "expired_links": {"purpose": "verify_email", "used_at": None},
    "used_links": {"purpose": "verify_email", "expires_at": datetime(2099, 1, 1)},
    "google_flows": {"stage": "authorize"},
    "signup_blocks": {},
    "trial_devices": {"ip_hash": None},
    "outbox": {"to": "someone@example.com", "subject": "Hi", "idempotency_key": "{name}"},
    "finished_jobs": {"kind": "email.send", "status": "done", "payload": {}},
    "closed_requests": {"status": "done", "kind": "access"},
    "deletion_records": {"status": "done"},
    "payment_orders": {"status": "paid", "user_id": "someone"},
    "sandbox_orders": {"status": "PAID"},
    "webhook_logs": {"provider": "sandbox"},
    "webhook_events": {"status": "done"},
    "deleted_ledger": {"pseudonymised": True, "user_id": "pseudonym:x"},
    "deleted_subscriptions": {"pseudonymised": True, "user_id": "pseudonym:x"},
    "video_jobs": {"owner_id": "someone", "status": "done"},
    "cancelled_scheduled": {"status": "cancelled", "owner_id": "someone", "text": ""},
    "send_keys": {"owner_id": "someone", "conversation_id": "c", "reply_id": None},
}
SAMPLES.update({  # the admin console's data
    "error_traces": {"exception": "builtins.KeyError", "count": 1},
    "rate_limits": {"bucket": "contact", "count": 1},
    "contact_messages": {"status": "closed", "email": "someone@example.com", "user_id": None},
    "two_factor_logins": {"user_id": "someone", "failures": 0},
})
SPECIAL = {"generated_media", "exports", "cost_events", "paywall_hits",
           "unapproved_minors"}  # tests/privacy/test_unapproved_minors.py


def test_every_rule_has_a_test_sample():
    assert {rule.name for rule in RULES} == set(SAMPLES) | SPECIAL


async def plant(ctx: Any, rule: Rule, at: datetime, name: str) -> None:
    fields = {key: value.format(name=name) if isinstance(value, str) else value
              for key, value in SAMPLES[rule.name].items()}  # unique where an index says so
    await ctx.db[rule.collection].insert_one({"_id": name, rule.age_field: at, **fields})


async def present(ctx: Any, rule: Rule) -> set[str]:
    return set(await ctx.db[rule.collection].distinct("_id"))


@pytest.mark.parametrize("rule", [r for r in RULES if r.name in SAMPLES], ids=lambda r: r.name)
async def test_each_rule_removes_documents_once_past_their_date(ctx, rule: Rule):
    start = ctx.clock.now()
    dated = start + (timedelta(days=1) if rule.keep.amount == 0 else timedelta(0))
    await plant(ctx, rule, dated, "planted")
    await plant(ctx, rule, dated + timedelta(days=2), "younger")
    deadline = rule.keep.due(dated)
    ctx.clock.advance(seconds=(deadline - HOUR - start).total_seconds())
    await retention.apply_rules(ctx, rules=(rule,))
    assert {"planted", "younger"} <= await present(ctx, rule)
    ctx.clock.advance(hours=2)
    removed = await retention.apply_rules(ctx, rules=(rule,))
    assert removed == {rule.name: 1}
    assert "planted" not in await present(ctx, rule)
    assert "younger" in await present(ctx, rule)


async def test_payment_records_of_deleted_accounts_also_wait_for_their_own_date(ctx):
    rule = next(r for r in RULES if r.name == "payment_orders")
    now = ctx.clock.now()
    await ctx.db.orders.insert_one({"_id": "o1", "created_at": now, "status": "paid",
                                    "user_id": "pseudonym:x", "pseudonymised": True,
                                    "retain_until": now + rule.keep.delta + timedelta(days=400)})
    ctx.clock.advance(days=rule.keep.delta.days + 1)
    await retention.apply_rules(ctx, rules=(rule,))
    assert await ctx.db.orders.count_documents({}) == 1
    ctx.clock.advance(days=400)
    await retention.apply_rules(ctx, rules=(rule,))
    assert await ctx.db.orders.count_documents({}) == 0


async def test_the_statutory_periods_are_the_policy_ones():
    periods = {rule.name: str(rule.keep) for rule in RULES}
    assert periods["generated_media"] == "90 days"
    assert periods["audit_log"] == "24 months"
    assert periods["payment_orders"] == periods["webhook_logs"] == "7 years"
    assert retention_rules.Keep(7, "years").delta == timedelta(days=7 * 365 + 2)


async def test_generated_clips_and_videos_go_after_90_days_unless_saved(ctx):
    user = await make_user(ctx)
    clip = await store_media(ctx, user["_id"], "voice_clip", wav_bytes(1.0), saved=False)
    video = await store_media(ctx, user["_id"], "video", webm_with_video(), saved=False)
    kept = await store_media(ctx, user["_id"], "voice_clip", wav_bytes(1.0), saved=True)
    reference = await store_media(ctx, user["_id"], "reference_voice", wav_bytes(1.0),
                                  saved=False)
    ctx.clock.advance(days=89)
    assert (await retention.apply_rules(ctx))["generated_media"] == 0
    ctx.clock.advance(days=1, minutes=1)
    assert (await retention.apply_rules(ctx))["generated_media"] == 2
    left = {m["_id"] for m in await ctx.db.media.find({}).to_list()}
    assert left == {kept["_id"], reference["_id"]}
    for gone in (clip, video):
        assert not await ctx.media.exists(gone["key"])
    assert await ctx.media.exists(kept["key"]) and await ctx.media.exists(reference["key"])


async def test_raw_telemetry_is_folded_into_anonymous_daily_totals(ctx):
    for tokens in (10, 20):
        await events.record_cost(ctx, user_id="user-1", provider="local", model="local:m",
                                 prompt_tokens=tokens, completion_tokens=5, credits=2,
                                 latency_ms=100, ttft_ms=None, outcome="complete")
    await events.record_paywall_hit(ctx, user_id="user-1", feature="chat")
    day = ctx.clock.now().date().isoformat()
    ctx.clock.advance(days=29)
    counts = await retention.apply_rules(ctx)
    assert counts["cost_events"] == counts["paywall_hits"] == 0
    ctx.clock.advance(days=1, minutes=1)
    counts = await retention.apply_rules(ctx)
    assert counts["cost_events"] == 2 and counts["paywall_hits"] == 1
    assert await ctx.db.cost_events.count_documents({}) == 0
    assert await ctx.db.paywall_hits.count_documents({}) == 0
    [total] = await events.folded_costs(ctx.db, first_day=day, last_day=day)
    assert total["generations"] == 2 and total["prompt_tokens"] == 30
    assert total["credits"] == 4 and total["ttft_count"] == 0
    assert "user_id" not in total and "user-1" not in str(
        await ctx.db.telemetry_daily.find({}).to_list())
    assert await events.folded_paywall_hits(ctx.db, first_day=day,
                                                    last_day=day) == {day: 1}


async def test_an_interrupted_fold_is_finished_without_counting_twice(ctx):
    await events.record_paywall_hit(ctx, user_id="user-1", feature="chat")
    day = ctx.clock.now().date().isoformat()
    # as if a run had tagged the hit and counted it, then stopped before deleting it
    await ctx.db.paywall_hits.update_many({}, {"$set": {"fold_batch": "b1"}})
    await ctx.db.paywall_daily.insert_one({"_id": f"{day}|chat", "day": day, "feature": "chat",
                                           "hits": 1, "batches": ["b1"]})
    ctx.clock.advance(days=31)
    await retention.apply_rules(ctx)
    assert await ctx.db.paywall_hits.count_documents({}) == 0
    assert await events.folded_paywall_hits(ctx.db, first_day=day,
                                                    last_day=day) == {day: 1}


async def retention_jobs(ctx: Any, status: str = "queued") -> list[dict[str, Any]]:
    return await ctx.db.jobs.find({"kind": retention.RETENTION_JOB, "status": status}).to_list()


async def test_the_daily_job_reschedules_itself(ctx, run_jobs):
    assert await retention_jobs(ctx) == []  # this test app runs no jobs, so seeds none
    await retention.seed(ctx)
    [job] = await retention_jobs(ctx)
    assert job["run_at"] == datetime.fromisoformat("2026-03-02T03:00:00+00:00")
    assert job["dedupe_key"] == "privacy.retention:2026-03-02"
    await retention.seed(ctx)
    assert len(await retention_jobs(ctx)) == 1
    await ctx.db.audit_log.insert_one({"_id": "old", "event": "login_ok", "user_id": None,
                                       "at": ctx.clock.now() - timedelta(days=800)})
    ctx.clock.advance(hours=15)  # 03:00 the next day
    await run_jobs()
    assert await ctx.db.audit_log.count_documents({"_id": "old"}) == 0
    [following] = await retention_jobs(ctx)
    assert following["run_at"] == datetime.fromisoformat("2026-03-03T03:00:00+00:00")
    ctx.clock.advance(days=10)
    await run_jobs()
    [later] = await retention_jobs(ctx)
    assert later["run_at"] == datetime.fromisoformat("2026-03-13T03:00:00+00:00")
    assert len(await retention_jobs(ctx, "done")) == 2


async def test_a_process_that_runs_jobs_seeds_the_daily_chains_at_start_up(tmp_path, clock):
    from clonechats.app import create_app
    from clonechats.media import orphans
    from clonechats.settings import JobSettings
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", jobs=JobSettings(run_in_server=True))
    for _ in range(2):  # a restart finds the chains and adds nothing
        app = create_app(settings, clock=clock)
        async with app.router.lifespan_context(app):
            [job] = await retention_jobs(app.state.ctx)
            [sweep] = await app.state.ctx.db.jobs.find({"kind": orphans.SWEEP_JOB,
                                                        "status": "queued"}).to_list()
    assert job["dedupe_key"] == "privacy.retention:2026-03-02"
    assert sweep["dedupe_key"] == "media.sweep_orphans:2026-03-02"


async def test_the_retention_command_applies_the_rules(ctx):
    from clonechats.privacy.cli import app as privacy_cli

    assert privacy_cli.registered_commands  # `clonechats privacy retention` exists
    await ctx.db.outbox.insert_one({"_id": "mail", "to": "x@example.com",
                                    "created_at": ctx.clock.now() - timedelta(days=40),
                                    "idempotency_key": "k"})
    assert (await retention.apply_rules(ctx))["outbox"] == 1


async def test_the_audit_log_period_is_counted_in_calendar_months(ctx):
    rule = next(r for r in RULES if r.name == "audit_log")
    dated = datetime(2024, 3, 15, 12, 0, tzinfo=ctx.clock.now().tzinfo)
    assert rule.keep.due(dated) == datetime(2026, 3, 15, 12, 0, tzinfo=dated.tzinfo)
    assert rule.keep.before(datetime(2026, 3, 31, tzinfo=dated.tzinfo)).date().isoformat() \
        == "2024-03-31"
    assert retention_rules.Keep(1, "months").due(datetime(2026, 1, 31)) == datetime(2026, 2, 28)
    start = ctx.clock.now()
    await ctx.db.audit_log.insert_one({"_id": "old", "at": start, "event": "login_ok"})
    ctx.clock.advance(days=721)  # past 24 x 30 days, not yet 24 calendar months
    await retention.apply_rules(ctx, rules=(rule,))
    assert await ctx.db.audit_log.count_documents({"_id": "old"}) == 1
    ctx.clock.advance(seconds=(rule.keep.due(start) - ctx.clock.now()).total_seconds() + 3600)
    await retention.apply_rules(ctx, rules=(rule,))
    assert await ctx.db.audit_log.count_documents({"_id": "old"}) == 0
