"""Privacy test fixtures: fast password hashing and people signed in through the API."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from clonechats.settings import Settings
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import Member, member, new_client


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING)


@pytest.fixture
async def ann(client, ctx) -> Member:
    return await member(client, ctx, "ann@example.com", display_name="Ann")


@pytest.fixture
async def bob(app: FastAPI, ctx) -> AsyncIterator[Member]:
    async with new_client(app) as client:
        yield await member(client, ctx, "bob@example.com", display_name="Bob")


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as client:
        yield client
