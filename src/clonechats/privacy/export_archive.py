"""Writing an export archive: `export.json`, one `data/<holder>.json` per holder, `index.html`
and the user's media under `files/`.

`export.json` holds, besides the data of every holder, what GDPR Art. 15 asks an answer to
include: the purposes, recipients (processors), retention periods, the user's rights and where
to complain, taken from the same tables as the policy pages. `index.html` shows the same data
for people (shaped by `export_index`), rendered with autoescaping (persona text and messages
are user input), and links each section's raw file. The archive
is written to a private temp file beside its final name and renamed into place.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from clonechats.media.errors import MediaNotFound
from clonechats.privacy import export_index, policies
from clonechats.web.timestamps import moment

if TYPE_CHECKING:
    from clonechats.context import Ctx


TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "web" / "templates"
FORMAT = "clonechats-export"
FORMAT_VERSION = 1
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp",
              "image/gif": ".gif", "audio/wav": ".wav", "audio/mpeg": ".mp3",
              "audio/ogg": ".ogg", "audio/mp4": ".m4a", "video/webm": ".webm",
              "video/mp4": ".mp4"}

_ENV = Environment(loader=FileSystemLoader(TEMPLATE_DIR),
                   autoescape=select_autoescape(default=True, default_for_string=True))


def _media_entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    media = data.get("media")
    return media.get("files", []) if isinstance(media, dict) else []


def document(ctx: Ctx, *, user_id: str, data: dict[str, Any],
             descriptions: dict[str, str]) -> dict[str, Any]:
    settings = ctx.settings
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "generated_at": ctx.clock.now().isoformat(), "user_id": user_id,
        "operator": settings.operator_name, "contact": settings.contact_email,
        "about": policies.export_about(settings),
        "contents": descriptions,
        "data": data,
    }


def render_index(doc: dict[str, Any]) -> str:
    made = moment(doc["generated_at"])
    return _ENV.get_template("privacy/export_index.html").render(
        doc=doc, sections=export_index.sections(doc),
        made={"text": made["text"], "time": made["iso"]} if made else {"text": "—"})


async def write(ctx: Ctx, path: Path, *, user_id: str, data: dict[str, Any],
                descriptions: dict[str, str],
                on_progress: Callable[[int], Awaitable[None]]) -> int:
    """Write the archive to `path`; returns its size in bytes."""
    files = []
    for entry in _media_entries(data):
        key = entry.pop("key", None)
        name = f"files/{entry['id']}{EXTENSIONS.get(entry.get('content_type', ''), '')}"
        entry["file"] = name
        files.append((name, key))
    doc = document(ctx, user_id=user_id, data=data, descriptions=descriptions)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".part")
    os.close(fd)
    temp = Path(temp_name)
    try:
        archive = await asyncio.to_thread(zipfile.ZipFile, temp, "w", zipfile.ZIP_DEFLATED)
        try:
            text = json.dumps(doc, indent=2, ensure_ascii=False, default=str)
            await asyncio.to_thread(archive.writestr, "export.json", text)
            for holder, value in doc["data"].items():
                raw = json.dumps(value, indent=2, ensure_ascii=False, default=str)
                await asyncio.to_thread(archive.writestr, export_index.raw_file(holder), raw)
            await asyncio.to_thread(archive.writestr, "index.html", render_index(doc))
            for done, (name, key) in enumerate(files, start=1):
                try:
                    content = await ctx.media.get(key) if key else None
                except MediaNotFound:
                    content = None  # removed between the listing and now
                if content is not None:
                    await asyncio.to_thread(archive.writestr, name, content,
                                            zipfile.ZIP_STORED)
                await on_progress(100 * done // len(files))
        finally:
            await asyncio.to_thread(archive.close)
        await asyncio.to_thread(os.replace, temp, path)
    except BaseException:
        await asyncio.to_thread(temp.unlink, missing_ok=True)
        raise
    return (await asyncio.to_thread(path.stat)).st_size
