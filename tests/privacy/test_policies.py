"""Policy documents: rendered from configuration and the code's own tables; versioned; a
material change shows a notice after sign-in until acknowledged; security.txt."""

import ast
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

import clonechats
from clonechats.app import create_app
from clonechats.clock import FrozenClock
from clonechats.privacy import retention_rules
from clonechats.settings import (
    BillingSettings,
    EmailSettings,
    GoogleSettings,
    LLMSettings,
    PrivacySettings,
    ProcessorSpec,
)
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import Member, log_in, make_user, new_client


@asynccontextmanager
async def serving(data_dir: Path, clock: FrozenClock,
                  **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Any]]:
    settings = make_settings(data_dir, accounts=FAST_HASHING, **overrides)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app), new_client(app) as http:
        yield http, app.state.ctx, app


async def test_the_privacy_page_shows_the_retention_rules_of_the_code(client):
    page = (await client.get("/privacy")).text
    assert "Voice clips and videos generated for you" in page
    assert "90 days (unless you saved them)" in page
    assert "24 months" in page and "7 years (statutory tax and dispute window)" in page
    for rule in retention_rules.RULES:
        assert rule.category in page.replace("&amp;", "&")


def _imports_of(module: str) -> set[str]:
    """The clonechats modules `module` imports anywhere in it, function bodies included."""
    base = Path(clonechats.__file__).parent.parent
    path = base / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = base / module.replace(".", "/") / "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                exists = (base / (name.replace(".", "/") + ".py")).exists() or (
                    base / name.replace(".", "/")).is_dir()
                found.add(name if exists else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("clonechats")}


