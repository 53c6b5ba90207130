"""The moderation review queue: anyone reports a public persona, a moderator sees it with its
context and acts (dismiss, hide, warn, suspend), every action audit-logged."""

import pytest

from clonechats.accounts import api_keys
from clonechats.providers.moderation.base import ModerationResult
from clonechats.safety import flags
from clonechats.settings import AdminSettings
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import DEFAULT_PASSWORD, csrf, log_in, make_persona, make_user

QUEUE = "/api/v1/admin/moderation"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         admin=AdminSettings(reports_per_address_per_hour=3))


@pytest.fixture
async def owner(ctx):
    return await make_user(ctx, email="owner@example.com")


@pytest.fixture
async def persona(ctx, owner):
    return await make_persona(ctx, owner_id=owner["_id"], name="Grim", visibility="public",
                              share_id="share-grim", tagline="Says awful things",
                              system_prompt="Insult everyone.")


async def report(http, share_id, reason="It insults people"):
    await http.get("/")
    return await http.post(f"/api/v1/public/personas/{share_id}/report",
                           json={"reason": reason}, headers=csrf(http))


async def act(http, flag_id, action, note="checked"):
    return await http.post(f"{QUEUE}/{flag_id}/action", json={"action": action, "note": note},
                           headers=csrf(http))


async def test_a_reported_persona_is_in_the_queue_and_hiding_it_kills_the_link(
        client, ctx, admin, persona, new_client):
    visitor = new_client()
    assert (await visitor.get("/api/v1/public/personas/share-grim")).status_code == 200
    response = await report(visitor, "share-grim")
    assert response.status_code == 202
    assert (await report(new_client(), "share-grim", "Hateful")).status_code == 202

    [item] = (await client.get(QUEUE)).json()["items"]
    assert item["subject"] == "persona_report" and item["report_count"] == 2
    assert [r["reason"] for r in item["reports"]] == ["Hateful", "It insults people"]
    assert item["persona"]["name"] == "Grim"
    assert item["persona"]["system_prompt"] == "Insult everyone."
    assert item["owner"]["email"] == "owner@example.com"
    assert item["actions"] == ["dismiss", "hide", "warn", "suspend"]
    page = await client.get("/admin/moderation")
    assert "Says awful things" in page.text and 'value="hide"' in page.text

    done = await act(client, item["id"], "hide", note="hate speech")
    assert done.status_code == 200, done.text
    assert done.json()["item"]["persona"]["hidden"] is True
    assert (await visitor.get("/api/v1/public/personas/share-grim")).status_code == 404
    assert (await visitor.get("/p/share-grim", headers={"Accept": "text/html"})).status_code \
        == 404
    assert (await report(visitor, "share-grim")).status_code == 404
    [event] = await ctx.db.audit_log.find({"event": "moderation_action"}).to_list()
    assert event["details"]["actor_id"] == admin["_id"]
    assert event["details"]["note"] == "hate speech" and event["details"]["action"] == "hide"
    assert (await client.get(QUEUE)).json()["items"] == []

    owner_http = new_client()
    await log_in(owner_http, email="owner@example.com")
    again = await owner_http.post(f"/api/v1/personas/{persona['_id']}/share",
                                  headers=csrf(owner_http))
    assert again.status_code == 409  # it is private now
    public = await owner_http.patch(f"/api/v1/personas/{persona['_id']}",
                                    json={"visibility": "public"}, headers=csrf(owner_http))
    assert public.status_code == 409 and public.json()["error"]["code"] == "persona_hidden"


