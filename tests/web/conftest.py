"""An app with a few extra routes that only tests add, to reach every kind of error."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field

from clonechats.app import create_app
from clonechats.clock import FrozenClock
from clonechats.errors import Conflict
from tests.conftest import make_settings

BODY_LIMIT = 4096


class Greeting(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    times: int = Field(1, ge=1, le=5)


class ProbeFailure(RuntimeError):
    pass


def add_probe_routes(app: FastAPI) -> None:
    @app.post("/api/v1/probe/greet")
    async def greet(greeting: Greeting) -> dict[str, str]:
        return {"text": " ".join([f"Hello, {greeting.name}."] * greeting.times)}

    @app.post("/api/v1/probe/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @app.get("/api/v1/probe/conflict")
    async def conflict() -> None:
        raise Conflict("That name is taken.", details={"field": "name"})

    @app.get("/api/v1/probe/crash")
    async def crash() -> None:
        raise ProbeFailure("secret internals: db password hunter2")

    @app.get("/probe/crash-page")
    async def crash_page() -> None:
        raise ProbeFailure("secret internals of a page")

    @app.get("/probe/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        client = request.client
        return {"client": client.host if client else None, "scheme": request.url.scheme}


AppFactory = Callable[..., Any]


@pytest.fixture
def probe_app_factory(tmp_path: Path, clock: FrozenClock) -> AppFactory:
    """`async with probe_app_factory(**settings) as (app, client):` a started app and a client."""

    @asynccontextmanager
    async def open_app(*, client_address: tuple[str, int] = ("127.0.0.1", 50000),
                       **overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        values: dict[str, Any] = {"max_body_bytes": BODY_LIMIT, "max_json_bytes": BODY_LIMIT}
        values.update(overrides)
        app = create_app(make_settings(tmp_path / "data", **values), clock=clock)
        add_probe_routes(app)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False,
                                        client=client_address)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as http:
            yield app, http

    return open_app


@pytest.fixture
async def probe(probe_app_factory: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with probe_app_factory() as (_app, http):
        yield http
