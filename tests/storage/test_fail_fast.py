"""A stalled database fails requests fast with 503 and `/healthz` says so; a media store that
cannot write answers 503 and records nothing. The stall is a real blocked database thread."""

import threading
from pathlib import Path

import pytest

from clonechats.settings import Settings
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import csrf, log_in, make_user
from tests.media.samples import image_bytes


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         database_timeout_seconds=1.0)


def stall(ctx) -> threading.Event:
    """Block the embedded database's only thread until the returned event is set."""
    release = threading.Event()
    ctx.connection._client._executor.submit(release.wait, 30)
    return release


async def test_a_stalled_database_gives_503_and_healthz_is_not_ok(client, ctx):
    await make_user(ctx, email="a@example.com")
    assert (await log_in(client, email="a@example.com")).status_code == 200
    healthy = await client.get("/healthz")
    assert healthy.status_code == 200 and healthy.json()["database"] == "ok"

    release = stall(ctx)
    try:
        down = await client.get("/healthz")
        assert down.status_code == 503 and down.json()["status"] == "unavailable"
        assert (await client.get("/readyz")).status_code == 503
        me = await client.get("/api/v1/auth/me")
        assert me.status_code == 503
        assert me.json()["error"]["code"] == "storage_unavailable"
        assert me.headers["retry-after"] == "5"
    finally:
        release.set()
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/api/v1/auth/me")).status_code == 200


async def test_a_media_store_that_cannot_write_gives_503_and_records_nothing(
        client, ctx, settings, monkeypatch):
    await make_user(ctx, email="m@example.com")
    await log_in(client, email="m@example.com")
    created = await client.post("/api/v1/personas", headers=csrf(client), json={"name": "Ada"})
    persona_id = created.json()["persona"]["id"]

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(ctx.media), "_put_bytes", disk_full)
    response = await client.post(f"/api/v1/personas/{persona_id}/avatar", headers=csrf(client),
                                 files={"file": ("a.png", image_bytes("PNG"), "image/png")})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "media_storage_unavailable"
    assert await ctx.db.media.count_documents({}) == 0
    assert (await ctx.db.personas.find_one({"_id": persona_id}))["avatar_media_id"] is None
