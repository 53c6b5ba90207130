"""Sign in with Google, end to end against a fake OpenID provider (no network).

The test plays the browser: it follows our redirect to the provider's authorize URL, lets the
fake provider "consent" and then follows the redirect back to our callback.
"""

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clonechats.privacy.pseudonyms import hash_email
from clonechats.providers.identity import build_google
from clonechats.settings import GoogleSettings, Settings
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import csrf, emails_to, make_user, token_from
from tests.fakes.oidc import (
    CLIENT_ID,
    CLIENT_SECRET,
    DISCOVERY_URL,
    Account,
    FakeOpenIDProvider,
    impostor_key,
)

SAM = Account()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         google=GoogleSettings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                               discovery_url=DISCOVERY_URL))


@pytest.fixture
async def provider(ctx, clock) -> AsyncIterator[FakeOpenIDProvider]:
    fake = FakeOpenIDProvider(clock=clock)
    async with httpx.AsyncClient(transport=fake.transport) as http:
        ctx.google = build_google(ctx.settings.google, http=http, clock=ctx.clock)
        yield fake


async def start(client, next_path: str | None = None) -> str:
    """GET /auth/google/login; returns the provider URL we were sent to."""
    await client.get("/")
    params = {"next": next_path} if next_path else None
    response = await client.get("/auth/google/login", params=params)
    assert response.status_code == 302, response.text
    assert client.cookies.get("oauth_flow")
    return response.headers["location"]


async def come_back(client, redirect: str) -> httpx.Response:
    """Follow the provider's redirect to our callback, as the browser would."""
    parts = urlsplit(redirect)
    assert parts.path == "/auth/google/callback"
    return await client.get(f"{parts.path}?{parts.query}", headers={"Accept": "text/html"})


async def sign_in_with_google(client, provider, **authorize) -> httpx.Response:
    return await come_back(client, provider.authorize(await start(client), **authorize))


async def nothing_happened(client, ctx) -> None:
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert await ctx.db.users.count_documents({}) == 0
    assert await ctx.db.sessions.count_documents({}) == 0


async def test_new_user_full_flow(client, ctx, provider):
    location = await start(client)
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/auth/google/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert all(query[name][0] for name in ("state", "nonce", "code_challenge"))
    flow = await ctx.db.google_flows.find_one({})
    assert flow["state"] == query["state"][0] and flow["_id"] != client.cookies["oauth_flow"]

    back = await come_back(client, provider.authorize(location))
    assert back.status_code == 303 and back.headers["location"] == "/signup/google"
    token_request = provider.requests_to("/token")[0]
    assert b"code_verifier=" in token_request.content
    assert await ctx.db.users.count_documents({}) == 0  # nothing before the age step
    assert (await client.get("/api/v1/auth/me")).status_code == 401

    page = await client.get("/signup/google")
    assert page.status_code == 200 and SAM.email in page.text
    done = await client.post("/api/v1/auth/google/complete", headers=csrf(client),
                             json={"birth_date": "1990-05-04"})
    assert done.status_code == 201, done.text
    assert done.json()["redirect"] == "/"
    me = (await client.get("/api/v1/auth/me")).json()["user"]
    assert me["auth_provider"] == "google" and me["email"] == SAM.email
    assert me["email_verified"] is True and me["display_name"] == SAM.name
    stored = await ctx.db.users.find_one({"_id": me["id"]})
    assert stored["google_sub"] == SAM.sub and stored["password_hash"] is None
    assert await ctx.db.google_flows.count_documents({}) == 0
    assert "oauth_flow" not in client.cookies


async def test_returning_user_signs_straight_in_to_a_local_path(client, ctx, provider):
    user = await make_user(ctx, email=SAM.email, google_sub=SAM.sub)
    back = await come_back(client, provider.authorize(await start(client, "/account?tab=1")))
    assert back.status_code == 303 and back.headers["location"] == "/account?tab=1"
    assert (await client.get("/api/v1/auth/me")).json()["user"]["id"] == user["_id"]
    events = [e["event"] for e in await ctx.db.audit_log.find({}).to_list()]
    assert "login_ok" in events


async def test_return_path_must_stay_on_this_site(client, ctx, provider):
    await make_user(ctx, email=SAM.email, google_sub=SAM.sub)
    back = await come_back(client, provider.authorize(await start(client, "//evil.example/x")))
    assert back.headers["location"] == "/"


