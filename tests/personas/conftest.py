"""Fixtures for persona tests: fast password hashing and signed-in members with clients.

`ann` uses the shared `client`; `bob` has a client of his own; `stranger` is anonymous.
`Member.send(method, path, json=...)` adds the CSRF header a browser page would send.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from clonechats.settings import AccountSettings, Settings
from tests.conftest import make_settings
from tests.factories import csrf, log_in, make_user


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=AccountSettings(bcrypt_rounds=4))


@dataclass
class Member:
    client: httpx.AsyncClient
    user: dict[str, Any]

    @property
    def id(self) -> str:
        return self.user["_id"]

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**csrf(self.client), **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def create(self, **fields: Any) -> dict[str, Any]:
        response = await self.send("POST", "/api/v1/personas", json={"name": "Ada", **fields})
        assert response.status_code == 201, response.text
        return response.json()["persona"]


async def member(client: httpx.AsyncClient, ctx: Any, email: str) -> Member:
    user = await make_user(ctx, email=email)
    response = await log_in(client, email=email)
    assert response.status_code == 200, response.text
    return Member(client=client, user=user)


def new_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def ann(client, ctx) -> Member:
    return await member(client, ctx, "ann@example.com")


@pytest.fixture
async def bob(app, ctx) -> AsyncIterator[Member]:
    async with new_client(app) as http:
        yield await member(http, ctx, "bob@example.com")


@pytest.fixture
async def stranger(app) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as http:
        await http.get("/")
        yield http
