"""Persona media: avatars, reference images and the reference voice, from upload to deletion.

Owns the `media` documents (``media.repo``) and the bytes they name in the media store, and
keeps a persona's media references (``avatar_media_id``, ``reference_image_ids``,
``reference_voice_id``) in step with them. Uploads are checked by content (``media.images``
re-encodes images without metadata, ``media.audio`` decodes audio and measures it); sizes and
counts are limited: one avatar and one reference voice per persona (a new upload replaces the
old one, whose file is deleted) and at most ``MAX_REFERENCE_IMAGES`` reference images.

Nothing is left half-written: a file whose document cannot be inserted is deleted, and a file and
document whose persona cannot be updated (it was deleted meanwhile, or the write failed) are
deleted too. Files are removed before their documents, so a failure part-way leaves a document
that a retry finishes deleting, never a file that nothing records. The `media` collection is the
source of truth; the persona's references are recomputed from it on every change.

Who may read a file: its owner; anyone for the avatar and reference images of a public persona.
A reference voice is only ever served to its owner. Everyone else gets "not found".
This module never imports the web framework.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from clonechats.accounts.users import User
from clonechats.errors import Conflict
from clonechats.media import audio, images, repo
from clonechats.media.clips import repo as clips_repo
from clonechats.media.errors import MediaNotFound, MediaTooLarge, StorageQuotaExceeded
from clonechats.media.keys import parse_media_key
from clonechats.media.repo import AVATAR, REFERENCE_IMAGE, REFERENCE_VOICE
from clonechats.media.store import StoredMedia
from clonechats.personas import ownership
from clonechats.personas import repo as persona_repo
from clonechats.personas.repo import Persona

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

MAX_REFERENCE_IMAGES = 6
STORED_IMAGE_MAX_BYTES = 24 * 1024 * 1024  # a re-encoded 2048 px PNG may outgrow its upload
PUBLIC_KINDS = frozenset({AVATAR, REFERENCE_IMAGE})
IMAGE_KINDS = frozenset({AVATAR, REFERENCE_IMAGE})
_SINGLE_FIELDS = {AVATAR: "avatar_media_id", REFERENCE_VOICE: "reference_voice_id"}


class TooManyReferenceImages(Conflict):
    code = "too_many_reference_images"
    message = (f"A persona can have at most {MAX_REFERENCE_IMAGES} reference images; "
               "delete one first.")


def upload_limit(ctx: Ctx, kind: str) -> int:
    limit = ctx.settings.media.max_upload_bytes
    return min(limit, audio.VOICE_MAX_BYTES) if kind == REFERENCE_VOICE else limit


async def upload_persona_image(ctx: Ctx, *, user: User, persona_id: str, kind: str,
                               data: bytes) -> dict[str, Any]:
    """Stores an avatar (replacing the previous one) or adds a reference image."""
    if kind not in IMAGE_KINDS:
        raise ValueError(f"not an image kind: {kind}")
    owner_id = user["_id"]
    await ownership.get_owned(ctx, user_id=owner_id, persona_id=persona_id)
    _check_size(data, upload_limit(ctx, kind))
    if kind == REFERENCE_IMAGE and await repo.count_for_persona(
            ctx.db, persona_id=persona_id, kind=kind) >= MAX_REFERENCE_IMAGES:
        raise TooManyReferenceImages()
    clean = await images.prepare_image(data, max_side=max_side(kind))
    return await add_clean_image(ctx, owner_id=owner_id, persona_id=persona_id, kind=kind,
                                 image=clean)


def max_side(kind: str) -> int:
    return images.AVATAR_MAX_SIDE if kind == AVATAR else images.IMAGE_MAX_SIDE


async def add_clean_image(ctx: Ctx, *, owner_id: str, persona_id: str, kind: str,
                          image: images.CleanImage) -> dict[str, Any]:
    """Stores an image already re-encoded by ``images.prepare_image`` and attaches it."""
    stored = await ctx.media.put(image.data, owner_id=owner_id, kind=kind,
                                 max_bytes=STORED_IMAGE_MAX_BYTES,
                                 allowed_types=frozenset({image.content_type}))
    media = await _record(ctx, stored, owner_id=owner_id, persona_id=persona_id, kind=kind,
                          content_type=image.content_type, width=image.width,
                          height=image.height)
    return await _attach(ctx, media)


async def upload_reference_voice(ctx: Ctx, *, user: User, persona_id: str,
                                 data: bytes) -> dict[str, Any]:
    """Stores the persona's reference voice (3 to 120 seconds), replacing the previous one."""
    owner_id = user["_id"]
    await ownership.get_owned(ctx, user_id=owner_id, persona_id=persona_id)
    limit = upload_limit(ctx, REFERENCE_VOICE)
    _check_size(data, limit)
    info = await audio.check_audio(data)
    stored = await ctx.media.put(data, owner_id=owner_id, kind=REFERENCE_VOICE, max_bytes=limit,
                                 allowed_types=audio.AUDIO_UPLOAD_TYPES)
    media = await _record(ctx, stored, owner_id=owner_id, persona_id=persona_id,
                          kind=REFERENCE_VOICE, content_type=info.content_type,
                          duration_seconds=info.duration_seconds)
    return await _attach(ctx, media)


