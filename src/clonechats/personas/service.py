"""Persona lifecycle, sharing, favourites and browsing. Another user's private persona is always
"not found", whatever the operation.

Sharing: a share link (`share_id`) is the public address of a public persona. Making a persona
public issues one; sharing again replaces it (the old link dies); revoking it takes the persona
off its public page and off Explore; making the persona private revokes it too. Favourites: a
user may favourite their own personas and public ones. This module never imports the web
framework; it raises `AppError`s that the web layer renders.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any, cast

from clonechats.errors import AppError, Conflict
from clonechats.media import service as media_service
from clonechats.personas import favourites, repo
from clonechats.personas.memory import service as memories
from clonechats.personas.ownership import PersonaNotFound, get_owned
from clonechats.personas.repo import Persona
from clonechats.personas.schemas import (
    NAME_MAX,
    TRAIT_MAX,
    PersonaCreate,
    PersonaUpdate,
    full_sliders,
)
from clonechats.voice import clones as voice_clones
from clonechats.voice import service as voice_service

if TYPE_CHECKING:
    from clonechats.context import Ctx


PAGE_SIZE = 20
PAGE_MAX = 100
COPY_PREFIX = "Copy of "
SORTS = ("newest", "popular")


class PersonaNotPublic(Conflict):
    code = "persona_not_public"
    message = "Make this persona public before sharing it: a share link only works for " \
              "public personas."


class InvalidSort(AppError):
    code = "invalid_sort"
    message = "Sort must be \"newest\" or \"popular\"."


async def get_usable(ctx: Ctx, *, user_id: str, persona_id: str) -> Persona:
    """A persona `user_id` may chat with: their own, or any public one."""
    persona = await repo.get(ctx.db, persona_id)
    if persona is None or (persona["owner_id"] != user_id and persona["visibility"] != "public"):
        raise PersonaNotFound()
    return persona


def page_limit(limit: int | None) -> int:
    if limit is None:
        return PAGE_SIZE
    if not 1 <= limit <= PAGE_MAX:
        raise AppError(f"limit must be between 1 and {PAGE_MAX}.", code="invalid_limit")
    return limit


# Lifecycle.

def _new_share_id() -> str:
    return secrets.token_urlsafe(16)  # 128 bits: a link cannot be guessed


def chosen_model(ctx: Ctx, model: str) -> str | None:
    """The persona's model: an enabled one, or None ("") for the operator's default."""
    if not model:
        return None
    if not ctx.llm.is_enabled(model):
        raise AppError("That model is not available on this server.", code="model_unavailable",
                       status=422)
    return model


async def create(ctx: Ctx, *, owner_id: str, data: PersonaCreate) -> Persona:
    now = ctx.clock.now()
    fields = data.model_dump()
    persona: dict[str, Any] = {
        "_id": repo.new_persona_id(), "owner_id": owner_id, **fields,
        "sliders": full_sliders(fields["sliders"]), "avatar_media_id": None,
        "reference_image_ids": [], "reference_voice_id": None,
        "model": chosen_model(ctx, fields["model"]),
        "voice": _chosen_voice(ctx, fields.get("voice"), None),
        "share_id": _new_share_id() if data.visibility == "public" else None,
        "favourite_count": 0, "chat_count": 0, "created_at": now, "updated_at": now,
    }
    return await repo.insert(ctx.db, cast(Persona, persona))


async def update(ctx: Ctx, *, user_id: str, persona_id: str,
                 data: PersonaUpdate) -> Persona:
    persona = await get_owned(ctx, user_id=user_id, persona_id=persona_id)
    changes = data.changes()
    if "model" in changes:
        changes["model"] = chosen_model(ctx, changes["model"])
    if "voice" in changes:
        changes["voice"] = _chosen_voice(ctx, changes["voice"], persona)
    if "sliders" in changes:
        changes["sliders"] = full_sliders({**full_sliders(persona.get("sliders")),
                                           **changes["sliders"]})
    visibility = changes.get("visibility", persona["visibility"])
    if visibility == "public":
        refuse_if_hidden(persona)
    if visibility == "private" and persona.get("share_id"):
        changes["share_id"] = None
    elif visibility == "public" and persona["visibility"] != "public" and not persona.get(
            "share_id"):
        changes["share_id"] = _new_share_id()
    updated = await repo.update(ctx.db, persona_id, changes, owner_id=user_id,
                                now=ctx.clock.now())
    if updated is None:
        raise PersonaNotFound()
    return updated


def _chosen_voice(ctx: Ctx, voice: dict[str, Any] | None,
                  persona: Persona | None) -> dict[str, Any] | None:
    """The persona's voice as the voice domain checks it (422 `unknown_voice`)."""
    if voice is None:
        return voice
    return voice_service.chosen_voice(ctx, voice, persona)


