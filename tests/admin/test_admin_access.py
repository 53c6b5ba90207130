"""Every admin route refuses everyone but admins: walked over the app's routes, so a route
added later under /admin or /api/v1/admin is covered without touching this file."""

import httpx

from clonechats.accounts import api_keys
from tests.admin.routes import admin_endpoints
from tests.conftest import make_settings
from tests.factories import csrf, log_in, make_user, sign_up

EXPECTED_AT_LEAST = {
    ("GET", "/admin"), ("GET", "/admin/users"), ("GET", "/admin/outbox"),
    ("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/audit"),
    ("PATCH", "/api/v1/admin/users/0123456789abcdef01234567"),
    ("POST", "/api/v1/admin/users/0123456789abcdef01234567/age-concern"),
    # the console: dashboards, errors, moderation, fraud, user tools, inbox
    ("GET", "/api/v1/admin/dashboard"), ("GET", "/api/v1/admin/errors"),
    ("POST", "/api/v1/admin/errors/probe"), ("GET", "/api/v1/admin/moderation"),
    ("POST", "/api/v1/admin/moderation/0123456789abcdef01234567/action"),
    ("GET", "/api/v1/admin/fraud"), ("POST", "/api/v1/admin/fraud/action"),
    ("GET", "/api/v1/admin/users/0123456789abcdef01234567"),
    ("POST", "/api/v1/admin/users/0123456789abcdef01234567/suspend"),
    ("POST", "/api/v1/admin/users/0123456789abcdef01234567/restore"),
    ("POST", "/api/v1/admin/users/0123456789abcdef01234567/sessions/revoke"),
    ("POST", "/api/v1/admin/users/0123456789abcdef01234567/credits"),
    ("GET", "/api/v1/admin/inbox"),
    ("POST", "/api/v1/admin/inbox/0123456789abcdef01234567/0123456789abcdef01234567/reply"),
    ("PATCH", "/api/v1/admin/inbox/contact/0123456789abcdef01234567"),
    ("GET", "/admin/errors"), ("GET", "/admin/fraud"), ("GET", "/admin/inbox"),
    ("GET", "/admin/moderation"), ("GET", "/admin/moderation/0123456789abcdef01234567"),
    ("GET", "/admin/users/0123456789abcdef01234567"),
}


async def call(client: httpx.AsyncClient, method: str, path: str,
               **kwargs: object) -> httpx.Response:
    return await client.request(method, path, **kwargs)


def test_the_walk_finds_the_admin_routes(app):
    assert set(admin_endpoints(app)) >= EXPECTED_AT_LEAST


async def test_anonymous_callers_get_401_everywhere(app, client, ctx):
    await make_user(ctx, email="victim@example.com")
    await client.get("/")
    for method, path in admin_endpoints(app):
        for accept in ("application/json", "text/html"):
            response = await call(client, method, path, headers={**csrf(client),
                                                                 "Accept": accept})
            assert response.status_code == 401, (method, path, accept)
    assert await ctx.db.users.count_documents({}) == 1


async def test_signed_in_users_get_403_everywhere(app, client, ctx):
    victim = await make_user(ctx, email="victim@example.com")
    await make_user(ctx, email="normal@example.com")
    assert (await log_in(client, email="normal@example.com")).status_code == 200
    for method, path in [*admin_endpoints(app),
                         ("PATCH", f"/api/v1/admin/users/{victim['_id']}"),
                         ("POST", f"/api/v1/admin/users/{victim['_id']}/age-concern"),
                         ("POST", f"/api/v1/admin/users/{victim['_id']}/suspend"),
                         ("POST", f"/api/v1/admin/users/{victim['_id']}/sessions/revoke")]:
        body = {"role": "admin"} if method == "PATCH" else None
        response = await call(client, method, path, json=body,
                              headers={**csrf(client), "Accept": "application/json"})
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "forbidden", (method, path)
    stored = await ctx.db.users.find_one({"_id": victim["_id"]})
    assert stored is not None and stored["role"] == "user"
    assert "suspended_at" not in stored


async def test_api_keys_and_pending_accounts_are_refused_too(app, client, ctx, run_jobs):
    user = await make_user(ctx, email="keyholder@example.com")
    key, _ = await api_keys.create(ctx.db, user_id=user["_id"], name="script",
                                   now=ctx.clock.now())
    for method, path in admin_endpoints(app):
        response = await call(client, method, path, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 403, (method, path)
    await sign_up(client, email="teen@example.com", birth_date="2011-01-01",
                  guardian_email="parent@example.com")
    for method, path in admin_endpoints(app):
        response = await call(client, method, path, headers=csrf(client))
        assert response.status_code == 403, (method, path)


async def test_outside_dev_mode_the_outbox_is_refused_then_hidden(tmp_path, clock):
    from clonechats.app import create_app

    settings = make_settings(tmp_path / "prod", dev_mode=False)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        admin = await make_user(ctx, email="admin@example.com", role="admin")
        normal = await make_user(ctx, email="normal@example.com")
        admin_key, _ = await api_keys.create(ctx.db, user_id=admin["_id"], name="a",
                                             now=clock.now())
        normal_key, _ = await api_keys.create(ctx.db, user_id=normal["_id"], name="n",
                                              now=clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            for method, path in admin_endpoints(app):
                assert (await call(http, method, path)).status_code == 401, (method, path)
                refused = await call(http, method, path,
                                     headers={"Authorization": f"Bearer {normal_key}"})
                assert refused.status_code == 403, (method, path)
            as_admin = await http.get("/admin/outbox",
                                      headers={"Authorization": f"Bearer {admin_key}"})
            assert as_admin.status_code == 404
            dashboard = await http.get("/admin", headers={"Authorization": f"Bearer {admin_key}"})
            assert dashboard.status_code == 200
            assert 'href="/admin/outbox"' not in dashboard.text