@pytest.mark.parametrize(("bend", "code"), [
    ({"aud": "someone-else.apps.googleusercontent.com"}, "google_refused"),
    ({"iss": "https://accounts.evil.example"}, "google_refused"),
    ({"nonce": "not-the-nonce-we-sent"}, "google_refused"),
    ({"sub": None}, "google_refused"),
    ({"signing_key": impostor_key("key-1")}, "google_refused"),
    ({"account": Account(email_verified=False)}, "google_email_unverified"),
    ({"email": None}, "google_email_unverified"),
])
async def test_bad_id_tokens_are_refused(client, ctx, provider, bend, code):
    response = await sign_in_with_google(client, provider, **bend)
    assert response.status_code == (403 if code == "google_email_unverified" else 400)
    assert "text/html" in response.headers["content-type"]  # a page for the browser
    await nothing_happened(client, ctx)
    failed = await ctx.db.audit_log.find_one({"event": "login_failed"})
    assert failed["details"] == {"provider": "google", "reason": code}


async def test_expired_id_token_is_refused(client, ctx, clock, provider):
    now = int(clock.now().timestamp())
    response = await sign_in_with_google(client, provider, iat=now - 7200, exp=now - 3600)
    assert response.status_code == 400
    await nothing_happened(client, ctx)


