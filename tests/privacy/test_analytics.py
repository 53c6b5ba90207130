"""Analytics: nothing is collected before consent; with consent, only anonymous daily counts."""

from clonechats.privacy import analytics
from tests.factories import Member
from tests.privacy.helpers import everything

EVENT = "/api/v1/privacy/analytics/event"


async def opt(who: Member, value: bool) -> None:
    response = await who.send("PATCH", "/api/v1/privacy/settings",
                              json={"analytics_opt_in": value})
    assert response.status_code == 200, response.text
    assert response.json()["analytics_opt_in"] is value


async def test_analytics_are_off_by_default(ann: Member):
    body = (await ann.client.get("/api/v1/privacy/settings")).json()
    assert body["analytics_opt_in"] is False and body["consent_history"] == []


async def test_events_from_a_user_without_consent_leave_no_trace(ann: Member, ctx):
    before = await everything(ctx)
    for payload in ({"kind": "page", "name": "/personas"},
                    {"kind": "page", "name": "/settings/privacy"},
                    {"kind": "feature", "name": "export_requested"}):
        response = await ann.send("POST", EVENT, json=payload)
        assert response.status_code == 200 and response.json() == {"counted": False}
    assert await everything(ctx) == before


async def test_anonymous_visitors_are_never_counted(anonymous, ctx):
    await anonymous.get("/")
    before = await everything(ctx)
    response = await anonymous.post(EVENT, json={"kind": "page", "name": "/"})
    assert response.status_code == 401
    assert await everything(ctx) == before


async def test_with_consent_pages_are_counted_by_template_without_the_user(ann: Member, bob,
                                                                          ctx):
    await opt(ann, True)
    persona_page = "/personas/0123456789abcdef01234567"
    for name in ("/personas", "/personas", persona_page):
        response = await ann.send("POST", EVENT, json={"kind": "page", "name": name})
        assert response.json() == {"counted": True}
    assert (await bob.send("POST", EVENT, json={"kind": "page", "name": "/personas"})
            ).json() == {"counted": False}
    counts = await ctx.db.analytics_daily.find({}).sort("name", 1).to_list()
    assert [(c["day"], c["kind"], c["name"], c["count"]) for c in counts] == [
        ("2026-03-01", "page", "/personas", 2),
        ("2026-03-01", "page", "/personas/{persona_id}", 1),
    ]
    stored = str(counts)
    for trace in (ann.id, ann.email, bob.id, "0123456789abcdef01234567"):
        assert trace not in stored


async def test_features_are_counted_only_from_the_known_list(ann: Member, ctx):
    await opt(ann, True)
    ok = await ann.send("POST", EVENT, json={"kind": "feature", "name": "export_requested"})
    assert ok.json() == {"counted": True}
    bad = await ann.send("POST", EVENT, json={"kind": "feature", "name": "secret_tracking"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_feature"
    outside = await ann.send("POST", EVENT, json={"kind": "page", "name": "/api/v1/auth/me"})
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "unknown_page"
    assert await ctx.db.analytics_daily.count_documents({}) == 1
    assert "secret_tracking" not in analytics.FEATURES


async def test_withdrawing_consent_stops_counting_and_is_in_the_history(ann: Member, ctx):
    await opt(ann, True)
    await ann.send("POST", EVENT, json={"kind": "page", "name": "/personas"})
    ctx.clock.advance(minutes=5)
    await opt(ann, False)
    response = await ann.send("POST", EVENT, json={"kind": "page", "name": "/personas"})
    assert response.json() == {"counted": False}
    [count] = await ctx.db.analytics_daily.find({}).to_list()
    assert count["count"] == 1
    history = (await ann.client.get("/api/v1/privacy/settings")).json()["consent_history"]
    assert [(h["what"], h["value"], h["policy_version"]) for h in history] == [
        ("analytics", True, "1"), ("analytics", False, "1")]


async def test_saving_the_same_choice_adds_no_history(ann: Member, ctx):
    await opt(ann, False)
    assert await ctx.db.consent_history.count_documents({}) == 0


async def test_bad_settings_are_refused_and_change_nothing(ann: Member, ctx):
    response = await ann.send("PATCH", "/api/v1/privacy/settings",
                              json={"analytics_opt_in": "yes please", "tracking": True})
    assert response.status_code == 422 and "error" in response.json()
    assert await ctx.db.privacy_settings.count_documents({}) == 0


async def test_pages_load_the_counter_script_only_for_signed_in_users(ann: Member, anonymous):
    assert "/static/js/privacy.js" in (await ann.client.get("/")).text
    assert "/static/js/privacy.js" not in (await anonymous.get("/")).text


async def test_the_counter_asks_whether_it_may_count_before_sending(ann: Member, anonymous):
    state = "/api/v1/privacy/analytics"
    assert (await ann.client.get(state)).json() == {"counting": False}
    await opt(ann, True)
    assert (await ann.client.get(state)).json() == {"counting": True}
    await opt(ann, False)
    assert (await ann.client.get(state)).json() == {"counting": False}
    assert (await anonymous.get(state)).status_code == 401


async def test_error_pages_and_form_answers_are_not_reported_as_page_views(ann: Member):
    page = await ann.client.get("/personas")
    assert "data-count-page" in page.text
    missing = await ann.client.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert "/static/js/privacy.js" in missing.text and "data-count-page" not in missing.text
    answer = await ann.send("POST", "/billing/buy", data={"item_id": "no_such_item"})
    assert "/static/js/privacy.js" in answer.text and "data-count-page" not in answer.text


async def test_admins_see_the_anonymous_counts(ann: Member, app, ctx):
    from tests.factories import member, new_client

    await opt(ann, True)
    await ann.send("POST", EVENT, json={"kind": "page", "name": "/explore"})
    async with new_client(app) as client:
        admin = await member(client, ctx, "admin@example.com", role="admin")
        body = (await admin.client.get("/api/v1/admin/privacy/analytics")).json()
    assert body["items"] == [{"day": "2026-03-01", "kind": "page", "name": "/explore",
                              "count": 1}]
    assert (await ann.client.get("/api/v1/admin/privacy/analytics")).status_code == 403
