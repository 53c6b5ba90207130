"""Open a fresh database on either engine, for tests that must hold on both.

The embedded engine always runs; MongoDB runs on the server `tests.mongodb_server` provides (the
one `CLONECHATS_TEST_MONGODB_URL` names, else a throwaway SecantusDB). Each test gets a database
of its own, dropped afterwards.
"""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from clonechats.storage import Connection, connect
from tests import mongodb_server

ENGINES = [
    pytest.param("embedded", id="embedded"),
    pytest.param("mongodb", id="mongodb", marks=pytest.mark.mongodb),
]


def mongodb_url() -> str:
    """The MongoDB server to test against; skips the calling test when there is none."""
    return mongodb_server.url()


@asynccontextmanager
async def open_engine(engine: str, data_dir: Path) -> AsyncIterator[Connection]:
    """A connection to an empty database on `engine`, closed (and for MongoDB dropped) after."""
    if engine == "embedded":
        connection = await connect(None, data_dir=data_dir)
        try:
            yield connection
        finally:
            await connection.close()
        return
    name = f"clonechats_test_{secrets.token_hex(6)}"
    connection = await connect(mongodb_url(), data_dir=data_dir, name=name)
    try:
        yield connection
    finally:
        await connection.db.client.drop_database(name)
        await connection.close()
