"""No raw IP address is written anywhere: database files, media, job payloads."""

from pathlib import Path

import httpx
import pytest

from tests.conftest import FAST_HASHING, make_settings
from tests.factories import csrf, make_user

ATTACKER_IP = "203.0.113.77"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "data", trusted_proxies=["127.0.0.1"],
                         accounts=FAST_HASHING)


async def test_login_storm_leaves_no_raw_ip_in_the_data_dir(app, ctx, settings, run_jobs):
    await make_user(ctx, email="victim@example.com")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    headers = {"X-Forwarded-For": ATTACKER_IP, "User-Agent": "storm"}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers=headers) as attacker:
        await attacker.get("/")
        for index in range(40):
            await attacker.post("/api/v1/auth/login", headers=csrf(attacker), json={
                "email": "victim@example.com" if index % 2 else f"x{index}@example.com",
                "password": "guess guess guess"})
        await attacker.post("/api/v1/auth/trial", headers=csrf(attacker))
        await attacker.post("/api/v1/auth/signup", headers=csrf(attacker), json={
            "email": "new@example.com", "password": "a fine long passphrase",
            "birth_date": "1990-01-01"})
        await attacker.post("/api/v1/auth/password-reset", headers=csrf(attacker),
                            json={"email": "victim@example.com"})
    await run_jobs()
    assert await ctx.db.login_attempts.count_documents({}) > 0
    await ctx.close()  # flush the embedded engine's files before scanning them
    assert files_containing(Path(settings.data_dir), ATTACKER_IP.encode()) == []


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]
