"""Data requests: filed by users or for email senders, answered within 30 days; the admin queue
puts overdue ones first."""

from datetime import datetime, timedelta

import pytest

from clonechats.privacy import retention
from tests.factories import Member, log_in, make_user, member, new_client

QUEUE = "/api/v1/admin/privacy/requests"


async def relogin(who: Member) -> None:
    """Sign in again after the clock moved past the session's idle limit."""
    assert (await log_in(who.client, email=who.email)).status_code == 200


@pytest.fixture
async def admin(app, ctx):
    async with new_client(app) as client:
        who = await member(client, ctx, "admin@example.com", role="admin")
        yield who


async def test_a_user_files_a_request_with_a_30_day_deadline(ann: Member, ctx):
    response = await ann.send("POST", "/api/v1/privacy/requests",
                              json={"kind": "correction", "message": "My name is spelt Anne."})
    assert response.status_code == 201, response.text
    filed = response.json()["request"]
    assert filed["status"] == "open" and filed["kind"] == "correction"
    created = datetime.fromisoformat(filed["created_at"])
    assert datetime.fromisoformat(filed["due_at"]) - created == timedelta(days=30)
    mine = (await ann.client.get("/api/v1/privacy/requests")).json()["items"]
    assert [r["id"] for r in mine] == [filed["id"]]


async def test_bad_requests_are_refused_and_store_nothing(ann: Member, ctx):
    for body in ({"kind": "gossip", "message": "x"}, {"kind": "access", "message": "x" * 5000},
                 {"kind": "access", "extra": 1}):
        response = await ann.send("POST", "/api/v1/privacy/requests", json=body)
        assert response.status_code == 422 and "error" in response.json()
    assert await ctx.db.data_requests.count_documents({}) == 0


async def test_users_see_only_their_own_requests(ann: Member, bob: Member):
    await ann.send("POST", "/api/v1/privacy/requests", json={"kind": "access"})
    assert (await bob.client.get("/api/v1/privacy/requests")).json()["items"] == []


async def test_the_admin_queue_shows_overdue_requests_first(ann: Member, admin: Member, ctx):
    first = (await ann.send("POST", "/api/v1/privacy/requests",
                            json={"kind": "access"})).json()["request"]
    ctx.clock.advance(days=20)
    await relogin(ann)
    second = (await ann.send("POST", "/api/v1/privacy/requests",
                             json={"kind": "deletion"})).json()["request"]
    ctx.clock.advance(days=5)
    await relogin(admin)
    third = (await admin.send("POST", QUEUE, json={
        "email": "Writer@Example.com", "kind": "correction", "message": "Fix my email"})
             ).json()["request"]
    ctx.clock.advance(days=6)  # the first is now overdue by a day
    await relogin(admin)
    queue = (await admin.client.get(QUEUE)).json()["items"]
    assert [r["id"] for r in queue] == [first["id"], second["id"], third["id"]]
    assert [r["overdue"] for r in queue] == [True, False, False]
    page = (await admin.client.get("/admin/privacy/requests")).text
    assert page.index(first["id"]) < page.index(second["id"]) < page.index(third["id"])
    assert "Overdue by 1 day" in page and "writer@example.com" in page


async def test_a_request_by_email_is_linked_to_the_account_using_that_address(admin, ctx):
    user = await make_user(ctx, email="known@example.com")
    linked = (await admin.send("POST", QUEUE, json={
        "email": "KNOWN@example.com", "kind": "access"})).json()["request"]
    stranger = (await admin.send("POST", QUEUE, json={
        "email": "nobody@example.com", "kind": "deletion"})).json()["request"]
    assert linked["user_id"] == user["_id"] and linked["source"] == "email"
    assert stranger["user_id"] is None
    bad = await admin.send("POST", QUEUE, json={"email": "not an address", "kind": "access"})
    assert bad.status_code == 422


async def test_admins_move_requests_along_with_notes(ann: Member, admin: Member, ctx):
    filed = (await ann.send("POST", "/api/v1/privacy/requests",
                            json={"kind": "access"})).json()["request"]
    url = f"{QUEUE}/{filed['id']}"
    working = await admin.send("PATCH", url, json={"status": "in_progress",
                                                   "note": "Export sent by email."})
    assert working.json()["request"]["status"] == "in_progress"
    done = (await admin.send("PATCH", url, json={"status": "done"})).json()["request"]
    assert done["closed_at"] and [n["text"] for n in done["notes"]] == ["Export sent by email."]
    assert (await admin.client.get(QUEUE)).json()["items"] == []
    closed = (await admin.client.get(QUEUE, params={"closed": "true"})).json()["items"]
    assert [r["id"] for r in closed] == [filed["id"]]
    assert (await admin.send("PATCH", url, json={})).status_code == 422
    assert (await admin.send("PATCH", f"{QUEUE}/missing", json={"note": "x"})).status_code == 404
    # closed requests are kept 24 calendar months, then removed by retention
    ctx.clock.advance(days=24 * 30 + 1)
    await retention.apply_rules(ctx)
    assert await ctx.db.data_requests.count_documents({}) == 1
    ctx.clock.advance(days=12)
    await retention.apply_rules(ctx)
    assert await ctx.db.data_requests.count_documents({}) == 0


async def test_the_queue_is_for_admins_only(ann: Member):
    assert (await ann.client.get(QUEUE)).status_code == 403
    assert (await ann.client.get("/admin/privacy/requests")).status_code == 403
    refused = await ann.send("POST", QUEUE, json={"email": "a@example.com", "kind": "access"})
    assert refused.status_code == 403
