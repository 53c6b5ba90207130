"""Clips: storing a generated voice or video reply, listing, keeping and deleting them.

`store_clip` writes the file through the media store (a `media` document of kind
"voice_clip" or "video", `saved: False`), then the clip document; if the second write fails the
file goes again, so nothing is half-written. Keeping a clip (`set_saved`) sets `saved` on the
clip and on its files together, which takes them out of the retention rule `generated_media`
(deleted 90 days after they were made, unless saved). Deleting a clip deletes its files through
`media.service.delete_media`, which removes every clip that named them. Another user's clip is
"not found". This module never imports the web framework.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from clonechats.errors import NotFound
from clonechats.media import repo as media_repo
from clonechats.media import service as media_service
from clonechats.media.clips import repo
from clonechats.media.errors import MediaNotFound

if TYPE_CHECKING:
    from clonechats.context import Ctx


MEDIA_KINDS = repo.MEDIA_KINDS
PAGE_DEFAULT, PAGE_MAX = 20, 100
CLIP_MAX_BYTES = 64 * 1024 * 1024


class ClipNotFound(NotFound):
    code = "clip_not_found"
    message = "That clip does not exist, or it was deleted."


def new_clip_id() -> str:
    return media_repo.new_media_id()


def expiry(ctx: Ctx, created_at: Any) -> Any:
    return created_at + timedelta(days=ctx.settings.speech.clip_days)


async def store_file(ctx: Ctx, *, owner_id: str, persona_id: str | None, kind: str, data: bytes,
                     content_type: str, duration_s: float | None = None,
                     width: int | None = None, height: int | None = None) -> dict[str, Any]:
    """A generated file (`kind` a media kind: "voice_clip", "video", or an image kind for a
    poster) in the media store with its unsaved `media` document."""
    stored = await ctx.media.put(data, owner_id=owner_id, kind=kind,
                                 max_bytes=CLIP_MAX_BYTES,
                                 allowed_types=frozenset({content_type}))
    media = media_repo.new_media(
        owner_id=owner_id, persona_id=persona_id, kind=kind, key=stored.key,
        content_type=content_type, size_bytes=stored.size_bytes, sha256=stored.sha256,
        now=ctx.clock.now(), duration_seconds=duration_s, width=width, height=height,
        saved=False)
    try:
        await media_repo.insert(ctx.db, media)
    except BaseException:
        await ctx.media.delete(stored.key)
        raise
    return media


async def store_clip(ctx: Ctx, *, owner_id: str, kind: str, data: bytes, content_type: str,
                     clip_id: str | None = None, poster_media_id: str | None = None,
                     **fields: Any) -> dict[str, Any]:
    """Stores the file and records the clip; `fields` are those of `repo.new_clip`."""
    now = ctx.clock.now()
    media = await store_file(ctx, owner_id=owner_id, persona_id=fields.get("persona_id"),
                             kind=MEDIA_KINDS[kind], data=data, content_type=content_type,
                             duration_s=fields.get("duration_s"))
    clip = repo.new_clip(clip_id=clip_id or new_clip_id(), owner_id=owner_id, kind=kind,
                         media_id=media["_id"], poster_media_id=poster_media_id, now=now,
                         expires_at=expiry(ctx, now), **fields)
    try:
        await repo.insert(ctx.db, clip)
    except BaseException:
        await media_service.delete_media(ctx, user_id=owner_id, media_id=media["_id"])
        raise
    return clip


async def get(ctx: Ctx, *, user_id: str, clip_id: str) -> dict[str, Any]:
    clip = await repo.get_owned(ctx.db, clip_id, user_id)
    if clip is None:
        raise ClipNotFound()
    return clip


async def list_clips(ctx: Ctx, *, user_id: str, limit: int | None = None,
                     cursor: str | None = None,
                     kind: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    size = min(max(1, limit or PAGE_DEFAULT), PAGE_MAX)
    return await repo.page_for_owner(ctx.db, user_id, limit=size, cursor=cursor, kind=kind)


async def set_saved(ctx: Ctx, *, user_id: str, clip_id: str, saved: bool) -> dict[str, Any]:
    clip = await get(ctx, user_id=user_id, clip_id=clip_id)
    files = [m for m in (clip["media_id"], clip.get("poster_media_id")) if m]
    await media_repo.set_saved(ctx.db, files, owner_id=user_id, saved=saved)
    updated = await repo.set_saved(ctx.db, clip_id, user_id, saved=saved,
                                   expires_at=None if saved else expiry(ctx, clip["created_at"]))
    if updated is None:
        raise ClipNotFound()
    return updated


async def delete_clip(ctx: Ctx, *, user_id: str, clip_id: str) -> None:
    clip = await get(ctx, user_id=user_id, clip_id=clip_id)
    await delete_files(ctx, clip)


async def delete_files(ctx: Ctx, clip: dict[str, Any]) -> None:
    """Deletes the clip's files and so the clip (and any other clip naming them)."""
    for media_id in (clip.get("poster_media_id"), clip["media_id"]):
        if not media_id:
            continue
        try:
            await media_service.delete_media(ctx, user_id=clip["owner_id"], media_id=media_id)
        except MediaNotFound:
            await repo.delete_for_media(ctx.db, media_id)


async def delete_for_message(ctx: Ctx, *, owner_id: str, message_id: str) -> int:
    clips = await repo.list_for_message(ctx.db, owner_id=owner_id, message_id=message_id)
    for clip in clips:
        await delete_files(ctx, clip)
    return len(clips)


async def delete_for_conversation(ctx: Ctx, *, owner_id: str, conversation_id: str) -> int:
    clips = await repo.list_for_conversation(ctx.db, owner_id=owner_id,
                                             conversation_id=conversation_id)
    for clip in clips:
        await delete_files(ctx, clip)
    return len(clips)


def public_fields(clip: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of a clip (never the store key)."""
    poster = clip.get("poster_media_id")
    return {
        "id": clip["_id"], "kind": clip["kind"], "media_id": clip["media_id"],
        "url": f"/media/{clip['media_id']}",
        "poster_media_id": poster, "poster_url": f"/media/{poster}" if poster else None,
        "duration_s": clip["duration_s"], "language": clip.get("language"),
        "provider": clip["provider"], "provider_job_id": clip.get("provider_job_id"),
        "saved": clip["saved"], "expires_at": clip.get("expires_at"),
        "created_at": clip["created_at"], "persona_id": clip.get("persona_id"),
        "conversation_id": clip.get("conversation_id"), "message_id": clip.get("message_id"),
        "seq": clip.get("seq"), "text": clip.get("text", ""), "voice_id": clip.get("voice_id"),
        "credits_charged": clip.get("credits_charged", 0),
    }