def copy_name(name: str) -> str:
    return (COPY_PREFIX + name)[:NAME_MAX].rstrip()


async def duplicate(ctx: Ctx, *, user_id: str, persona_id: str) -> Persona:
    """A private copy named "Copy of …", with no share link or favourites, and with the
    original's memories. Uploaded media stay with the original (deleting one persona must never
    delete the other's files)."""
    source = await get_owned(ctx, user_id=user_id, persona_id=persona_id)
    now = ctx.clock.now()
    persona: Persona = {
        **source, "_id": repo.new_persona_id(), "name": copy_name(source["name"]),
        "visibility": "private", "share_id": None, "favourite_count": 0, "chat_count": 0,
        "avatar_media_id": None, "reference_image_ids": [], "reference_voice_id": None,
        "sliders": full_sliders(source.get("sliders")), "created_at": now, "updated_at": now,
    }
    await repo.insert(ctx.db, persona)
    await memories.copy_for_persona(ctx, source_persona_id=source["_id"],
                                    target_persona_id=persona["_id"])
    return persona


async def delete(ctx: Ctx, *, user_id: str, persona_id: str) -> dict[str, int]:
    """Delete the persona with its memories, media files, favourites and share link. The
    persona document goes last, so an interrupted delete can simply be repeated."""
    persona = await get_owned(ctx, user_id=user_id, persona_id=persona_id)
    return await remove_persona(ctx, persona)


async def remove_persona(ctx: Ctx, persona: Persona) -> dict[str, int]:
    counts = {"memories": 0, "media": 0}
    counts["memories"] = await memories.delete_for_persona(ctx, persona_id=persona["_id"])
    counts["media"] = await media_service.delete_for_persona(ctx, owner_id=persona["owner_id"],
                                                             persona_id=persona["_id"])
    counts["cloned_voices"] = await voice_clones.delete_for_persona(ctx, persona_id=persona["_id"])
    counts["favourites"] = await favourites.delete_for_persona(ctx.db, persona["_id"])
    counts["personas"] = int(await repo.delete(ctx.db, persona["_id"],
                                               owner_id=persona["owner_id"]))
    return counts


async def get_many_usable(ctx: Ctx, *, user_id: str,
                          persona_ids: list[str]) -> dict[str, Persona]:
    """Those of `persona_ids` that `user_id` may use (their own, or public), by id."""
    found = await repo.get_many(ctx.db, list(set(persona_ids)))
    return {persona_id: persona for persona_id, persona in found.items()
            if persona["owner_id"] == user_id or persona["visibility"] == "public"}


async def record_chat_started(ctx: Ctx, *, persona_id: str) -> None:
    """Count a new conversation with the persona (Explore shows the count; deleting the
    conversation later does not undo it)."""
    await repo.count_chat_started(ctx.db, persona_id)


async def list_for_owner(ctx: Ctx, *, owner_id: str, limit: int | None = None,
                         cursor: str | None = None) -> tuple[list[Persona], str | None]:
    return await repo.page_for_owner(ctx.db, owner_id, limit=page_limit(limit), cursor=cursor)


# Sharing.

async def share(ctx: Ctx, *, user_id: str, persona_id: str) -> Persona:
    """Issue a new share link, replacing any earlier one (which stops working at once)."""
    persona = await get_owned(ctx, user_id=user_id, persona_id=persona_id)
    if persona["visibility"] != "public":
        raise PersonaNotPublic()
    refuse_if_hidden(persona)
    return await _set_share_id(ctx, persona, _new_share_id())


async def unshare(ctx: Ctx, *, user_id: str, persona_id: str) -> Persona:
    persona = await get_owned(ctx, user_id=user_id, persona_id=persona_id)
    return await _set_share_id(ctx, persona, None)


