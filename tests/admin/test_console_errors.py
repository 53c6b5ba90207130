"""Error traces: unhandled errors grouped by fingerprint from the app's error handler, with
nothing of the request kept, and deleted with the telemetry rule."""

from datetime import timedelta

import httpx
import pytest

from clonechats.privacy import retention
from clonechats.telemetry import errors as error_traces
from tests.factories import csrf, log_in, make_user

ERRORS = "/api/v1/admin/errors"
SECRET_TEXT = "ann@example.com said: my token is tok_live_123 from 203.0.113.9"


@pytest.fixture
async def raw_client(app):
    """A browser whose server errors come back as 500 responses, not exceptions."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def failing_route(app):
    async def leak(item_id: str) -> None:
        raise KeyError(SECRET_TEXT)

    app.add_api_route("/api/v1/test-failure/{item_id}", leak, methods=["GET"])


async def sign_in_admin(ctx, http):
    await make_user(ctx, email="admin@example.com", role="admin")
    assert (await log_in(http, email="admin@example.com")).status_code == 200


async def test_a_forced_error_shows_up_as_a_group(ctx, raw_client):
    await sign_in_admin(ctx, raw_client)
    assert (await raw_client.get(ERRORS)).json()["items"] == []
    for _ in range(2):
        response = await raw_client.post(f"{ERRORS}/probe", headers=csrf(raw_client))
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
    [group] = (await raw_client.get(ERRORS)).json()["items"]
    assert group["exception"].endswith("ErrorProbe")
    assert group["route"] == "/api/v1/admin/errors/probe"
    assert group["count"] == 2 and group["first_seen"] == group["last_seen"]
    assert group["frames"][0].startswith("clonechats/telemetry/dashboard_routes.py:")
    page = await raw_client.get("/admin/errors")
    assert group["fingerprint"] in page.text and "2×" in page.text
    assert (await raw_client.get("/api/v1/admin/dashboard?days=1")).json()["daily"][-1][
        "errors"] == 2


async def test_nothing_of_the_request_or_the_message_is_kept(ctx, raw_client, failing_route):
    for item in ("a", "b"):
        assert (await raw_client.get(f"/api/v1/test-failure/{item}")).status_code == 500
    [stored] = await ctx.db[error_traces.ERROR_GROUPS].find({}).to_list()
    assert stored["count"] == 2  # the same bug on two different ids is one group
    assert stored["route"] == "/api/v1/test-failure/{item_id}"
    assert stored["exception"] == "builtins.KeyError"
    text = repr(stored) + repr(await ctx.db[error_traces.ERROR_DAILY].find({}).to_list())
    for leak in ("ann@example.com", "tok_live_123", "203.0.113.9", "127.0.0.1"):
        assert leak not in text


async def test_groups_go_after_30_days_and_daily_counts_stay(ctx, raw_client, clock):
    await sign_in_admin(ctx, raw_client)
    await raw_client.post(f"{ERRORS}/probe", headers=csrf(raw_client))
    clock.advance(days=29)
    await retention.apply_rules(ctx)
    assert await ctx.db[error_traces.ERROR_GROUPS].count_documents({}) == 1
    clock.advance(days=2)
    counts = await retention.apply_rules(ctx)
    assert counts["error_traces"] == 1
    assert await ctx.db[error_traces.ERROR_GROUPS].count_documents({}) == 0
    assert await ctx.db[error_traces.ERROR_DAILY].count_documents({}) == 1
    first_day = (clock.now() - timedelta(days=31)).date()
    assert await error_traces.daily_counts(ctx, first_day=first_day,
                                           last_day=clock.now().date()) == {
        first_day.isoformat(): 1}


async def test_the_probe_is_for_admins_only(ctx, raw_client):
    response = await raw_client.post(f"{ERRORS}/probe")
    assert response.status_code in (401, 403)
    assert await ctx.db[error_traces.ERROR_GROUPS].count_documents({}) == 0
