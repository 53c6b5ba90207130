"""`clonechats admin create-user` and `clonechats admin set-role`, run as an operator would."""

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from typer.testing import CliRunner

from clonechats.app import create_app
from clonechats.cli import app as cli
from tests.conftest import make_settings

# the commands open the data directory given on their command line: the embedded engine
pytestmark = pytest.mark.embedded_only

PASSWORD = "a long and unusual passphrase"
ENV = {"CLONECHATS_DEV_MODE": "1", "CLONECHATS_ACCOUNTS__BCRYPT_ROUNDS": "4",
       "CLONECHATS_LOG_JSON": "0"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(*args: str, input: str | None = None):
    """Invoke the command; it configures logging for its process, so the runner's is put back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return CliRunner().invoke(cli, list(args), input=input, env=ENV)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def create(data_dir: Path, email: str, role: str = "user", password: str = PASSWORD):
    return run("admin", "create-user", "--email", email, "--role", role, "--password-stdin",
               "--data-dir", str(data_dir), input=password + "\n")


def in_app(data_dir: Path, steps) -> Any:
    """Run `steps(http, ctx)` against the app serving `data_dir`, as a browser would."""
    async def go() -> Any:
        application = create_app(make_settings(data_dir))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver") as http:
                return await steps(http, application.state.ctx)

    return asyncio.run(go())


async def sign_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD):
    await http.get("/")
    return await http.post("/api/v1/auth/login", json={"email": email, "password": password},
                           headers={"X-CSRF-Token": http.cookies.get("csrf_token", "")})


def test_create_admin_who_can_sign_in_and_open_the_admin_area(data_dir):
    result = create(data_dir, " Boss@Example.com ", role="admin")
    assert result.exit_code == 0, result.output
    user_id = result.stdout.strip()
    assert len(user_id) == 24

    async def steps(http, ctx):
        stored = await ctx.db.users.find_one({"_id": user_id})
        signed_in = await sign_in(http, "boss@example.com")
        sent_to_set_up = await http.get("/admin", headers={"Accept": "text/html"})
        assert sent_to_set_up.status_code == 303
        assert sent_to_set_up.headers["location"] == "/account/two-factor"
        refused = await http.get("/api/v1/admin/users")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "two_factor_required"
        secret = (await http.post("/api/v1/account/two-factor/setup", headers={
            "X-CSRF-Token": http.cookies.get("csrf_token", "")})).json()["secret"]
        confirmed = await http.post("/api/v1/account/two-factor/confirm", headers={
            "X-CSRF-Token": http.cookies.get("csrf_token", "")},
            json={"code": pyotp.TOTP(secret).at(ctx.clock.now())})
        assert confirmed.status_code == 200, confirmed.text
        admin_page = await http.get("/admin")  # with two-factor on, the admin area opens
        return stored, signed_in, admin_page

    stored, signed_in, admin_page = in_app(data_dir, steps)
    assert stored["email"] == "boss@example.com"
    assert stored["role"] == "admin" and stored["status"] == "active"
    assert stored["email_verified"] is True
    assert stored["birth_date"] is None
    assert stored["password_hash"].startswith("$2b$")
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["role"] == "admin"
    assert admin_page.status_code == 200


def test_password_prompt_is_hidden_and_asked_twice(data_dir):
    typed = f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n"
    result = run("admin", "create-user", "--email", "op@example.com",
                 "--data-dir", str(data_dir), input=typed)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert PASSWORD not in result.output
    assert in_app(data_dir, lambda http, ctx: sign_in(http, "op@example.com")).status_code == 200


def test_refusals_exit_1_with_a_clear_message_and_store_nothing(data_dir):
    assert create(data_dir, "taken@example.com").exit_code == 0
    for email, password, fragment in [
        ("taken@example.com", PASSWORD, "already exists"),
        ("TAKEN@example.com", PASSWORD, "already exists"),
        ("new@example.com", "short", "at least"),
        ("new@example.com", "password123", "too common"),
        ("not an email", PASSWORD, "valid email"),
    ]:
        result = create(data_dir, email, password=password)
        assert result.exit_code == 1, (email, result.output)
        assert fragment in result.output, (email, result.output)

    async def count(http, ctx):
        return await ctx.db.users.count_documents({})

    assert in_app(data_dir, count) == 1


def test_unknown_role_is_a_usage_error(data_dir):
    result = create(data_dir, "x@example.com", role="owner")
    assert result.exit_code == 2
    assert not data_dir.exists() or in_app(
        data_dir, lambda http, ctx: ctx.db.users.count_documents({})) == 0


def test_set_role_changes_the_role_and_ends_sessions(data_dir):
    assert create(data_dir, "member@example.com").exit_code == 0
    assert in_app(data_dir, lambda http, ctx: sign_in(http, "member@example.com")
                  ).status_code == 200

    result = run("admin", "set-role", "Member@Example.com", "admin", "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    assert "member@example.com is now admin." in result.output

    async def check(http, ctx):
        user = await ctx.db.users.find_one({"email": "member@example.com"})
        sessions = await ctx.db.sessions.count_documents({"user_id": user["_id"]})
        events = await ctx.db.audit_log.find({"event": "role_changed"}).to_list()
        return user, sessions, events

    user, sessions, events = in_app(data_dir, check)
    assert user["role"] == "admin"
    assert sessions == 0
    assert [e["details"] for e in events] == [{"role": "admin", "actor_id": None}]


def test_set_role_for_an_unknown_email(data_dir):
    result = run("admin", "set-role", "ghost@example.com", "admin", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    assert "No account uses this email." in result.output
