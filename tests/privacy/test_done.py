"""The privacy centre end to end: a user exports their data and finds everything in the ZIP,
deletes the account, and the audit command run right after finds nothing of theirs left but
pseudonymised payment records."""

import io
import json
import zipfile

from clonechats.privacy import audit
from tests.factories import DEFAULT_PASSWORD, Member
from tests.privacy.helpers import MEMORY, MESSAGE, populate, traces


async def test_export_then_delete_then_audit(ann: Member, ctx, run_jobs):
    made = await populate(ann, run_jobs)
    job_id = (await ann.send("POST", "/api/v1/privacy/export")).json()["job_id"]
    await run_jobs()
    status = (await ann.client.get(f"/api/v1/privacy/export/{job_id}")).json()
    archive = zipfile.ZipFile(io.BytesIO((await ann.client.get(status["download_url"])).content))
    data = json.loads(archive.read("export.json"))["data"]
    listed = {
        "account": data["accounts"]["profile"]["email"] == ann.email,
        "sessions metadata": bool(data["accounts"]["sessions"]),
        "personas": data["personas"]["personas"][0]["id"] == made["persona_id"],
        "memories": data["memories"]["memories"][0]["text"] == MEMORY,
        "conversations and messages": MESSAGE in json.dumps(data["conversations"]),
        "media metadata": data["media"]["files"][0]["id"] == made["avatar"]["id"],
        "media files": data["media"]["files"][0]["file"] in archive.namelist(),
        "favourites": data["personas"]["favourites"][0]["persona_id"] == made["persona_id"],
        "shares": data["personas"]["personas"][0]["share_id"] == made["share_id"],
        "orders": data["billing"]["orders"][0]["order_id"] == made["order_id"],
        "ledger": bool(data["billing"]["ledger"]),
        "consent history": data["privacy"]["consent_history"][0]["what"] == "analytics",
        "audit events": bool(data["accounts"]["audit_events"]),
        "human-readable index": "index.html" in archive.namelist(),
    }
    assert [name for name, ok in listed.items() if not ok] == []

    deleted = await ann.send("DELETE", "/api/v1/account", json={"password": DEFAULT_PASSWORD})
    assert deleted.status_code == 202
    await run_jobs()

    # what `clonechats privacy audit` prints, run at the test's (frozen) time
    report = audit.report(await audit.run(ctx))
    assert "BROKEN" not in report and "All promises kept." in report, report
    assert await traces(ctx, ann.id) == []
    left = {name for name, _, _ in await traces(ctx, ann.email)}
    assert left <= {"outbox", "jobs"}  # the deletion receipt, kept 30 days
    order = await ctx.db.orders.find_one({"_id": made["order_id"]})
    assert order["user_id"].startswith("pseudonym:")
