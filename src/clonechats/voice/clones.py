"""Cloned voices: a persona's reference recording turned into a vendor voice, made on demand.

Where a cloning vendor is configured (ElevenLabs), every persona of a user that has a reference
voice offers one more voice, `"<vendor>:clone-<persona id>"` (`kind: "cloned"`). The first time
it speaks, the reference recording is sent to the vendor (`VoiceCloner.clone_voice`) and the
vendor's voice id is kept in `voice_clones` with the reference it was made from; a new reference
makes a new clone and the old one is deleted at the vendor. Offline no voice is cloned: the
reference is kept for a cloning vendor and a stock voice speaks.

A `voice_clones` document: _id, owner_id, persona_id, reference_media_id, provider,
provider_voice_id, created_at. It is personal data (export and deletion below, through
`media.clips.personal_data`); deleting it also deletes the voice at the vendor.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from clonechats.media import repo as media_repo
from clonechats.personas.repo import Persona
from clonechats.providers.errors import ProviderError
from clonechats.providers.speech.base import TTSProvider, VoiceInfo
from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

CLONES = "voice_clones"
COLLECTIONS = (CLONES,)
PREFIX = "clone-"
INDEXES = [Index(CLONES, [("persona_id", 1)]), Index(CLONES, [("owner_id", 1)])]


def clone_voice_id(provider: str, persona_id: str) -> str:
    return f"{provider}:{PREFIX}{persona_id}"


def cloned_voice(provider: str, persona: Persona, engine_voice: str = "") -> VoiceInfo:
    return VoiceInfo(id=clone_voice_id(provider, persona["_id"]), provider=provider,
                     label=f"{persona['name']}'s own voice (cloned from the reference "
                           "recording)", language="mul", kind="cloned",
                     engine_voice=engine_voice)


async def offered(ctx: Ctx, personas: list[Persona]) -> list[VoiceInfo]:
    """The cloned voices these personas can have (none without a cloning vendor)."""
    found = ctx.speech.cloner()
    if found is None:
        return []
    provider = found[0].name
    return [cloned_voice(provider, p) for p in personas if p.get("reference_voice_id")]


def is_clone_id(ctx: Ctx, voice_id: str | None) -> bool:
    found = ctx.speech.cloner()
    return bool(found and voice_id and voice_id.startswith(f"{found[0].name}:{PREFIX}"))


async def resolve(ctx: Ctx, persona: Persona | None,
                  voice_id: str | None) -> tuple[TTSProvider, VoiceInfo] | None:
    """The persona's cloned voice when it chose one and can have it; else None."""
    if persona is None or not is_clone_id(ctx, voice_id):
        return None
    found = ctx.speech.cloner()
    if found is None:
        return None
    provider, cloner = found
    reference_id = persona.get("reference_voice_id")
    if voice_id != clone_voice_id(provider.name, persona["_id"]) or not reference_id:
        return None
    kept = await ctx.db[CLONES].find_one({"persona_id": persona["_id"],
                                          "reference_media_id": reference_id,
                                          "provider": provider.name})
    if kept is None:
        reference = await media_repo.get(ctx.db, reference_id)
        if reference is None:
            return None
        data = await ctx.media.get(reference["key"])
        engine_voice = await cloner.clone_voice(name=persona["name"],
                                                samples=[(data, reference["content_type"])])
        for old in await ctx.db[CLONES].find({"persona_id": persona["_id"]}).to_list():
            await _forget(ctx, old)
        kept = {"_id": secrets.token_hex(12), "owner_id": persona["owner_id"],
                "persona_id": persona["_id"], "reference_media_id": reference_id,
                "provider": provider.name, "provider_voice_id": engine_voice,
                "created_at": ctx.clock.now()}
        await ctx.db[CLONES].insert_one(kept)
    return provider, cloned_voice(provider.name, persona, kept["provider_voice_id"])


async def _forget(ctx: Ctx, clone: dict[str, Any]) -> None:
    found = ctx.speech.cloner() if ctx.speech else None
    if found is not None and found[0].name == clone["provider"]:
        try:
            await found[1].delete_voice(clone["provider_voice_id"])
        except ProviderError as exc:
            log.warning("could not delete a cloned voice at the vendor",
                        extra={"provider": clone["provider"], "error": str(exc)})
    await ctx.db[CLONES].delete_one({"_id": clone["_id"]})


async def list_for_owner(ctx: Ctx, owner_id: str) -> list[dict[str, Any]]:
    return await ctx.db[CLONES].find({"owner_id": owner_id}).to_list()


async def delete_for_persona(ctx: Ctx, *, persona_id: str) -> int:
    """A deleted persona's cloned voices, here and at the vendor."""
    clones = await ctx.db[CLONES].find({"persona_id": persona_id}).to_list()
    for clone in clones:
        await _forget(ctx, clone)
    return len(clones)


async def delete_for_owner(ctx: Ctx, owner_id: str) -> int:
    clones = await list_for_owner(ctx, owner_id)
    for clone in clones:
        await _forget(ctx, clone)
    return len(clones)
