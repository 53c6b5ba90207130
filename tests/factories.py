"""Plain builders for tests: users, signed-in members with their browsers, emails from the
outbox."""

import re
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pyotp
from fastapi import FastAPI

from clonechats.accounts import passwords
from clonechats.accounts import two_factor as two_factor_service
from clonechats.accounts.service import new_user

DEFAULT_PASSWORD = "a long and unusual passphrase"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # the authenticator of factory-made users


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    """The header a browser page sends with unsafe requests."""
    return {"X-CSRF-Token": client.cookies.get("csrf_token", "")}


async def make_user(ctx: Any, *, email: str = "user@example.com",
                    password: str = DEFAULT_PASSWORD, two_factor: bool | None = None,
                    **fields: Any) -> dict[str, Any]:
    """Insert a verified, active password user directly (no HTTP). Two-factor is on, with
    TOTP_SECRET, when asked, and by default for admins (the admin area requires it)."""
    hashed = await passwords.hash_password(password, rounds=ctx.settings.accounts.bcrypt_rounds)
    user = new_user(email=email, now=ctx.clock.now(), status=fields.pop("status", "active"),
                    auth_provider="password", password_hash=hashed, email_verified=True,
                    birth_date="1990-01-01", **fields)
    if two_factor if two_factor is not None else user["role"] == "admin":
        user[two_factor_service.FIELD] = {
            "secret": two_factor_service.seal(ctx.secret, TOTP_SECRET),
            "enabled_at": ctx.clock.now(), "recovery_hashes": []}
    await ctx.db.users.insert_one(user)
    return user


def totp_code(ctx: Any, *, step_offset: int = 0, secret: str = TOTP_SECRET) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(ctx.clock.now()) + step_offset)


async def unused_totp_code(ctx: Any, email: str, secret: str = TOTP_SECRET) -> str:
    """A code the server still accepts now: the earliest step in its window not yet used, so
    a test may sign the same account in more than once at one frozen time."""
    user = await ctx.db.users.find_one({"email": email})
    totp = pyotp.TOTP(secret)
    current = totp.timecode(ctx.clock.now())
    last = (user.get(two_factor_service.FIELD) or {}).get("last_step", current - 2)
    step = max(current - 1, last + 1)
    assert step <= current + 1, "every code of this time window is used: advance the clock"
    return totp.generate_otp(step)


async def sign_up(client: httpx.AsyncClient, *, email: str = "ann@example.com",
                  password: str = DEFAULT_PASSWORD, birth_date: str = "1990-01-01",
                  **extra: Any) -> httpx.Response:
    await client.get("/")
    return await client.post("/api/v1/auth/signup", json={
        "email": email, "password": password, "birth_date": birth_date, **extra,
    }, headers=csrf(client))


async def log_in(client: httpx.AsyncClient, *, email: str,
                 password: str = DEFAULT_PASSWORD, **kwargs: Any) -> httpx.Response:
    if "csrf_token" not in client.cookies:
        await client.get("/")
    extra_headers = kwargs.pop("headers", {})
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password},
                                 headers={**csrf(client), **extra_headers}, **kwargs)
    if response.status_code == 200 and response.json().get("two_factor_required"):
        ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
        code = await unused_totp_code(ctx, email.strip().lower())
        response = await client.post("/api/v1/auth/login/two-factor", json={"code": code},
                                     headers={**csrf(client), **extra_headers}, **kwargs)
    return response


def new_client(app: FastAPI) -> httpx.AsyncClient:
    """Another browser for the same app, with cookies of its own."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@dataclass
class Member:
    """A signed-in person and their browser. `send(method, path, json=...)` adds the CSRF
    header a browser page would send; test packages subclass it with their own steps."""

    client: httpx.AsyncClient
    user: dict[str, Any]
    ctx: Any

    @property
    def id(self) -> str:
        return self.user["_id"]

    @property
    def email(self) -> str:
        return self.user["email"]

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**csrf(self.client), **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)


M = TypeVar("M", bound=Member)


async def member(client: httpx.AsyncClient, ctx: Any, email: str, *,
                 kind: type[M] = Member, **fields: Any) -> M:
    """A user made with `make_user(email=..., **fields)`, signed in on `client`."""
    user = await make_user(ctx, email=email, **fields)
    response = await log_in(client, email=email)
    assert response.status_code == 200, response.text
    return kind(client=client, user=user, ctx=ctx)


async def emails_to(ctx: Any, address: str) -> list[dict[str, Any]]:
    return await ctx.db.outbox.find({"to": address}).sort("created_at", 1).to_list()


def token_from(email: dict[str, Any], path: str) -> str:
    match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", email["text"])
    assert match, f"no {path} link in {email['subject']!r}"
    return match.group(1)


async def make_persona(ctx: Any, *, owner_id: str, **fields: Any) -> dict[str, Any]:
    """Insert a persona directly (no HTTP), with every field the persona document has."""
    from clonechats.personas import repo as persona_repo

    now = ctx.clock.now()
    persona = {
        "_id": persona_repo.new_persona_id(), "owner_id": owner_id, "name": "Ada",
        "tagline": "", "traits": [], "tone": "", "system_prompt": "",
        "system_prompt_public": False,
        "sliders": {"warmth": 50, "humour": 50, "formality": 50, "verbosity": 50,
                    "curiosity": 50},
        "greeting": "", "example_dialogue": "", "visibility": "private",
        "avatar_media_id": None, "reference_image_ids": [], "reference_voice_id": None,
        "model": None, "share_id": None, "favourite_count": 0, "created_at": now,
        "updated_at": now, **fields,
    }
    await persona_repo.insert(ctx.db, persona)
    return persona
