"""The admin usage dashboard: daily totals as JSON, and a page with a table and a bar chart
drawn on the server as inline SVG."""

import re

from clonechats.telemetry import events
from clonechats.telemetry.chart import bar_chart, nice_ceiling
from tests.factories import log_in, make_user


async def seed(ctx, clock):
    for credits in (2, 4):
        await events.record_cost(ctx, user_id="u1", provider="local",
                                 model="local:smollm2-135m", prompt_tokens=100,
                                 completion_tokens=20, credits=credits, latency_ms=800,
                                 ttft_ms=120, outcome="complete")
    await events.record_paywall_hit(ctx, user_id="u2", feature="chat")
    clock.advance(days=1)
    await events.record_cost(ctx, user_id="u1", provider="openai", model="openai:gpt-4o-mini",
                             prompt_tokens=50, completion_tokens=10, credits=1,
                             latency_ms=400, ttft_ms=90, outcome="stopped")


async def test_the_usage_api_gives_daily_totals_and_per_model_rows(ctx, client, admin, clock):
    await seed(ctx, clock)

    body = (await client.get("/api/v1/admin/usage?days=7")).json()
    assert body["since"] == "2026-02-24"
    assert len(body["days"]) == 7
    day_one = next(d for d in body["days"] if d["day"] == "2026-03-01")
    assert day_one == {"day": "2026-03-01", "generations": 2, "prompt_tokens": 200,
                       "completion_tokens": 40, "tokens": 240, "credits": 6, "failed": 0,
                       "avg_latency_ms": 800.0, "avg_ttft_ms": 120.0, "paywall_hits": 1}
    assert [(r["day"], r["model"]) for r in body["by_model"]] == [
        ("2026-03-01", "local:smollm2-135m"), ("2026-03-02", "openai:gpt-4o-mini")]


async def test_the_usage_page_renders_a_table_and_an_svg_bar_chart(ctx, client, admin, clock):
    await seed(ctx, clock)

    page = await client.get("/admin/usage?days=7&metric=credits")
    assert page.status_code == 200
    html = page.text
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and "<title id=\"usage-chart-title\">Credits per day" in svg
    heights = [float(h) for h in re.findall(r'<rect class="bar"[^>]* height="([0-9.]+)"', svg)]
    assert len(heights) == 7
    assert heights[-2] > heights[-1] > 0  # 6 credits on the 1st, 1 on the 2nd
    assert heights.count(0.0) == 5
    assert "<script" not in svg and 'style="' not in svg
    assert '<tr data-day="2026-03-01">' in html
    assert "800 ms" in html and "120 ms" in html


async def test_bad_parameters_are_a_clear_4xx(client, admin):
    for url in ("/admin/usage?days=0", "/api/v1/admin/usage?days=999",
                "/admin/usage?metric=secrets"):
        response = await client.get(url, headers={"Accept": "application/json"})
        assert response.status_code == 422, url
        assert "error" in response.json()


async def test_normal_users_cannot_see_usage(ctx, client):
    await make_user(ctx, email="normal@example.com")
    assert (await log_in(client, email="normal@example.com")).status_code == 200
    assert (await client.get("/admin/usage")).status_code == 403
    assert (await client.get("/api/v1/admin/usage")).status_code == 403


def test_chart_geometry():
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 7, 12, 480, 5001)] == [
        1.0, 0.5, 1.0, 10.0, 20.0, 500.0, 10000.0]
    chart = bar_chart([("2026-03-01", 5), ("2026-03-02", None), ("2026-03-03", 10)],
                      width=300, height=100)
    assert chart.top == 10.0
    assert [bar.height for bar in chart.bars] == [32.0, 0.0, 64.0]
    assert all(bar.y + bar.height == chart.plot_bottom for bar in chart.bars)
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10"]