async def list_for_persona(ctx: Ctx, *, user_id: str, persona_id: str) -> list[dict[str, Any]]:
    """The owner's media of one persona, oldest first."""
    await ownership.get_owned(ctx, user_id=user_id, persona_id=persona_id)
    return await repo.list_for_persona(ctx.db, owner_id=user_id, persona_id=persona_id)


async def delete_media(ctx: Ctx, *, user_id: str, media_id: str) -> None:
    """Deletes one of the user's files and its document; another user's is "not found"."""
    media = await repo.get(ctx.db, media_id)
    if media is None or media["owner_id"] != user_id:
        raise MediaNotFound()
    await _discard(ctx, media)
    if media.get("persona_id"):
        await _sync_persona(ctx, owner_id=user_id, persona_id=media["persona_id"])


async def delete_for_persona(ctx: Ctx, *, owner_id: str, persona_id: str) -> int:
    """Deletes every file and document of one persona; returns how many went."""
    count = 0
    for media in await repo.list_for_persona(ctx.db, owner_id=owner_id, persona_id=persona_id):
        await _discard(ctx, media)
        count += 1
    return count


async def delete_for_owner(ctx: Ctx, *, owner_id: str) -> int:
    """Deletes every media document and file of a user, stray files without a document too."""
    count = 0
    for media in await repo.list_for_owner(ctx.db, owner_id):
        await _discard(ctx, media)
        count += 1
    stray = [key async for key in ctx.media.keys("") if parse_media_key(key)[1] == owner_id]
    for key in stray:
        await ctx.media.delete(key)
    return count + len(stray)


async def open_for_viewer(ctx: Ctx, *, media_id: str, viewer_id: str | None) -> dict[str, Any]:
    """The media document if `viewer_id` (None: anonymous) may read the file; else not found."""
    media = await repo.get(ctx.db, media_id)
    if media is None:
        raise MediaNotFound()
    if viewer_id is not None and media["owner_id"] == viewer_id:
        return media
    if media["kind"] in PUBLIC_KINDS and media.get("persona_id"):
        persona = await persona_repo.get(ctx.db, media["persona_id"])
        if persona is not None and persona.get("visibility") == "public" and (
                persona.get("avatar_media_id") == media["_id"]
                or media["_id"] in persona.get("reference_image_ids", [])):
            return media
    raise MediaNotFound()


async def export_for_owner(ctx: Ctx, *, owner_id: str) -> list[dict[str, Any]]:
    """Every media document of a user, for a data export (file keys included)."""
    return await repo.list_for_owner(ctx.db, owner_id)


def _check_size(data: bytes, limit: int) -> None:
    if len(data) > limit:
        raise MediaTooLarge(limit)


async def _record(ctx: Ctx, stored: StoredMedia, *, owner_id: str, persona_id: str, kind: str,
                  content_type: str, **details: Any) -> dict[str, Any]:
    """Inserts the document of a stored file; the file is deleted if that fails."""
    media = repo.new_media(owner_id=owner_id, persona_id=persona_id, kind=kind, key=stored.key,
                           content_type=content_type, size_bytes=stored.size_bytes,
                           sha256=stored.sha256, now=ctx.clock.now(), **details)
    try:
        await repo.insert(ctx.db, media)
    except BaseException:
        await ctx.media.delete(stored.key)
        raise
    await _check_quota(ctx, media)
    return media


