"""The operator's inbox: the public contact form, its emails, deadlines, answers from the
console, and contact messages as personal data (export, deletion, retention)."""

from datetime import UTC, datetime, timedelta

import pytest

from clonechats.contact import repo as contact_repo
from clonechats.contact.service import add_business_days
from clonechats.privacy import registry, retention
from clonechats.privacy import requests as data_requests
from clonechats.settings import AdminSettings
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import csrf, emails_to, log_in, make_user

INBOX = "/api/v1/admin/inbox"
OPERATOR = "operator@example.com"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         admin=AdminSettings(operator_email=OPERATOR,
                                             contact_per_address_per_hour=3))


async def write(http, email="visitor@example.com", subject="Billing question",
                message="Why was I charged twice?"):
    await http.get("/")
    return await http.post("/api/v1/contact", json={
        "email": email, "subject": subject, "message": message}, headers=csrf(http))


def test_business_days_skip_weekends():
    friday = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    assert add_business_days(friday, 3) == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    sunday = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert add_business_days(sunday, 3) == datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


async def test_a_contact_message_reaches_the_inbox_with_its_deadlines(client, ctx, admin,
                                                                      new_client, run_jobs):
    visitor = new_client()
    page = await visitor.get("/contact", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'data-api="/api/v1/contact"' in page.text
    response = await write(visitor)
    assert response.status_code == 202, response.text
    await run_jobs()
    [to_operator] = await emails_to(ctx, OPERATOR)
    assert "Billing question" in to_operator["subject"]
    assert "Why was I charged twice?" in to_operator["text"]
    [ack] = await emails_to(ctx, "visitor@example.com")
    assert "we received your message" in ack["subject"]

    [item] = (await client.get(INBOX)).json()["items"]
    assert item["kind"] == "contact" and item["email"] == "visitor@example.com"
    now = ctx.clock.now()  # Sunday 1 March 2026, 12:00
    assert item["ack_due_at"] == add_business_days(now, 3).isoformat()
    assert item["due_at"] == (now + timedelta(days=30)).isoformat()
    assert item["acknowledged"] is True and item["overdue"] is False
    page = await client.get("/admin/inbox")
    assert "Why was I charged twice?" in page.text and 'data-deadline="answer"' in page.text

    answer = await client.post(f"{INBOX}/contact/{item['id']}/reply",
                               json={"text": "It was a duplicate; refunded.", "close": True},
                               headers=csrf(client))
    assert answer.status_code == 200, answer.text
    await run_jobs()
    replies = await emails_to(ctx, "visitor@example.com")
    assert replies[-1]["subject"].startswith("Re: Billing question")
    assert "It was a duplicate; refunded." in replies[-1]["text"]
    assert (await client.get(INBOX)).json()["items"] == []
    [closed] = (await client.get(f"{INBOX}?closed=true")).json()["items"]
    assert closed["status"] == "closed" and closed["replies"][0]["text"].startswith("It was")


async def test_overdue_items_come_first_with_data_requests(client, ctx, admin, clock,
                                                           new_client):
    member = await make_user(ctx, email="member@example.com")
    filed = await data_requests.file_request(ctx, user=member, kind="access", message="All")
    clock.advance(days=31)
    assert (await write(new_client(), subject="Newer")).status_code == 202
    await log_in(client, email="admin@example.com")  # the old session expired meanwhile
    items = (await client.get(INBOX)).json()["items"]
    assert [i["kind"] for i in items] == ["data_request", "contact"]
    assert items[0]["id"] == filed["_id"] and items[0]["overdue"] is True
    assert items[0]["ack_overdue"] is True and items[1]["overdue"] is False
    assert "answer overdue" in (await client.get("/admin/inbox")).text

    answer = await client.post(f"{INBOX}/data_request/{filed['_id']}/reply",
                               json={"text": "Your export is attached."}, headers=csrf(client))
    assert answer.status_code == 200
    updated = await data_requests.get(ctx, filed["_id"])
    assert updated["status"] == "in_progress"
    assert updated["notes"][-1]["text"] == "Answered by email: Your export is attached."


async def test_bad_and_too_many_messages_are_refused(client, ctx):
    for body in ({"email": "not-an-email", "subject": "a", "message": "hello"},
                 {"email": "a@example.com", "subject": "", "message": "hello"},
                 {"email": "a@example.com", "subject": "a", "message": ""},
                 {"email": "a@example.com", "subject": "a", "message": "x" * 5001}):
        await client.get("/")
        response = await client.post("/api/v1/contact", json=body, headers=csrf(client))
        assert response.status_code == 422, body
    statuses = [(await write(client)).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]
    assert await ctx.db[contact_repo.MESSAGES].count_documents({}) == 3


async def test_replies_validate_and_unknown_items_are_404(client, admin):
    for url, body, status in ((f"{INBOX}/contact/nope/reply", {"text": "hi"}, 404),
                              (f"{INBOX}/data_request/nope/reply", {"text": "hi"}, 404),
                              (f"{INBOX}/other/x/reply", {"text": "hi"}, 422),
                              (f"{INBOX}/contact/x/reply", {"text": ""}, 422)):
        response = await client.post(url, json=body, headers=csrf(client))
        assert response.status_code in (status, 404 if status == 422 else status), url


async def test_contact_messages_are_exported_deleted_and_expire(ctx, client, clock, new_client):
    member = await make_user(ctx, email="member@example.com")
    await write(new_client(), email="member@example.com", subject="Mine")
    await write(new_client(), email="someone@example.com", subject="Not mine")
    holder = next(h for h in registry.holders() if h.name == "contact_messages")
    exported = await holder.export(ctx, member["_id"])
    assert [m["subject"] for m in exported["messages"]] == ["Mine"]
    assert await registry.delete_user_data(ctx, member["_id"])
    subjects = [m["subject"] for m in await ctx.db[contact_repo.MESSAGES].find({}).to_list()]
    assert subjects == ["Not mine"]

    [other] = await ctx.db[contact_repo.MESSAGES].find({}).to_list()
    await ctx.db[contact_repo.MESSAGES].update_one({"_id": other["_id"]}, {"$set": {
        "status": "closed", "closed_at": clock.now()}})
    clock.advance(days=365)
    assert (await retention.apply_rules(ctx))["contact_messages"] == 0
    clock.advance(days=400)
    assert (await retention.apply_rules(ctx))["contact_messages"] == 1
    assert await ctx.db[contact_repo.MESSAGES].count_documents({}) == 0


async def test_a_signed_in_sender_is_linked_to_their_account(client, ctx, new_client):
    member = await make_user(ctx, email="member@example.com")
    http = new_client()
    await log_in(http, email="member@example.com")
    assert (await write(http, email="member@example.com")).status_code == 202
    [stored] = await ctx.db[contact_repo.MESSAGES].find({}).to_list()
    assert stored["user_id"] == member["_id"]
    assert "ip" not in " ".join(stored)  # no address field of any kind
