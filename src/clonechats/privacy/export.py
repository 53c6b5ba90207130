"""Data export: one request builds a ZIP of everything we hold about the user, in the background.

`request_export` records an export (`privacy_exports`) and queues the `privacy.export` job; a
request while one is still being built returns that one. The job walks the privacy registry
(every domain's holder, this one's consent history included), updating the export's progress
after each, copies the user's media files, and writes `export.json` (machine-readable),
`index.html` (human-readable) and `files/` into `<data_dir>/exports/<id>.zip`.

A finished export can be downloaded by its owner only, signed in (the URL holds no secret and
is not enough alone), until `expires_at` (`privacy.export_hours` after it is ready); after that
the download is refused and the retention job deletes the archive. Never touches HTTP.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clonechats.errors import AppError, NotFound, TooManyRequests
from clonechats.privacy import analytics, export_archive, repo
from clonechats.privacy.registry import holders

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

EXPORT_JOB = "privacy.export"
QUEUED, RUNNING, READY, FAILED = "queued", "running", "ready", "failed"
EXPORTS_PER_DAY = 5
DIRECTORY = "exports"


class ExportNotFound(NotFound):
    message = "No such export."


class ExportExpired(AppError):
    code = "export_expired"
    status = 410
    message = "This export has expired and been deleted. Ask for a new one."


class ExportNotReady(AppError):
    code = "export_not_ready"
    status = 409
    message = "This export is not ready yet."


class TooManyExports(TooManyRequests):
    code = "too_many_exports"
    message = f"You can ask for {EXPORTS_PER_DAY} exports a day. Please try again tomorrow."


def exports_dir(ctx: Ctx) -> Path:
    return ctx.settings.data_dir / DIRECTORY


def download_url(export_id: str) -> str:
    return f"/api/v1/privacy/export/{export_id}/download"


async def request_export(ctx: Ctx, *, user_id: str) -> dict[str, Any]:
    """Queue an export of everything held about `user_id` (or return the one in progress)."""
    unfinished = await repo.unfinished_export(ctx.db, user_id)
    if unfinished is not None:
        return unfinished
    now = ctx.clock.now()
    recent = [e for e in await repo.exports_of(ctx.db, user_id)
              if e["created_at"] > now - timedelta(days=1)]
    if len(recent) >= EXPORTS_PER_DAY:
        raise TooManyExports(headers={"Retry-After": "3600"})
    export = await repo.insert_export(ctx.db, {
        "_id": secrets.token_hex(12), "user_id": user_id, "status": QUEUED, "progress": 0,
        "created_at": now, "started_at": None, "ready_at": None, "expires_at": None,
        "file": None, "size_bytes": None, "error": None,
    })
    await ctx.enqueue(EXPORT_JOB, {"export_id": export["_id"]},
                      dedupe_key=f"{EXPORT_JOB}:{export['_id']}")
    await analytics.record(ctx, user_id=user_id, kind=analytics.FEATURE,
                           name="export_requested")
    return export


async def get_owned(ctx: Ctx, *, user_id: str, export_id: str) -> dict[str, Any]:
    export = await repo.get_export(ctx.db, export_id)
    if export is None or export["user_id"] != user_id:
        raise ExportNotFound()
    return export


def describe(ctx: Ctx, export: dict[str, Any]) -> dict[str, Any]:
    """What the owner is shown: status, progress and, while it may be fetched, the link."""
    expired = export["expires_at"] is not None and export["expires_at"] <= ctx.clock.now()
    body: dict[str, Any] = {
        "job_id": export["_id"], "status": "expired" if expired else export["status"],
        "progress": export["progress"], "created_at": export["created_at"],
        "ready_at": export["ready_at"], "expires_at": export["expires_at"],
        "size_bytes": export["size_bytes"],
    }
    if export["status"] == READY and not expired:
        body["download_url"] = download_url(export["_id"])
    if export["status"] == FAILED:
        body["error"] = export["error"]
    return body


async def open_download(ctx: Ctx, *, user_id: str, export_id: str) -> tuple[Path, str]:
    """The archive's path and a file name for it, for its owner while it has not expired."""
    export = await get_owned(ctx, user_id=user_id, export_id=export_id)
    if export["expires_at"] is not None and export["expires_at"] <= ctx.clock.now():
        raise ExportExpired()
    if export["status"] != READY or not export.get("file"):
        raise ExportNotReady()
    path = exports_dir(ctx) / export["file"]
    if not path.is_file():
        raise ExportExpired()
    return path, f"clonechats-export-{export['ready_at']:%Y-%m-%d}.zip"


async def build(payload: dict[str, Any], ctx: Ctx) -> None:
    """The `privacy.export` job."""
    export = await repo.get_export(ctx.db, payload["export_id"])
    if export is None or export["status"] == READY:
        return  # deleted with its account meanwhile, or already built by an earlier attempt
    await repo.update_export(ctx.db, export["_id"], {"status": RUNNING, "progress": 0,
                                                     "started_at": ctx.clock.now(),
                                                     "error": None})
    try:
        await _build(ctx, export)
    except Exception:
        await repo.update_export(ctx.db, export["_id"], {
            "status": FAILED, "progress": 0,
            "expires_at": ctx.clock.now() + timedelta(hours=ctx.settings.privacy.export_hours),
            "error": "The export could not be built. It is being tried again."})
        raise


async def _build(ctx: Ctx, export: dict[str, Any]) -> None:
    user_id, export_id = export["user_id"], export["_id"]
    registered = holders()
    data: dict[str, Any] = {}
    for done, holder in enumerate(registered, start=1):
        data[holder.name] = await holder.export(ctx, user_id)
        await repo.update_export(ctx.db, export_id,
                                 {"progress": int(80 * done / max(len(registered), 1))})
    descriptions = {holder.name: holder.description for holder in registered}
    name = f"{export_id}.zip"
    size = await export_archive.write(ctx, exports_dir(ctx) / name, user_id=user_id, data=data,
                                      descriptions=descriptions,
                                      on_progress=lambda p: repo.update_export(
                                          ctx.db, export_id, {"progress": 80 + p * 19 // 100}))
    if await repo.get_export(ctx.db, export_id) is None:
        delete_file(ctx, name)  # the account was deleted while its export was being built
        return
    now = ctx.clock.now()
    await repo.update_export(ctx.db, export_id, {
        "status": READY, "progress": 100, "ready_at": now, "file": name, "size_bytes": size,
        "expires_at": now + timedelta(hours=ctx.settings.privacy.export_hours)})
    log.info("export ready", extra={"export_id": export_id, "bytes": size})


async def remove(ctx: Ctx, export: dict[str, Any]) -> None:
    """Delete an export's archive, then its record."""
    if export.get("file"):
        delete_file(ctx, export["file"])
    await repo.delete_export(ctx.db, export["_id"])


def delete_file(ctx: Ctx, name: str) -> None:
    if "/" in name or "\\" in name or name.startswith("."):
        return
    (exports_dir(ctx) / name).unlink(missing_ok=True)
