"""The admin pages: dashboard counts, the users table and its forms, the outbox."""

import re

from clonechats.jobs import repo as jobs
from tests.factories import make_user, sign_up


async def test_dashboard_counts_users_and_jobs(client, ctx, admin):
    await make_user(ctx, email="a@example.com")
    await make_user(ctx, email="b@example.com", status="guardian_pending")
    await ctx.enqueue("email.send", {"to": "x"})
    await ctx.enqueue("email.send", {"to": "y"})
    page = await client.get("/admin")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = re.sub(r"\s+", " ", page.text)
    assert "<strong>3</strong> accounts, 1 admin" in text
    assert "<td>active</td><td>2</td>" in text
    assert "<td>guardian pending</td><td>1</td>" in text
    assert f"<td>{jobs.QUEUED}</td><td>2</td>" in text
    assert 'href="/admin/users"' in text and 'href="/admin/outbox"' in text


async def test_users_page_lists_people_with_their_forms(client, ctx, admin):
    member = await make_user(ctx, email="member@example.com",
                             display_name="<img src=x onerror=alert(1)>")
    page = await client.get("/admin/users")
    assert page.status_code == 200
    html = page.text
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert '<meta name="csrf-token"' in html
    assert (f'data-api="/api/v1/admin/users/{member["_id"]}" data-method="PATCH" '
            'data-success="reload"') in html
    assert f'data-api="/api/v1/admin/users/{member["_id"]}/age-concern"' in html
    assert "data-confirm=\"Delete member@example.com and everything" in html
    # no deletion form for admins, the current one included
    assert f'/api/v1/admin/users/{admin["_id"]}/age-concern' not in html


async def test_users_page_pages(client, ctx, clock, admin):
    for n in range(55):
        clock.advance(seconds=1)
        await make_user(ctx, email=f"p{n}@example.com")
    first = await client.get("/admin/users")
    match = re.search(r'href="/admin/users\?cursor=([^"]+)" rel="next"', first.text)
    assert match and "p54@example.com" in first.text and "p4@example.com" not in first.text
    second = await client.get(f"/admin/users?cursor={match.group(1)}")
    assert "p4@example.com" in second.text and "admin@example.com" in second.text
    assert 'rel="next"' not in second.text
    bad = await client.get("/admin/users?cursor=bogus", headers={"Accept": "text/html"})
    assert bad.status_code == 400


async def test_outbox_page_shows_stored_emails_in_dev_mode(client, ctx, admin, run_jobs,
                                                           new_client):
    await sign_up(new_client(), email="new@example.com")
    await run_jobs()
    page = await client.get("/admin/outbox")
    assert page.status_code == 200
    assert "new@example.com" in page.text
    assert "/verify-email?token=" in page.text