def test_the_policy_facts_never_reach_the_export_or_the_retention_job():
    """The export's archive includes the policies, and the job deletes exports: the rules the
    pages read are apart from the job, so no import (not even one inside a function) goes
    round from the policies back to the export."""
    seen, todo = set(), ["clonechats.privacy.policies"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(_imports_of(module) - seen)
    assert "clonechats.privacy.retention_rules" in seen
    assert {"clonechats.privacy.export", "clonechats.privacy.retention"} & seen == set()


async def test_changing_a_rule_changes_the_page(client, monkeypatch: pytest.MonkeyPatch):
    rules = tuple(dataclasses.replace(r, keep=retention_rules.Keep(30))
                  if r.name == "generated_media" else r for r in retention_rules.RULES)
    monkeypatch.setattr(retention_rules, "RULES", rules)
    page = (await client.get("/privacy")).text
    assert "30 days (unless you saved them)" in page
    assert "90 days (unless you saved them)" not in page


async def test_the_processors_are_only_the_configured_vendors(tmp_path, clock):
    async with serving(tmp_path / "plain", clock) as (http, _, _app):
        plain = (await http.get("/privacy")).text
    for vendor in ("Resend", "Cashfree", "OpenAI", "Anthropic", "Sign in with Google"):
        assert vendor not in plain
    assert "The operator&#39;s own servers" in plain

    async with serving(
        tmp_path / "vendors", clock,
        email=EmailSettings(provider="resend", resend_api_key=SecretStr("re_test")),
        billing=BillingSettings(provider="cashfree", cashfree_app_id="app",
                                cashfree_secret_key=SecretStr("secret")),
        llm=LLMSettings(openai_api_key=SecretStr("sk-test"), local_models=["smollm2-135m"],
                        local_preload=False),
        google=GoogleSettings(client_id="id.apps.googleusercontent.com",
                              client_secret=SecretStr("g-secret")),
    ) as (http, _, _app):
        configured = (await http.get("/privacy")).text
        cookies_page = (await http.get("/cookies")).text
    for vendor in ("Resend", "Cashfree Payments", "OpenAI", "Sign in with Google"):
        assert vendor in configured
    assert "Anthropic" not in configured
    assert "India" in configured and "United States" in configured
    assert "Cashfree Payments, which may set its own" in cookies_page


async def test_processors_and_regions_can_be_stated_by_the_operator(tmp_path, clock):
    privacy = PrivacySettings(hosting_region="the European Union", processors=[
        ProcessorSpec(name="Example Cloud GmbH", purpose="Hosting", data_received="Everything",
                      region="Germany")])
    async with serving(tmp_path / "d", clock, operator_name="Personas <Ltd>",
                       contact_email="dpo@personas.example", privacy=privacy) as (http, _, _app):
        page = (await http.get("/privacy")).text
    assert "Example Cloud GmbH" in page and "Germany" in page and "the European Union" in page
    assert "Personas &lt;Ltd&gt;" in page and "Personas <Ltd>" not in page
    assert "dpo@personas.example" in page


async def test_all_four_documents_render_with_their_version(client):
    for path, heading in (("/privacy", "Privacy"), ("/cookies", "Cookies"),
                          ("/security", "Security"), ("/terms", "Terms")):
        page = (await client.get(path)).text
        assert f"<h1>{heading}</h1>" in page
        assert "Version 1 · last updated" in page


async def test_security_txt_follows_rfc_9116(client, clock):
    response = await client.get("/.well-known/security.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/plain")
    fields = dict(line.split(": ", 1) for line in response.text.strip().splitlines())
    assert fields["Contact"] == "mailto:security@example.invalid"
    assert fields["Preferred-Languages"] == "en"
    assert fields["Canonical"] == "http://127.0.0.1:8000/.well-known/security.txt"
    assert fields["Policy"] == "http://127.0.0.1:8000/security"
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert clock.now() < expires <= clock.now() + timedelta(days=366)


async def test_each_version_is_recorded_once_when_first_seen(tmp_path, clock):
    data = tmp_path / "data"
    async with serving(data, clock):
        pass
    clock.advance(days=3)
    async with serving(data, clock):
        pass
    material = PrivacySettings(policy_version="2", material_change=True)
    async with serving(data, clock, privacy=material) as (_, ctx, _app):
        versions = await ctx.db.policy_versions.find({}).sort("first_seen_at", 1).to_list()
    assert [(v["_id"], v["material"]) for v in versions] == [("1", False), ("2", True)]
    assert versions[0]["first_seen_at"] == datetime.fromisoformat("2026-03-01T12:00:00+00:00")


NOTICE = "Our policies have changed."


async def test_a_material_change_shows_a_notice_until_acknowledged(tmp_path, clock):
    data = tmp_path / "data"
    async with serving(data, clock) as (_, ctx, _app):
        ann = await make_user(ctx, email="ann@example.com")
    clock.advance(days=10)
    material = PrivacySettings(policy_version="2", material_change=True)
    async with serving(data, clock, privacy=material) as (http, ctx, app):
        assert NOTICE not in (await http.get("/")).text  # not signed in: nothing to show
        assert (await log_in(http, email="ann@example.com")).status_code == 200
        for page in ("/", "/account", "/explore", "/settings/privacy", "/privacy"):
            assert NOTICE in (await http.get(page)).text, page
        who = Member(client=http, user=ann, ctx=ctx)
        acknowledged = await who.send("POST", "/api/v1/privacy/acknowledge")
        assert acknowledged.json() == {"policy_acknowledged_version": "2"}
        for page in ("/", "/account"):
            assert NOTICE not in (await http.get(page)).text
        stored = await ctx.db.users.find_one({"_id": ann["_id"]})
        assert stored["policy_acknowledged_version"] == "2"
        [entry] = await ctx.db.consent_history.find({}).to_list()
        assert (entry["what"], entry["value"], entry["policy_version"]) == (
            "policy_acknowledged", "2", "2")
        clock.advance(minutes=1)
        await make_user(ctx, email="newcomer@example.com")
        async with new_client(app) as fresh:
            assert (await log_in(fresh, email="newcomer@example.com")).status_code == 200
            assert NOTICE not in (await fresh.get("/account")).text


async def test_a_change_that_is_not_material_shows_no_notice(tmp_path, clock):
    data = tmp_path / "data"
    async with serving(data, clock) as (_, ctx, _app):
        await make_user(ctx, email="ann@example.com")
    clock.advance(days=10)
    minor = PrivacySettings(policy_version="1.1")
    async with serving(data, clock, privacy=minor) as (http, _, _app):
        assert (await log_in(http, email="ann@example.com")).status_code == 200
        assert NOTICE not in (await http.get("/account")).text
