"""Plain builders for tests: users, signed-in clients, emails from the outbox."""

import re
from typing import Any

import httpx

from clonechats.accounts import passwords
from clonechats.accounts.service import new_user

DEFAULT_PASSWORD = "a long and unusual passphrase"


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    """The header a browser page sends with unsafe requests."""
    return {"X-CSRF-Token": client.cookies.get("csrf_token", "")}


async def make_user(ctx: Any, *, email: str = "user@example.com",
                    password: str = DEFAULT_PASSWORD, **fields: Any) -> dict[str, Any]:
    """Insert a verified, active password user directly (no HTTP)."""
    hashed = await passwords.hash_password(password, rounds=ctx.settings.accounts.bcrypt_rounds)
    user = new_user(email=email, now=ctx.clock.now(), status=fields.pop("status", "active"),
                    auth_provider="password", password_hash=hashed, email_verified=True,
                    birth_date="1990-01-01", **fields)
    await ctx.db.users.insert_one(user)
    return user


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
    headers = {**csrf(client), **kwargs.pop("headers", {})}
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password},
                             headers=headers, **kwargs)


async def emails_to(ctx: Any, address: str) -> list[dict[str, Any]]:
    return await ctx.db.outbox.find({"to": address}).sort("created_at", 1).to_list()


def token_from(email: dict[str, Any], path: str) -> str:
    match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)", email["text"])
    assert match, f"no {path} link in {email['subject']!r}"
    return match.group(1)


async def make_persona(ctx: Any, *, owner_id: str, **fields: Any) -> dict[str, Any]:
    """Insert a persona directly (no HTTP), with every field the persona document has."""
    from clonechats.personas import repo as personas

    now = ctx.clock.now()
    persona = {
        "_id": personas.new_persona_id(), "owner_id": owner_id, "name": "Ada",
        "tagline": "", "traits": [], "tone": "", "system_prompt": "",
        "system_prompt_public": False,
        "sliders": {"warmth": 50, "humour": 50, "formality": 50, "verbosity": 50,
                    "curiosity": 50},
        "greeting": "", "example_dialogue": "", "visibility": "private",
        "avatar_media_id": None, "reference_image_ids": [], "reference_voice_id": None,
        "model": None, "share_id": None, "favourite_count": 0, "created_at": now,
        "updated_at": now, **fields,
    }
    await personas.insert(ctx.db, persona)
    return persona