async def _set_share_id(ctx: Ctx, persona: Persona, share_id: str | None) -> Persona:
    updated = await repo.update(ctx.db, persona["_id"], {"share_id": share_id},
                                owner_id=persona["owner_id"], now=ctx.clock.now())
    if updated is None:
        raise PersonaNotFound()
    return updated


async def get_public(ctx: Ctx, *, share_id: str) -> Persona:
    """The persona behind a live share link; PersonaNotFound for a revoked or unknown link."""
    persona = await repo.get_by_share_id(ctx.db, share_id) if share_id else None
    if persona is None or persona["visibility"] != "public" or persona.get("hidden_at"):
        raise PersonaNotFound()
    return persona


# Favourites.

async def add_favourite(ctx: Ctx, *, user_id: str, persona_id: str) -> Persona:
    await get_usable(ctx, user_id=user_id, persona_id=persona_id)
    await favourites.add(ctx.db, user_id=user_id, persona_id=persona_id, now=ctx.clock.now())
    return await get_usable(ctx, user_id=user_id, persona_id=persona_id)


async def remove_favourite(ctx: Ctx, *, user_id: str, persona_id: str) -> None:
    """Unfavourite. Allowed while the user still has the favourite even if the persona has
    since gone private, so nobody is stuck with a favourite they cannot remove; otherwise the
    usual rule applies (unknown or another user's private persona: not found)."""
    if not await favourites.remove(ctx.db, user_id=user_id, persona_id=persona_id):
        await get_usable(ctx, user_id=user_id, persona_id=persona_id)


async def is_favourite(ctx: Ctx, *, user_id: str, persona_id: str) -> bool:
    return await favourites.exists(ctx.db, user_id=user_id, persona_id=persona_id)


async def list_favourites(ctx: Ctx, *, user_id: str, limit: int | None = None,
                          cursor: str | None = None) -> tuple[list[Persona], str | None]:
    """The user's favourites that they may still use (their own, or still public)."""
    marks, next_cursor = await favourites.page_for_user(ctx.db, user_id, limit=page_limit(limit),
                                                        cursor=cursor)
    found = await repo.get_many(ctx.db, [mark["persona_id"] for mark in marks])
    items = [found[mark["persona_id"]] for mark in marks if mark["persona_id"] in found]
    usable = [p for p in items if p["owner_id"] == user_id or p["visibility"] == "public"]
    return usable, next_cursor


# Browsing.

def search_pattern(q: str | None, limit: int = 100) -> str | None:
    """The search text as a literal, case-insensitive pattern: `.*` means a dot and a star."""
    text = " ".join((q or "").split())[:limit]
    return re.escape(text) if text else None


async def browse(ctx: Ctx, *, q: str | None = None, tag: str | None = None,
                 sort: str = "newest", limit: int | None = None,
                 cursor: str | None = None) -> tuple[list[Persona], str | None]:
    """Explore: `q` searches name, tagline, traits and public descriptions; `tag` keeps
    the personas with that trait (whole, any case)."""
    if sort not in SORTS:
        raise InvalidSort()
    return await repo.browse(ctx.db, pattern=search_pattern(q), sort=sort,
                             limit=page_limit(limit), cursor=cursor,
                             tag_pattern=search_pattern(tag, TRAIT_MAX))


# Moderation: an admin hides a persona from the public (`safety.actions`).

class PersonaHidden(Conflict):
    code = "persona_hidden"
    message = ("A moderator took this persona off public view. It stays usable in your own "
               "chats; write to us through the contact page if you think this is a mistake.")


def refuse_if_hidden(persona: Persona) -> None:
    if persona.get("hidden_at"):
        raise PersonaHidden()


async def hide_for_moderation(ctx: Ctx, *, persona_id: str) -> Persona:
    """Revoke the share link, make the persona private and keep it so (`hidden_at`): its
    public link 404s at once and the owner cannot share it again."""
    persona = await repo.get(ctx.db, persona_id)
    if persona is None:
        raise PersonaNotFound()
    updated = await repo.update(ctx.db, persona_id, {"share_id": None, "visibility": "private",
                                                     "hidden_at": ctx.clock.now()},
                                owner_id=persona["owner_id"], now=ctx.clock.now())
    if updated is None:
        raise PersonaNotFound()
    return updated


async def get_for_review(ctx: Ctx, persona_id: str) -> Persona | None:
    """Any persona by id, for a moderator (the trust boundary is the admin router)."""
    return await repo.get(ctx.db, persona_id)