async def _check_quota(ctx: Ctx, media: dict[str, Any]) -> None:
    """The account's files, the new one included, must fit `media.account_quota_bytes`; a file
    this one replaces (the persona's avatar or voice) does not count. Checked after the
    insert, so concurrent uploads cannot both slip under the quota."""
    replaced: set[str] = set()
    if media["kind"] in _SINGLE_FIELDS:
        replaced = {m["_id"] for m in await repo.list_for_persona(
            ctx.db, owner_id=media["owner_id"], persona_id=media["persona_id"],
            kind=media["kind"]) if m["_id"] != media["_id"]}
    quota = ctx.settings.media.account_quota_bytes
    if await repo.bytes_for_owner(ctx.db, media["owner_id"], excluding=replaced) > quota:
        await _discard(ctx, media)
        raise StorageQuotaExceeded(quota)


async def _attach(ctx: Ctx, media: dict[str, Any]) -> dict[str, Any]:
    """Points the persona at new media, replacing what it held; undone entirely on failure."""
    kind, owner_id, persona_id = media["kind"], media["owner_id"], media["persona_id"]
    try:
        if kind == REFERENCE_IMAGE:
            if await repo.count_for_persona(ctx.db, persona_id=persona_id,
                                            kind=kind) > MAX_REFERENCE_IMAGES:
                raise TooManyReferenceImages()  # a concurrent upload took the last place
            persona = await _sync_persona(ctx, owner_id=owner_id, persona_id=persona_id)
        else:
            persona = await persona_repo.update(ctx.db, persona_id,
                                                {_SINGLE_FIELDS[kind]: media["_id"]},
                                                owner_id=owner_id, now=ctx.clock.now())
        if persona is None:
            raise ownership.PersonaNotFound()
    except BaseException:
        await _discard(ctx, media)
        raise
    if kind in _SINGLE_FIELDS:  # the replaced file goes only once the new one is in place
        for previous in await repo.list_for_persona(ctx.db, owner_id=owner_id,
                                                    persona_id=persona_id, kind=kind):
            if previous["_id"] != media["_id"]:
                await _discard(ctx, previous)
    return media


async def _sync_persona(ctx: Ctx, *, owner_id: str, persona_id: str) -> Persona | None:
    """Rewrites the persona's media references from the `media` collection."""
    persona = await persona_repo.get(ctx.db, persona_id)
    if persona is None or persona["owner_id"] != owner_id:
        return None
    held = await repo.list_for_persona(ctx.db, owner_id=owner_id, persona_id=persona_id)
    changes: dict[str, Any] = {}
    for kind, field in _SINGLE_FIELDS.items():
        ids = [media["_id"] for media in held if media["kind"] == kind]
        current = persona.get(field)
        changes[field] = current if current in ids else (ids[-1] if ids else None)
    image_ids = [media["_id"] for media in held if media["kind"] == REFERENCE_IMAGE]
    known_order = [i for i in persona.get("reference_image_ids", []) if i in image_ids]
    changes["reference_image_ids"] = known_order + [i for i in image_ids if i not in known_order]
    return await persona_repo.update(ctx.db, persona_id, changes, owner_id=owner_id,
                                     now=ctx.clock.now())


async def _discard(ctx: Ctx, media: dict[str, Any]) -> None:
    """Deletes the file, then its document (a failure in between can be retried), then any
    clip it was the file of (`media.clips`)."""
    await ctx.media.delete(media["key"])
    await repo.delete(ctx.db, media["_id"], owner_id=media["owner_id"])
    await clips_repo.delete_for_media(ctx.db, media["_id"])


def public_fields(media: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of a media document (never the store key)."""
    return {
        "id": media["_id"], "kind": media["kind"], "persona_id": media.get("persona_id"),
        "content_type": media["content_type"], "size_bytes": media["size_bytes"],
        "width": media.get("width"), "height": media.get("height"),
        "duration_seconds": media.get("duration_seconds"), "created_at": media["created_at"],
        "url": f"/media/{media['_id']}",
    }

