"""The observability dashboard: series that move when people use the product, breakdowns by
model and provider, money cost, the date range, CSV export and the page's charts."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from clonechats.billing import orders
from clonechats.providers.llm.registry import LLMRegistry
from clonechats.providers.moderation.base import ModerationResult
from clonechats.safety import flags
from clonechats.settings import AdminSettings, ProviderCost
from clonechats.telemetry import clips, events
from tests.chat.conftest import ScriptedModerator, chat_settings, member
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import csrf
from tests.fakes.llm import FAKE_MODEL, FakeLLMProvider

DASHBOARD = "/api/v1/admin/dashboard"


@pytest.fixture
def settings(tmp_path):
    costs = {"fake:*": ProviderCost(prompt_per_1m=Decimal(1000), completion_per_1m=Decimal(2000))}
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         chat=chat_settings(), admin=AdminSettings(model_costs=costs))


@pytest.fixture
def fake_llm(ctx):
    fake = FakeLLMProvider()
    ctx.llm = LLMRegistry([fake], default_model=FAKE_MODEL.id)
    ctx.moderation = ScriptedModerator()
    return fake


def today(body):
    return body["daily"][-1]


async def test_charts_move_after_a_user_chats(client, ctx, admin, new_client, fake_llm):
    before = (await client.get(f"{DASHBOARD}?days=7")).json()
    assert before["days"] == 7 and len(before["daily"]) == 7
    assert today(before)["generations"] == 0 and today(before)["active_users"] == 0

    ann = await member(new_client(), ctx, "ann@example.com")
    await ann.grant(100)
    persona = await ann.persona()
    conversation = await ann.conversation(persona["_id"])
    fake_llm.enqueue(["Hi", " there", " friend"])
    reply = await ann.say(conversation["id"], "Hello!", stream="false")
    assert reply.status_code == 201, reply.text

    after = (await client.get(f"{DASHBOARD}?days=7")).json()
    row = today(after)
    assert row["generations"] == 1
    assert row["tokens"] > 0 and row["credits_spent"] == 3
    assert row["active_users"] == 1
    assert row["ttft_p50_ms"] is not None and row["ttft_p95_ms"] is not None
    assert row["error_rate"] == 0.0
    assert row["cost"] > 0  # fake:* costs money per the settings
    [model] = after["by_model"]
    assert model["model"] == FAKE_MODEL.id and model["generations"] == 1
    assert after["by_provider"][0]["provider"] == "fake"

    page = await client.get("/admin?days=7")
    assert page.status_code == 200
    day = ctx.clock.now().date().isoformat()
    bar = re.search(r'<rect class="bar"[^>]*data-day="' + day + r'" data-value="([0-9.]+)"',
                    page.text)
    assert bar and float(bar.group(1)) == 1.0  # the generations chart comes first
    assert 'role="img"' in page.text and "<title id=" in page.text


async def test_paywall_conversions_flags_errors_and_clip_minutes(client, ctx, admin, clock):
    user_id = "buyer0000000000000000000"
    await events.record_paywall_hit(ctx, user_id=user_id, feature="chat")
    await events.record_paywall_hit(ctx, user_id="other000000000000000000", feature="chat")
    clock.advance(minutes=5)
    await orders.insert(ctx.db, {"_id": orders.new_order_id(), "user_id": user_id,
                                 "status": orders.PAID, "paid_at": clock.now(),
                                 "created_at": clock.now(), "credits": 200})
    await flags.record_flag(ctx, user_id=user_id, subject="user_message", ref_id="m1",
                            result=ModerationResult(flagged=True, categories={"hate": 1.0},
                                                    reason="hate"))
    await clips.record_clip(ctx, name=clips.VOICE_CLIP, seconds=90, provider="local")
    await clips.record_clip(ctx, name=clips.VIDEO_CLIP, seconds=30, provider="local")
    row = today((await client.get(f"{DASHBOARD}?days=1")).json())
    assert row["paywall_hits"] == 2 and row["paywall_conversions"] == 1
    assert row["moderation_flags"] == 1
    assert row["voice_minutes"] == 1.5 and row["video_minutes"] == 0.5
    with pytest.raises(ValueError):
        await clips.record_clip(ctx, name="audio.clip", seconds=1, provider="local")


async def test_a_custom_range_and_csv_export(client, ctx, admin, clock):
    await events.record_paywall_hit(ctx, user_id=None, feature="chat")
    clock.advance(days=3)
    start = (clock.now() - timedelta(days=4)).date().isoformat()
    end = (clock.now() - timedelta(days=2)).date().isoformat()
    body = (await client.get(DASHBOARD, params={"start": start, "end": end})).json()
    assert body["daily"][0]["day"] == start and body["days"] == 3
    assert sum(row["paywall_hits"] for row in body["daily"]) == 1

    csv = await client.get(DASHBOARD, params={"days": 4, "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.strip().split("\n")
    assert lines[0].startswith("day,generations,tokens,credits_spent,cost,ttft_p50_ms")
    assert len(lines) == 5 and any(",1,0,0," in line for line in lines[1:])

    page = await client.get("/admin", params={"start": start, "end": end})
    assert page.status_code == 200 and f'value="{start}"' in page.text


async def test_bad_ranges_are_422(client, admin):
    for params in ({"days": 0}, {"days": 400}, {"start": "2026-03-05", "end": "2026-03-01"},
                   {"start": "2026-03-01"}, {"start": "2024-01-01", "end": "2026-03-01"},
                   {"format": "xml"}):
        response = await client.get(DASHBOARD, params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["code"] in ("validation_failed", "invalid_range")


async def test_the_dashboard_is_for_admins_only(client, ctx):
    assert (await client.get(DASHBOARD)).status_code == 401
    from tests.factories import log_in, make_user

    await make_user(ctx, email="normal@example.com")
    await log_in(client, email="normal@example.com")
    assert (await client.get(DASHBOARD, headers=csrf(client))).status_code == 403
    page = await client.get("/", headers={"Accept": "text/html"})
    assert 'href="/admin"' not in page.text  # no Admin link for normal users


async def test_admins_see_the_admin_link(client, admin):
    page = await client.get("/", headers={"Accept": "text/html"})
    assert '<a href="/admin">Admin</a>' in page.text
