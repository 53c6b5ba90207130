"""Privacy test fixtures: fast password hashing and people signed in through the API."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from clonechats.settings import AccountSettings, Settings
from tests.conftest import make_settings
from tests.privacy.helpers import Person, new_client, person


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=AccountSettings(bcrypt_rounds=4))


@pytest.fixture
async def ann(client, ctx) -> Person:
    return await person(client, ctx, "ann@example.com", display_name="Ann")


@pytest.fixture
async def bob(app: FastAPI, ctx) -> AsyncIterator[Person]:
    async with new_client(app) as client:
        yield await person(client, ctx, "bob@example.com", display_name="Bob")


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as client:
        yield client
