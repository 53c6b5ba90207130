"""Fixtures for persona tests: fast password hashing and signed-in members with clients.

`ann` uses the shared `client`; `bob` has a client of his own; `stranger` is anonymous.
`Member.send(method, path, json=...)` adds the CSRF header a browser page would send.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from clonechats.settings import Settings
from tests import factories
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import new_client


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING)


class Member(factories.Member):
    async def create(self, **fields: Any) -> dict[str, Any]:
        response = await self.send("POST", "/api/v1/personas", json={"name": "Ada", **fields})
        assert response.status_code == 201, response.text
        return response.json()["persona"]


async def member(client: httpx.AsyncClient, ctx: Any, email: str) -> Member:
    return await factories.member(client, ctx, email, kind=Member)


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
