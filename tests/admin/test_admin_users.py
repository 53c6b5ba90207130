"""Admin API happy paths: listing users and audit events page by page, changing roles."""

from tests.factories import DEFAULT_PASSWORD, csrf, log_in, make_user

USERS = "/api/v1/admin/users"
AUDIT = "/api/v1/admin/audit"


async def collect(client, url: str, limit: int) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_users_are_listed_newest_first_page_by_page(client, ctx, clock, admin):
    for n in range(5):
        clock.advance(minutes=1)
        await make_user(ctx, email=f"user{n}@example.com", display_name=f"User {n}")
    pages = await collect(client, USERS, limit=2)
    assert [len(page) for page in pages] == [2, 2, 2]
    emails = [item["email"] for page in pages for item in page]
    assert emails == [f"user{n}@example.com" for n in range(4, -1, -1)] + ["admin@example.com"]
    first = pages[0][0]
    assert set(first) == {"id", "email", "display_name", "role", "status", "plan",
                          "email_verified", "auth_provider", "created_at"}
    assert "password_hash" not in str(pages)


async def test_users_created_at_the_same_moment_page_without_repeats(client, ctx, admin):
    for n in range(7):
        await make_user(ctx, email=f"same{n}@example.com")
    pages = await collect(client, USERS, limit=3)
    ids = [item["id"] for page in pages for item in page]
    assert len(ids) == len(set(ids)) == 8


async def test_bad_paging_input_is_a_clear_4xx(client, admin):
    for params, status, code in [({"cursor": "nonsense"}, 400, "invalid_cursor"),
                                 ({"cursor": "99999999999999999999.ab"}, 400, "invalid_cursor"),
                                 ({"limit": 0}, 422, "validation_failed"),
                                 ({"limit": 500}, 422, "validation_failed")]:
        for url in (USERS, AUDIT):
            response = await client.get(url, params=params)
            assert response.status_code == status, (url, params)
            assert response.json()["error"]["code"] == code


async def test_role_change_ends_the_users_sessions_and_is_audited(client, ctx, admin,
                                                                  new_client):
    member = await make_user(ctx, email="member@example.com")
    other = new_client()
    assert (await log_in(other, email="member@example.com")).status_code == 200

    response = await client.patch(f"{USERS}/{member['_id']}", json={"role": "admin",
                                                                  "password": DEFAULT_PASSWORD},
                                  headers=csrf(client))

    assert response.status_code == 200
    assert response.json()["user"]["role"] == "admin"
    assert (await ctx.db.users.find_one({"_id": member["_id"]}))["role"] == "admin"
    assert (await other.get("/api/v1/auth/me")).status_code == 401
    [event] = await ctx.db.audit_log.find({"event": "role_changed"}).to_list()
    assert event["user_id"] == member["_id"]
    assert event["details"] == {"role": "admin", "actor_id": admin["_id"]}
    assert (await log_in(other, email="member@example.com")).status_code == 200
    refused = await other.get(USERS)  # a new admin sets up two-factor authentication first
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "two_factor_required"


async def test_role_change_refusals_change_nothing(client, ctx, admin, run_jobs):
    member = await make_user(ctx, email="member@example.com")
    pending = await make_user(ctx, email="teen@example.com", status="guardian_pending")
    cases = [
        (f"{USERS}/{member['_id']}", {"role": "owner"}, 422, "invalid_role"),
        (f"{USERS}/{member['_id']}", {"role": "admin", "extra": 1}, 422, "validation_failed"),
        (f"{USERS}/0123456789abcdef01234567", {"role": "admin"}, 404, "not_found"),
        (f"{USERS}/{pending['_id']}", {"role": "admin"}, 409, "not_active"),
        (f"{USERS}/{admin['_id']}", {"role": "user"}, 409, "last_admin"),
    ]
    for url, body, status, code in cases:
        response = await client.patch(url, json={**body, "password": DEFAULT_PASSWORD},
                                      headers=csrf(client))
        assert response.status_code == status, (url, body, response.text)
        assert response.json()["error"]["code"] == code
    roles = {u["email"]: u["role"] for u in await ctx.db.users.find({}).to_list()}
    assert roles == {"admin@example.com": "admin", "member@example.com": "user",
                     "teen@example.com": "user"}
    assert await ctx.db.audit_log.count_documents({"event": "role_changed"}) == 0
    assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_an_admin_can_step_down_when_another_remains(client, ctx, admin):
    await make_user(ctx, email="second@example.com", role="admin")
    response = await client.patch(f"{USERS}/{admin['_id']}",
                                  json={"role": "user", "password": DEFAULT_PASSWORD},
                                  headers=csrf(client))
    assert response.status_code == 200
    assert (await client.get("/api/v1/auth/me")).status_code == 401  # their session ended


async def test_audit_log_pages_newest_first(client, ctx, clock, admin, new_client):
    for n in range(4):
        clock.advance(seconds=30)
        await make_user(ctx, email=f"u{n}@example.com")
        assert (await log_in(new_client(), email=f"u{n}@example.com")).status_code == 200
    pages = await collect(client, AUDIT, limit=3)
    events = [item for page in pages for item in page]
    names = [e["event"] for e in events]
    assert names[:4] == ["login_ok"] * 4
    # the admin's own sign-in, its password then its code, at one moment of the frozen clock
    assert sorted(names[4:]) == ["login_ok", "two_factor_challenged"]
    times = [e["at"] for e in events]
    assert times == sorted(times, reverse=True)
    assert len({e["id"] for e in events}) == 6
    assert all(len(e["ip_hash"]) == 64 for e in events)
