from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from clonechats.storage import Connection
from tests.storage.engines import ENGINES, open_engine


@pytest.fixture(params=ENGINES)
async def connection(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Connection]:
    async with open_engine(request.param, tmp_path / "data") as opened:
        yield opened


@pytest.fixture
def db(connection: Connection) -> Any:
    return connection.db
