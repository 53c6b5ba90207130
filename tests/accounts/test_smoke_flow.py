import pytest
from tests.conftest import make_settings


@pytest.fixture
def settings(tmp_path):
    from clonechats.settings import AccountSettings
    return make_settings(tmp_path / "data", accounts=AccountSettings(bcrypt_rounds=4))


async def test_signup_login_logout(client):
    r = await client.get("/")
    csrf = client.cookies.get("csrf_token")
    assert csrf
    r = await client.post("/api/v1/auth/signup", json={
        "email": "Ann@Example.com", "password": "correct horse battery", "birth_date": "1990-01-01"})
    assert r.status_code == 201, r.text
    assert r.json()["user"]["email"] == "ann@example.com"
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 200
    r = await client.post("/api/v1/auth/logout")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": client.cookies.get("csrf_token")})
    assert r.status_code == 204, r.text
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401
