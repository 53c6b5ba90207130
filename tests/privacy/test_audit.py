"""`clonechats privacy audit`: each promise reported KEPT or BROKEN. Every violation planted
here is caught, and a system used normally passes."""

import asyncio
import json
import logging
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clonechats.app import create_app
from clonechats.cli import app as cli
from clonechats.privacy import audit
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import Member, make_persona, make_user
from tests.media.samples import image_bytes, wav_bytes
from tests.privacy.helpers import populate, store_media


async def results(ctx: Any) -> dict[str, audit.Result]:
    return {result.promise: result for result in await audit.run(ctx)}


def broken(found: dict[str, audit.Result]) -> dict[str, dict[str, int]]:
    return {name: dict(r.found) for name, r in found.items() if not r.kept}


async def test_a_system_in_normal_use_keeps_every_promise(ann: Member, ctx, run_jobs):
    await populate(ann, run_jobs)
    await ann.send("POST", "/api/v1/privacy/export")
    await run_jobs()
    assert broken(await results(ctx)) == {}


async def test_harmless_look_alikes_are_not_reported(ctx):
    await ctx.db.audit_log.insert_one({
        "_id": "e1", "event": "login_ok", "user_id": None, "at": ctx.clock.now(),
        "ip_hash": "5e8f0c1d2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
        "user_agent": "Mozilla/5.0 (X11) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36",
        "details": {"version": "v1.2.3.4", "millis": "1772366400000", "time": "12:30:45",
                    "link": "http://127.0.0.1:8000/verify-email?token=abc"}})
    assert broken(await results(ctx)) == {}


@pytest.mark.parametrize(("collection", "document", "where"), [
    ("audit_log", {"event": "login_ok", "user_agent": "curl via 203.0.113.9"},
     "audit_log.user_agent"),
    ("jobs", {"kind": "x", "status": "queued", "payload": {"seen": {"from": "2001:db8::7"}}},
     "jobs.payload"),
    ("sessions", {"user_id": None, "ip": "198.51.100.23:443"}, "sessions.ip"),
])
async def test_a_raw_ip_in_the_database_is_caught(ctx, collection, document, where):
    await ctx.db[collection].insert_one({"_id": "planted", **document})
    found = broken(await results(ctx))["no_raw_ip"]
    assert found.pop(where) == 1
    # the embedded engine's files hold the same bytes; a MongoDB server has no files here
    assert all(place.startswith("file embedded.db/") for place in found)


async def test_a_raw_ip_in_a_file_or_an_export_archive_is_caught(ctx, settings):
    leak = settings.data_dir / "notes" / "leak.txt"
    leak.parent.mkdir(parents=True)
    leak.write_text("client address 192.0.2.44 logged here\n")
    archive = settings.data_dir / "exports" / "old.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("export.json", json.dumps({"ip": "192.0.2.45"}))
    found = broken(await results(ctx))["no_raw_ip"]
    assert found == {"file notes/leak.txt": 1, "file exports/old.zip": 1}


async def test_card_numbers_are_caught_in_values_and_keys(ctx, settings):
    await ctx.db.messages.insert_one({"_id": "m1", "text": "my card is 4111 1111 1111 1111"})
    await ctx.db.orders.insert_one({"_id": "o1", "meta": {"5555555555554444": True}})
    found = broken(await results(ctx))["no_card_numbers"]
    assert found["messages.text"] == 1 and found["orders.meta"] == 1


async def test_documents_past_their_retention_are_caught(ctx):
    # 24 calendar months and 2 days ago
    await ctx.db.audit_log.insert_one({"_id": "old", "event": "login_ok", "user_id": None,
                                       "at": ctx.clock.now() - timedelta(days=733)})
    await ctx.db.outbox.insert_one({"_id": "mail", "to": "x@example.com", "idempotency_key": "k",
                                    "created_at": ctx.clock.now() - timedelta(days=40)})
    found = broken(await results(ctx))["retention"]
    assert found == {"audit_log": 1, "outbox": 1}


async def test_the_audit_allows_the_daily_job_its_day(ctx):
    await ctx.db.outbox.insert_one({"_id": "mail", "to": "x@example.com", "idempotency_key": "k",
                                    "created_at": ctx.clock.now() - timedelta(days=30, hours=3)})
    assert "retention" not in broken(await results(ctx))


async def test_orphaned_media_is_caught(ctx):
    ghost = await ctx.media.put(image_bytes(), owner_id="nobody0001", kind="avatar")
    assert ghost.key
    await store_media(ctx, "deleteduser1", "voice_clip", wav_bytes(1.0), saved=True)
    found = broken(await results(ctx))
    assert found["no_orphaned_media"] == {"files without a media record": 1,
                                          "files of deleted users": 1}
    assert found["no_orphaned_content"] == {"media of deleted users": 1}