async def test_api_clients_get_json_errors(client, ctx, provider):
    redirect = provider.authorize(await start(client), aud="other-client")
    parts = urlsplit(redirect)
    response = await client.get(f"{parts.path}?{parts.query}",
                                headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "google_refused"


async def test_state_mismatch_is_refused_before_any_token_request(client, ctx, provider):
    redirect = provider.authorize(await start(client))
    forged = redirect.replace("state=", "state=x")
    response = await come_back(client, forged)
    assert response.status_code == 400
    assert provider.requests_to("/token") == []
    await nothing_happened(client, ctx)


async def test_missing_flow_cookie_is_refused(client, ctx, provider):
    redirect = provider.authorize(await start(client))
    client.cookies.delete("oauth_flow")
    assert (await come_back(client, redirect)).status_code == 400
    assert provider.requests_to("/token") == []
    await nothing_happened(client, ctx)


async def test_replayed_callback_is_refused(client, ctx, provider):
    await make_user(ctx, email=SAM.email, google_sub=SAM.sub)
    redirect = provider.authorize(await start(client))
    flow_cookie = client.cookies["oauth_flow"]
    assert (await come_back(client, redirect)).status_code == 303
    sessions = await ctx.db.sessions.count_documents({})
    client.cookies.clear()
    client.cookies.set("oauth_flow", flow_cookie)
    replay = await come_back(client, redirect)
    assert replay.status_code == 400
    assert await ctx.db.sessions.count_documents({}) == sessions
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_expired_flow_is_refused(client, ctx, clock, provider):
    redirect = provider.authorize(await start(client))
    clock.advance(minutes=11)
    assert (await come_back(client, redirect)).status_code == 400
    await nothing_happened(client, ctx)


async def test_denied_consent_shows_a_page(client, ctx, provider):
    response = await come_back(client, provider.deny(await start(client)))
    assert response.status_code == 400 and "cancelled" in response.text
    await nothing_happened(client, ctx)


async def test_token_endpoint_failure_is_refused(client, ctx, provider):
    provider.fail_next("/token", httpx.Response(500, text="backend error"))
    response = await sign_in_with_google(client, provider)
    assert response.status_code == 502 and "try again" in response.text
    await nothing_happened(client, ctx)


async def test_provider_down_at_login(client, provider):
    provider.fail_next("/.well-known/openid-configuration", httpx.ConnectError)
    await client.get("/")
    response = await client.get("/auth/google/login", headers={"Accept": "text/html"})
    assert response.status_code == 502
    assert "oauth_flow" not in client.cookies


async def test_discovery_is_cached_and_rotated_keys_are_fetched(client, ctx, clock, provider):
    await make_user(ctx, email=SAM.email, google_sub=SAM.sub)
    assert (await sign_in_with_google(client, provider)).status_code == 303
    provider.rotate_keys("key-2")
    client.cookies.clear()
    assert (await sign_in_with_google(client, provider)).status_code == 303
    assert len(provider.requests_to("/.well-known/openid-configuration")) == 1
    assert len(provider.requests_to("/oauth2/v3/certs")) == 2  # once more for the new kid
    clock.advance(hours=2)
    client.cookies.clear()
    assert (await sign_in_with_google(client, provider)).status_code == 303
    assert len(provider.requests_to("/.well-known/openid-configuration")) == 2


async def test_under_13_at_the_age_step_keeps_only_the_block_hash(client, ctx, provider):
    await sign_in_with_google(client, provider)
    refused = await client.post("/api/v1/auth/google/complete", headers=csrf(client),
                                json={"birth_date": "2018-01-01"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "age_restricted"
    everything = [d for name in await ctx.db.list_collection_names()
                  for d in await ctx.db[name].find({}).to_list()]
    assert SAM.email not in str(everything) and SAM.sub not in str(everything)
    blocks = await ctx.db.signup_blocks.find({}).to_list()
    assert [b["_id"] for b in blocks] == [hash_email(ctx.secret, SAM.email)]
    retry = await client.post("/api/v1/auth/google/complete", headers=csrf(client),
                              json={"birth_date": "1990-01-01"})
    assert retry.status_code == 400
    await nothing_happened(client, ctx)


async def test_minor_needs_a_guardian_and_is_pending(client, ctx, provider, run_jobs):
    await sign_in_with_google(client, provider)
    missing = await client.post("/api/v1/auth/google/complete", headers=csrf(client),
                                json={"birth_date": "2011-01-01"})
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "guardian_email_required"
    done = await client.post("/api/v1/auth/google/complete", headers=csrf(client), json={
        "birth_date": "2011-01-01", "guardian_email": "parent@example.com"})
    assert done.status_code == 201
    assert done.json()["user"]["status"] == "guardian_pending"
    await run_jobs()
    assert len(await emails_to(ctx, "parent@example.com")) == 1


async def test_age_step_needs_the_pages_csrf_token(client, ctx, provider):
    await sign_in_with_google(client, provider)
    response = await client.post("/api/v1/auth/google/complete",
                                 json={"birth_date": "1990-01-01"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
    assert await ctx.db.users.count_documents({}) == 0


async def test_existing_account_is_linked_only_after_its_password(client, ctx, provider):
    owner = await make_user(ctx, email=SAM.email, password="the owner's own passphrase")
    back = await sign_in_with_google(client, provider)
    assert back.status_code == 303 and back.headers["location"] == "/auth/google/link"
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await client.get("/auth/google/link")).status_code == 200
    wrong = await client.post("/api/v1/auth/google/link", headers=csrf(client),
                              json={"password": "a guess at the passphrase"})
    assert wrong.status_code == 401
    assert "google_sub" not in await ctx.db.users.find_one({"_id": owner["_id"]})
    assert (await client.get("/api/v1/auth/me")).status_code == 401

    right = await client.post("/api/v1/auth/google/link", headers=csrf(client),
                              json={"password": "the owner's own passphrase"})
    assert right.status_code == 200, right.text
    assert (await client.get("/api/v1/auth/me")).json()["user"]["id"] == owner["_id"]
    stored = await ctx.db.users.find_one({"_id": owner["_id"]})
    assert stored["google_sub"] == SAM.sub and stored["auth_provider"] == "password"
    assert await ctx.db.audit_log.find_one({"event": "google_linked", "user_id": owner["_id"]})

    client.cookies.clear()
    again = await sign_in_with_google(client, provider)
    assert again.status_code == 303 and again.headers["location"] == "/"
    assert (await client.get("/api/v1/auth/me")).json()["user"]["id"] == owner["_id"]


async def test_existing_account_is_linked_by_an_emailed_link_once(client, ctx, provider,
                                                                   run_jobs):
    owner = await make_user(ctx, email=SAM.email)
    await sign_in_with_google(client, provider)
    sent = await client.post("/api/v1/auth/google/link/email", headers=csrf(client))
    assert sent.status_code == 202
    await run_jobs()
    [email] = await emails_to(ctx, SAM.email)
    token = token_from(email, "/auth/google/link")
    assert "google_sub" not in await ctx.db.users.find_one({"_id": owner["_id"]})

    elsewhere = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with elsewhere:
        await elsewhere.get("/")
        other_browser = await elsewhere.post("/api/v1/auth/google/link/confirm",
                                             headers=csrf(elsewhere), json={"token": token})
        assert other_browser.status_code == 400
    page = await client.get("/auth/google/link", params={"token": token})
    assert page.status_code == 200 and "Link and sign in" in page.text
    flow_cookie = client.cookies["oauth_flow"]
    confirmed = await client.post("/api/v1/auth/google/link/confirm", headers=csrf(client),
                                  json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert (await client.get("/api/v1/auth/me")).json()["user"]["id"] == owner["_id"]
    assert (await ctx.db.users.find_one({"_id": owner["_id"]}))["google_sub"] == SAM.sub

    client.cookies.set("oauth_flow", flow_cookie)
    replay = await client.post("/api/v1/auth/google/link/confirm", headers=csrf(client),
                               json={"token": token})
    assert replay.status_code == 400
    audit = await ctx.db.audit_log.find({"event": "google_linked"}).to_list()
    assert [a["details"]["proof"] for a in audit] == ["email"]


async def test_emailed_link_belongs_to_its_own_sign_in(client, ctx, provider, run_jobs):
    owner = await make_user(ctx, email=SAM.email)
    await sign_in_with_google(client, provider)
    await client.post("/api/v1/auth/google/link/email", headers=csrf(client))
    await run_jobs()
    token = token_from((await emails_to(ctx, SAM.email))[0], "/auth/google/link")
    await sign_in_with_google(client, provider)  # a second, newer sign-in in this browser
    stale = await client.post("/api/v1/auth/google/link/confirm", headers=csrf(client),
                              json={"token": token})
    assert stale.status_code == 400 and stale.json()["error"]["code"] == "invalid_token"
    assert "google_sub" not in await ctx.db.users.find_one({"_id": owner["_id"]})


async def test_link_email_is_not_sent_without_a_pending_link(client, ctx, provider):
    await make_user(ctx, email=SAM.email)
    await client.get("/")
    refused = await client.post("/api/v1/auth/google/link/email", headers=csrf(client))
    assert refused.status_code == 400
    assert await ctx.db.one_time_tokens.count_documents({}) == 0


async def test_account_linked_to_another_google_account_is_refused(client, ctx, provider):
    await make_user(ctx, email=SAM.email, google_sub="another-google-subject")
    response = await sign_in_with_google(client, provider)
    assert response.status_code == 409
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_login_page_offers_google_only_when_configured(client, tmp_path, clock):
    page = await client.get("/login")
    assert page.status_code == 200 and "/auth/google/login" in page.text
    from clonechats.app import create_app

    bare = create_app(make_settings(tmp_path / "bare"), clock=clock)
    async with bare.router.lifespan_context(bare), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bare), base_url="http://testserver"
    ) as http:
        assert bare.state.ctx.google is None
        assert "/auth/google/login" not in (await http.get("/login")).text
        response = await http.get("/auth/google/login")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "google_not_configured"


async def test_password_proof_is_throttled_like_sign_in(client, ctx, provider):
    owner = await make_user(ctx, email=SAM.email)
    await sign_in_with_google(client, provider)
    statuses = []
    for _ in range(ctx.settings.accounts.throttle_account_threshold + 1):
        response = await client.post("/api/v1/auth/google/link", headers=csrf(client),
                                     json={"password": "not the passphrase at all"})
        statuses.append(response.status_code)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
    assert "google_sub" not in await ctx.db.users.find_one({"_id": owner["_id"]})


async def test_a_trial_becomes_the_google_account(client, ctx, provider):
    await client.get("/")
    trial = (await client.post("/api/v1/auth/trial", headers=csrf(client))).json()["user"]
    await sign_in_with_google(client, provider)
    done = await client.post("/api/v1/auth/google/complete", headers=csrf(client),
                             json={"birth_date": "1990-01-01"})
    assert done.status_code == 201
    assert done.json()["user"]["id"] == trial["id"]
    assert done.json()["user"]["auth_provider"] == "google"
    assert await ctx.db.users.count_documents({}) == 1



async def test_google_sign_in_shares_the_address_budget_with_password_sign_in(
        client, ctx, provider):
    from tests.factories import log_in, make_user

    await make_user(ctx, email="someone@example.com")
    threshold = ctx.settings.accounts.throttle_ip_threshold
    for n in range(threshold + 1):  # failures spread over many accounts: the address key
        await log_in(client, email=f"guess{n}@example.com", password="wrong password here")
    blocked = await sign_in_with_google(client, provider)
    assert blocked.status_code == 429
    assert provider.requests_to("/token") == []
    await ctx.db.login_throttle.delete_many({})
    for _ in range(threshold):  # and failed Google callbacks count against it too
        redirect = provider.authorize(await start(client))
        await come_back(client, redirect.replace("state=", "state=x"))
    refused = await log_in(client, email="someone@example.com")
    assert refused.status_code == 429


async def test_google_sign_in_to_a_two_factor_account_asks_for_the_code(client, ctx, provider):
    import pyotp

    from tests.factories import TOTP_SECRET

    user = await make_user(ctx, email=SAM.email, google_sub=SAM.sub, two_factor=True)
    back = await come_back(client, provider.authorize(await start(client, "/account")))
    assert back.status_code == 303 and back.headers["location"] == "/login/two-factor"
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert await ctx.db.sessions.count_documents({}) == 0

    code = pyotp.TOTP(TOTP_SECRET).at(ctx.clock.now())
    done = await client.post("/api/v1/auth/login/two-factor", json={"code": code},
                             headers=csrf(client))
    assert done.status_code == 200, done.text
    assert done.json()["redirect"] == "/account"
    assert (await client.get("/api/v1/auth/me")).json()["user"]["id"] == user["_id"]
    [ok] = await ctx.db.audit_log.find({"event": "login_ok"}).to_list()
    assert ok["details"] == {"provider": "google"}
