"""Export: one request, a background job with progress, a ZIP with everything, for its owner
only, for a limited time, then deleted."""

import hashlib
import io
import json
import re
import zipfile
from typing import Any

import pytest

from clonechats.privacy import export_archive, registry, retention
from clonechats.privacy.registry import DataHolder
from tests.factories import Member
from tests.privacy.helpers import MEMORY, MESSAGE, populate


async def export_now(who: Member, run_jobs: Any) -> dict[str, Any]:
    started = await who.send("POST", "/api/v1/privacy/export")
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    queued = (await who.client.get(f"/api/v1/privacy/export/{job_id}")).json()
    assert queued["status"] == "queued" and queued["progress"] == 0
    assert "download_url" not in queued
    await run_jobs()
    status = (await who.client.get(f"/api/v1/privacy/export/{job_id}")).json()
    assert status["status"] == "ready" and status["progress"] == 100, status
    return status


async def download(who: Member, status: dict[str, Any]) -> zipfile.ZipFile:
    response = await who.client.get(status["download_url"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(response.content))


async def test_the_zip_holds_everything_we_hold_about_the_user(ann: Member, ctx, run_jobs):
    made = await populate(ann, run_jobs)
    archive = await download(ann, await export_now(ann, run_jobs))
    names = set(archive.namelist())
    avatar = made["avatar"]
    assert {"export.json", "index.html", f"files/{avatar['id']}.png"} <= names
    doc = json.loads(archive.read("export.json"))
    assert doc["format"] == "clonechats-export" and doc["user_id"] == ann.id
    data = doc["data"]
    assert set(data) == {holder.name for holder in registry.holders()}

    profile = data["accounts"]["profile"]
    assert profile["email"] == ann.email and "password_hash" not in profile
    assert data["accounts"]["sessions"] and "ip_hash" in data["accounts"]["sessions"][0]
    assert {e["event"] for e in data["accounts"]["audit_events"]} >= {"login_ok"}
    [persona] = data["personas"]["personas"]
    assert persona["id"] == made["persona_id"] and persona["share_id"] == made["share_id"]
    assert data["personas"]["favourites"][0]["persona_id"] == made["persona_id"]
    assert [m["text"] for m in data["memories"]["memories"]] == [MEMORY]
    [conversation] = data["conversations"]["conversations"]
    assert conversation["id"] == made["conversation_id"]
    assert MESSAGE in [m["text"] for m in conversation["messages"]]
    assert any(m["role"] == "assistant" for m in conversation["messages"])
    [media] = data["media"]["files"]
    assert media["id"] == avatar["id"] and media["file"] == f"files/{avatar['id']}.png"
    assert "key" not in media
    stored = archive.read(media["file"])
    assert hashlib.sha256(stored).hexdigest() == media["sha256"]
    [order] = data["billing"]["orders"]
    assert order["order_id"] == made["order_id"] and order["status"] == "paid"
    kinds = {e["kind"] for e in data["billing"]["ledger"]}
    assert "grant" in kinds and len(kinds) >= 2  # the pack, and what the reply spent
    consents = data["privacy"]["consent_history"]
    assert [(c["what"], c["value"]) for c in consents] == [("analytics", True)]
    assert data["privacy"]["data_requests"][0]["kind"] == "access"
    assert data["mail"]["emails"], "the receipt of the order was emailed"
    assert data["telemetry"]["cost_events"]
    about = doc["about"]
    assert about["rights"] and about["retention"] and about["purposes"]
    assert any(r["data"].startswith("Voice clips") for r in about["retention"])


async def test_the_index_page_is_readable_and_escaped(ann: Member, run_jobs):
    made = await populate(ann, run_jobs)
    archive = await download(ann, await export_now(ann, run_jobs))
    index = archive.read("index.html").decode()
    assert "<b>green tea</b>" not in index
    assert "&lt;b&gt;green tea&lt;/b&gt; &amp; rainy days" in index
    assert f'href="files/{made["avatar"]["id"]}.png"' in index
    assert "Your rights" in index and ann.email in index

    doc = json.loads(archive.read("export.json"))
    for holder, data in doc["data"].items():  # each section links its raw file, beside it
        assert json.loads(archive.read(f"data/{holder}.json")) == data
        assert f'<a href="data/{holder}.json">' in index
    assert '<a href="export.json">' in index
    flat = re.sub(r"\s+", " ", index)
    # the chat as a transcript: speaker, time, text
    assert re.search(r'<li class="line user"><p class="speaker"><strong>You</strong> '
                     r'<time datetime="2026-03-01T12:00:00Z">1 Mar 2026, 12:00 UTC</time></p> '
                     rf'<p class="text">{re.escape(MESSAGE)}</p></li>', flat)
    assert re.search(r'<li class="line assistant"><p class="speaker"><strong>Ada</strong>', flat)
    # the persona as a card, other records as tables with readable times
    assert re.search(r'<article class="card">.*?<h4>Ada</h4>', flat)
    assert '<th scope="col">Balance after</th>' in index
    assert "2026-03-01T12:00:00+00:00" not in re.sub(r"<[^>]+>", "", index)


def test_the_index_page_shows_hostile_text_as_text() -> None:
    hostile = '<script>alert("x")</script>'
    doc = {"generated_at": "2026-03-01T12:00:00+00:00", "user_id": "u1", "operator": "Op",
           "contact": "c@example.com", "about": {},
           "contents": {"conversations": "Chats.", "rooms": "Debates.", "personas": "Yours."},
           "data": {
               "conversations": {"conversations": [{
                   "title": hostile, "persona_name": hostile, "messages": [
                       {"role": "assistant", "text": hostile,
                        "created_at": "2026-03-01T12:00:00+00:00"}]}]},
               "rooms": {"rooms": [{"topic": "Cats or dogs?", "turns": [
                   {"speaker": "Ada", "text": f"Cats. {hostile}", "created_at": None}]}]},
               "personas": {"personas": [{"name": hostile, "traits": [hostile],
                                          "greeting": hostile, "sliders": {"warmth": 50}}]},
           }}
    index = export_archive.render_index(doc)
    assert "<script>" not in index
    assert index.count("&lt;script&gt;") >= 5
    flat = re.sub(r"\s+", " ", index)
    assert '<h4>Cats or dogs?</h4>' in flat
    assert re.search(r'<strong>Ada</strong></p> <p class="text">Cats\. &lt;script&gt;', flat)
    assert "Warmth: 50" in flat


async def test_progress_is_kept_on_the_export_as_each_holder_finishes(
        ann: Member, ctx, run_jobs, monkeypatch: pytest.MonkeyPatch):
    seen: list[int] = []

    async def probe_export(probe_ctx: Any, user_id: str) -> dict[str, Any]:
        [export] = await ctx.db.privacy_exports.find({"user_id": user_id}).to_list()
        seen.append(export["progress"])
        return {"checked": True}

    async def probe_delete(probe_ctx: Any, user_id: str) -> int:
        return 0

    monkeypatch.setitem(registry._HOLDERS, "probe", DataHolder(
        name="probe", description="A probe.", export=probe_export, delete=probe_delete,
        order=500))
    status = await export_now(ann, run_jobs)
    assert len(seen) == 1 and 0 < seen[0] < 80
    assert status["progress"] == 100


async def test_asking_again_while_one_is_built_returns_the_same_export(ann: Member):
    first = (await ann.send("POST", "/api/v1/privacy/export")).json()["job_id"]
    second = (await ann.send("POST", "/api/v1/privacy/export")).json()["job_id"]
    assert first == second


async def test_only_the_owner_can_see_or_download_an_export(ann: Member, bob: Member,
                                                           anonymous, run_jobs):
    status = await export_now(ann, run_jobs)
    url = status["download_url"]
    job = f"/api/v1/privacy/export/{status['job_id']}"
    assert (await bob.client.get(url)).status_code == 404
    assert (await bob.client.get(job)).status_code == 404
    assert (await anonymous.get(url)).status_code == 401
    assert (await anonymous.get(job)).status_code == 401
    assert (await ann.client.get(url)).status_code == 200


async def test_an_export_expires_and_is_then_deleted_by_retention(ann: Member, ctx, run_jobs):
    status = await export_now(ann, run_jobs)
    [stored] = await ctx.db.privacy_exports.find({}).to_list()
    path = ctx.settings.data_dir / "exports" / stored["file"]
    assert path.is_file()
    ctx.clock.advance(hours=47)
    assert (await ann.client.get(status["download_url"])).status_code == 200
    ctx.clock.advance(hours=2)
    expired = await ann.client.get(status["download_url"])
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "export_expired"
    described = (await ann.client.get(f"/api/v1/privacy/export/{status['job_id']}")).json()
    assert described["status"] == "expired" and "download_url" not in described
    counts = await retention.apply_rules(ctx)
    assert counts["exports"] == 1
    assert not path.exists()
    assert await ctx.db.privacy_exports.count_documents({}) == 0
    assert (await ann.client.get(status["download_url"])).status_code == 404


async def test_exports_are_limited_per_day(ann: Member, ctx, run_jobs):
    for _ in range(5):
        assert (await ann.send("POST", "/api/v1/privacy/export")).status_code == 202
        await run_jobs()
    refused = await ann.send("POST", "/api/v1/privacy/export")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_exports"
    ctx.clock.advance(days=1, minutes=1)
    assert (await ann.send("POST", "/api/v1/privacy/export")).status_code == 202


async def test_an_export_that_fails_is_marked_and_retried(ann: Member, ctx, run_jobs,
                                                         monkeypatch: pytest.MonkeyPatch):
    calls = {"n": 0}

    async def flaky(probe_ctx: Any, user_id: str) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("storage hiccup")
        return {}

    async def nothing(probe_ctx: Any, user_id: str) -> int:
        return 0

    monkeypatch.setitem(registry._HOLDERS, "flaky", DataHolder(
        name="flaky", description="Flaky.", export=flaky, delete=nothing))
    job_id = (await ann.send("POST", "/api/v1/privacy/export")).json()["job_id"]
    await run_jobs()
    failed = (await ann.client.get(f"/api/v1/privacy/export/{job_id}")).json()
    assert failed["status"] == "failed" and failed["error"]
    ctx.clock.advance(seconds=5)
    await run_jobs()
    ready = (await ann.client.get(f"/api/v1/privacy/export/{job_id}")).json()
    assert ready["status"] == "ready" and ready["download_url"]


async def test_an_unknown_export_is_not_found(ann: Member):
    response = await ann.client.get("/api/v1/privacy/export/nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_an_export_built_while_its_account_goes_leaves_no_archive(
        ann: Member, ctx, run_jobs, monkeypatch: pytest.MonkeyPatch):
    from clonechats.privacy import repo

    async def account_goes(probe_ctx: Any, user_id: str) -> dict[str, Any]:
        await repo.delete_for_user(ctx.db, user_id)  # as the deletion job does, meanwhile
        return {}

    async def nothing(probe_ctx: Any, user_id: str) -> int:
        return 0

    monkeypatch.setitem(registry._HOLDERS, "racer", DataHolder(
        name="racer", description="Deletes meanwhile.", export=account_goes, delete=nothing))
    await ann.send("POST", "/api/v1/privacy/export")
    await run_jobs()
    exports_dir = ctx.settings.data_dir / "exports"
    assert list(exports_dir.glob("*")) == []