async def test_bad_reports_are_refused_and_reports_are_throttled(client, ctx, persona):
    assert (await report(client, "no-such-link")).status_code == 404
    assert (await report(client, "share-grim", "")).status_code == 422
    assert (await report(client, "share-grim", "x" * 1001)).status_code == 422
    statuses = [(await report(client, "share-grim")).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    limited = await report(client, "share-grim")
    assert limited.status_code == 429 and "retry-after" in limited.headers
    [flag] = await ctx.db.moderation_flags.find({}).to_list()
    assert flag["report_count"] == 2  # the 422s and 429s changed nothing


async def test_warn_shows_a_notice_until_dismissed(client, ctx, admin, owner, persona,
                                                   new_client):
    await report(new_client(), "share-grim")
    [item] = (await client.get(QUEUE)).json()["items"]
    assert (await act(client, item["id"], "warn")).status_code == 200
    owner_http = new_client()
    await log_in(owner_http, email="owner@example.com")
    page = await owner_http.get("/personas", headers={"Accept": "text/html"})
    assert "A message from our moderators." in page.text and "“Grim”" in page.text
    [warning] = await ctx.db.user_warnings.find({}).to_list()
    dismissed = await owner_http.post(f"/api/v1/notices/{warning['_id']}/dismiss",
                                      headers=csrf(owner_http))
    assert dismissed.status_code == 204
    page = await owner_http.get("/personas", headers={"Accept": "text/html"})
    assert "A message from our moderators." not in page.text
    # someone else cannot dismiss (or see) another person's notice
    other = new_client()
    await make_user(ctx, email="other@example.com")
    await log_in(other, email="other@example.com")
    refused = await other.post(f"/api/v1/notices/{warning['_id']}/dismiss", headers=csrf(other))
    assert refused.status_code == 404


async def test_suspend_ends_sessions_and_refuses_sign_in(client, ctx, admin, owner, new_client):
    owner_http = new_client()
    await log_in(owner_http, email="owner@example.com")
    key, _ = await api_keys.create(ctx.db, user_id=owner["_id"], name="s", now=ctx.clock.now())
    flag = await flags.record_flag(ctx, user_id=owner["_id"], subject="user_message",
                                   ref_id="m1", result=ModerationResult(
                                       flagged=True, categories={"hate": 1.0}, reason="hate"))
    hide = await act(client, flag["_id"], "hide")
    assert hide.status_code == 422 and hide.json()["error"]["code"] == "not_hideable"
    assert (await act(client, flag["_id"], "suspend", "repeated hate")).status_code == 200

    assert (await owner_http.get("/api/v1/auth/me")).status_code == 401
    login = await log_in(new_client(), email="owner@example.com")
    assert login.status_code == 403
    assert login.json()["error"]["code"] == "account_suspended"
    assert "suspended" in login.json()["error"]["message"]
    by_key = await new_client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert by_key.status_code == 403
    again = await act(client, flag["_id"], "dismiss")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"
    [event] = await ctx.db.audit_log.find({"event": "account_suspended"}).to_list()
    assert event["details"]["actor_id"] == admin["_id"]
    assert event["details"]["note"] == "repeated hate"

    restored = await client.post(f"/api/v1/admin/users/{owner['_id']}/restore",
                                 json={"note": "appeal accepted"}, headers=csrf(client))
    assert restored.status_code == 200
    assert (await log_in(new_client(), email="owner@example.com",
                         password=DEFAULT_PASSWORD)).status_code == 200


async def test_bad_actions_change_nothing(client, ctx, admin):
    flag = await flags.record_flag(ctx, user_id=admin["_id"], subject="user_message",
                                   ref_id="m1", result=ModerationResult(
                                       flagged=True, categories={"hate": 1.0}, reason="hate"))
    for body, status in (({"action": "ban"}, 422), ({"action": "suspend"}, 409),
                         ({"action": "dismiss", "extra": 1}, 422)):
        response = await client.post(f"{QUEUE}/{flag['_id']}/action", json=body,
                                     headers=csrf(client))
        assert response.status_code == status, body
    assert (await act(client, "nope", "dismiss")).status_code == 404
    assert await flags.count_open(ctx) == 1
    assert (await client.get("/api/v1/auth/me")).status_code == 200