async def test_content_of_deleted_users_or_personas_is_caught(ctx):
    owner = await make_user(ctx, email="owner@example.com")
    persona = await make_persona(ctx, owner_id=owner["_id"])
    await make_persona(ctx, owner_id="gone-user")
    await ctx.db.memories.insert_one({"_id": "m1", "owner_id": owner["_id"],
                                      "persona_id": "gone-persona", "text": "x"})
    await ctx.db.memories.insert_one({"_id": "m2", "owner_id": owner["_id"],
                                      "persona_id": persona["_id"], "text": "fine"})
    await ctx.db.conversations.insert_one({"_id": "c1", "owner_id": "gone-user",
                                           "persona_id": persona["_id"]})
    found = broken(await results(ctx))["no_orphaned_content"]
    assert found == {"personas of deleted users": 1, "memories of deleted personas": 1,
                     "conversations of deleted users": 1}


async def test_payment_records_naming_a_deleted_user_are_caught(ctx):
    await ctx.db.orders.insert_one({"_id": "o1", "user_id": "gone-user", "status": "paid"})
    await ctx.db.orders.insert_one({"_id": "o2", "user_id": "pseudonym:abc", "status": "paid"})
    found = broken(await results(ctx))
    assert found == {"kept_records_pseudonymised": {"orders of deleted users": 1}}


async def test_a_child_under_13_is_caught(ctx):
    await make_user(ctx, email="kid@example.com")
    await ctx.db.users.update_one({"email": "kid@example.com"},
                                  {"$set": {"birth_date": "2015-06-01"}})
    await make_user(ctx, email="teen@example.com")
    await ctx.db.users.update_one({"email": "teen@example.com"},
                                  {"$set": {"birth_date": "2012-01-01"}})
    assert broken(await results(ctx)) == {"no_children_under_13": {"users": 1}}


def run_cli(data_dir: Path, *args: str):
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    env = {"CLONECHATS_DEV_MODE": "1", "CLONECHATS_SECRET_KEY": TEST_SECRET,
           "CLONECHATS_LOG_JSON": "0", "CLONECHATS_ACCOUNTS__BCRYPT_ROUNDS": "4"}
    try:
        return CliRunner().invoke(cli, ["privacy", *args, "--data-dir", str(data_dir)],
                                  env=env)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def with_app(data_dir: Path, steps: Any) -> None:
    async def go() -> None:
        app = create_app(make_settings(data_dir))
        async with app.router.lifespan_context(app):
            await steps(app.state.ctx)

    asyncio.run(go())


@pytest.mark.embedded_only  # a command run on a data directory
def test_the_command_exits_0_when_kept_and_1_when_broken(tmp_path: Path):
    data_dir = tmp_path / "data"

    async def normal_use(ctx: Any) -> None:
        await make_user(ctx, email="ann@example.com")

    with_app(data_dir, normal_use)
    clean = run_cli(data_dir, "audit")
    assert clean.exit_code == 0, clean.output
    assert "KEPT   no_raw_ip" in clean.output and "All promises kept." in clean.output
    assert "BROKEN" not in clean.output

    async def leak(ctx: Any) -> None:
        await ctx.db.audit_log.insert_one({"_id": "x", "event": "login_ok", "user_id": None,
                                           "at": ctx.clock.now(), "note": "from 203.0.113.9"})

    with_app(data_dir, leak)
    dirty = run_cli(data_dir, "audit")
    assert dirty.exit_code == 1
    assert "BROKEN no_raw_ip" in dirty.output and "audit_log.note 1" in dirty.output
    assert "203.0.113.9" not in dirty.output  # where, never what
    as_json = json.loads(run_cli(data_dir, "audit", "--json").stdout)
    assert {r["promise"]: r["kept"] for r in as_json}["no_raw_ip"] is False


@pytest.mark.embedded_only  # a command run on a data directory
def test_the_retention_command_reports_what_it_removed(tmp_path: Path):
    data_dir = tmp_path / "data"

    async def old_mail(ctx: Any) -> None:
        await ctx.db.outbox.insert_one({"_id": "m", "to": "a@example.com", "idempotency_key": "k",
                                        "created_at": ctx.clock.now() - timedelta(days=45)})

    with_app(data_dir, old_mail)
    result = run_cli(data_dir, "retention")
    assert result.exit_code == 0, result.output
    assert any(line.split() == ["outbox", "1"] for line in result.output.splitlines())


async def test_an_export_archive_without_its_record_is_caught(ctx, settings):
    archive = settings.data_dir / "exports" / "0123456789abcdef01234567.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("export.json", "{}")
    found = broken(await results(ctx))
    assert found == {"no_orphaned_media": {"export archives without a record": 1}}


def test_byte_runs_that_only_look_like_addresses_are_not_flagged():
    from clonechats.privacy.audit_scan import find_ips_in_bytes

    noise = b"\x96\xb4V\xfc::d\n\x00 ::1 \x00 f3::2 \x00 240.1.2.3 \x00"
    assert find_ips_in_bytes(noise) == []
    real = b"\x00from 2001:db8:0:1::7 and 198.51.100.9\x00"
    assert sorted(find_ips_in_bytes(real)) == ["198.51.100.9", "2001:db8:0:1::7"]
