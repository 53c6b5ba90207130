"""Deletion leaves nothing behind in the database files, and public content stops answering the
moment deletion is requested, before the background job runs."""

from tests.factories import DEFAULT_PASSWORD
from tests.privacy.helpers import files_with


async def test_public_content_is_hidden_at_once(ann, anonymous, ctx):
    created = await ann.send("POST", "/api/v1/personas",
                             json={"name": "Shared", "visibility": "public"})
    assert created.status_code == 201, created.text
    share_id = created.json()["persona"]["share_id"]
    assert (await anonymous.get(f"/api/v1/public/personas/{share_id}")).status_code == 200
    assert (await ann.send("DELETE", "/api/v1/account",
                           json={"password": DEFAULT_PASSWORD})).status_code == 202
    # the purge job has not run yet
    assert await ctx.db.jobs.count_documents({"kind": "privacy.delete_account",
                                              "status": "queued"}) == 1
    assert (await anonymous.get(f"/api/v1/public/personas/{share_id}")).status_code == 404
    assert (await anonymous.get(f"/p/{share_id}")).status_code == 404
    listed = (await anonymous.get("/api/v1/public/personas")).json()["items"]
    assert listed == []


async def test_the_database_files_keep_no_trace_of_the_deletion_record(ann, ctx, run_jobs):
    await ctx.db.users.update_one({"_id": ann.id}, {"$set": {"display_name": "Zebulon Quux"}})
    await run_jobs()
    assert (await ann.send("DELETE", "/api/v1/account",
                           json={"password": DEFAULT_PASSWORD})).status_code == 202
    await run_jobs()
    data_dir = ctx.settings.data_dir
    assert files_with(data_dir, ann.id) == []
    holding_name = [path.name for path in files_with(data_dir, "Zebulon Quux")]
    assert all("outbox" in name or "jobs" in name for name in holding_name), holding_name
