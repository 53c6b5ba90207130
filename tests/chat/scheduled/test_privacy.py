"""Scheduled items in the export, gone with their conversation and the account, and a cancel
that really removes the text from the store (the database files included)."""

from pathlib import Path

import pytest

from clonechats.privacy.registry import delete_user_data, export_user_data
from tests.chat.scheduled.conftest import scheduled_item, stored

SECRET = "my very private plan zq81x"


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.embedded_only  # reads the embedded engine's files
async def test_cancelling_removes_the_text_from_the_store(ann, ctx, settings):
    conversation = await ann.conversation((await ann.persona())["_id"])
    message = await scheduled_item(ann, conversation["id"], SECRET)
    reply = await scheduled_item(ann, conversation["id"], SECRET + " again", kind="reply")
    assert files_containing(settings.data_dir, SECRET.encode())  # it is stored, for now
    for item in (message, reply):
        assert (await ann.send("DELETE", f"/api/v1/scheduled/{item['id']}")).status_code == 200
    assert (await stored(ctx, message["id"]))["text"] == ""
    assert await ctx.db.messages.count_documents({}) == 0  # the reply item's question went too
    await ctx.connection.scrub()
    assert files_containing(settings.data_dir, SECRET.encode()) == []


async def test_export_lists_the_items(ann, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    item = await scheduled_item(ann, conversation["id"], SECRET)
    exported = await export_user_data(ctx, ann.id)
    [entry] = exported["scheduled_messages"]["scheduled_messages"]
    assert entry["id"] == item["id"] and entry["text"] == SECRET
    assert entry["send_at"] == "2026-03-01T13:00:00+00:00" and entry["status"] == "pending"


async def test_deleting_the_conversation_deletes_its_items(ann, ctx, clock, run_jobs, fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    item = await scheduled_item(ann, conversation["id"], SECRET)
    assert (await ann.send("DELETE", f"/api/v1/conversations/{conversation['id']}")
            ).status_code == 204
    assert await stored(ctx, item["id"]) is None
    clock.advance(hours=1)
    await run_jobs()  # its job finds nothing to deliver
    assert await ctx.db.messages.count_documents({}) == 0
    assert fake_llm.history == []


async def test_deleting_the_account_deletes_its_items(ann, bob, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    await scheduled_item(ann, conversation["id"], SECRET)
    theirs = await bob.conversation((await bob.persona())["_id"])
    kept = await scheduled_item(bob, theirs["id"], "Bob's")
    counts = await delete_user_data(ctx, ann.id)
    assert counts["scheduled_messages"] == 1
    assert await ctx.db.scheduled_messages.count_documents({"owner_id": ann.id}) == 0
    assert await stored(ctx, kept["id"]) is not None
