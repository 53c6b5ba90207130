"""Helpers for privacy tests: a member's data in every domain, and searching everything stored
for a trace."""

from pathlib import Path
from typing import Any

from clonechats.media import repo as media_repo
from tests.factories import Member


async def everything(ctx: Any) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection, by collection."""
    return {name: await ctx.db[name].find({}).sort("_id", 1).to_list()
            for name in sorted(await ctx.db.list_collection_names())}


def _texts(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            found.append((f"{path}.{key} (key)", str(key)))
            found.extend(_texts(item, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(value, list | tuple):
        return [hit for index, item in enumerate(value) for hit in _texts(item, f"{path}[{index}]")]
    return []


async def traces(ctx: Any, *needles: str) -> list[tuple[str, dict[str, Any], str]]:
    """(collection, document, path) of every string that contains one of `needles`."""
    found = []
    for name, documents in (await everything(ctx)).items():
        for document in documents:
            for path, text in _texts(document):
                if any(needle.casefold() in text.casefold() for needle in needles):
                    found.append((name, document, path))
    return found


def files_with(root: Path, *needles: str) -> list[Path]:
    """Files under `root` whose path or bytes contain one of `needles`."""
    hits = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if any(n in str(path) or n.encode() in data for n in needles):
            hits.append(path)
    return hits


MEMORY = "Ann likes <b>green tea</b> & rainy days"
MESSAGE = "Hello Ada, remember my cat Biscuit?"


async def populate(who: Member, run_jobs: Any) -> dict[str, Any]:
    """Give `who` data in every domain, through the API as a browser would."""
    from clonechats.providers.llm.registry import LLMRegistry
    from tests.billing.helpers import choose
    from tests.fakes.llm import FAKE_MODEL, FakeLLMProvider
    from tests.media.samples import image_bytes

    ctx = who.ctx
    ctx.llm = LLMRegistry([FakeLLMProvider()], default_model=FAKE_MODEL.id)
    ordered = await who.send("POST", "/api/v1/billing/orders", json={"item_id": "pack_small"})
    assert ordered.status_code == 201, ordered.text
    order_id = ordered.json()["order_id"]
    assert (await choose(who.client, order_id, "pay")).status_code == 303
    await run_jobs()
    created = await who.send("POST", "/api/v1/personas", json={
        "name": "Ada", "tagline": "A curious friend", "traits": ["curious"],
        "visibility": "public"})
    assert created.status_code == 201, created.text
    persona_id = created.json()["persona"]["id"]
    shared = await who.send("POST", f"/api/v1/personas/{persona_id}/share")
    assert shared.status_code in (200, 201), shared.text
    favourite = await who.send("PUT", f"/api/v1/personas/{persona_id}/favourite")
    assert favourite.status_code in (200, 204), favourite.text
    memory = await who.send("POST", f"/api/v1/personas/{persona_id}/memories",
                            json={"text": MEMORY})
    assert memory.status_code == 201, memory.text
    avatar = await who.send("POST", f"/api/v1/personas/{persona_id}/avatar",
                            files={"file": ("a.png", image_bytes("PNG"), "image/png")})
    assert avatar.status_code == 201, avatar.text
    conversation = await who.send("POST", "/api/v1/conversations",
                                  json={"persona_id": persona_id})
    assert conversation.status_code == 201, conversation.text
    conversation_id = conversation.json()["conversation"]["id"]
    said = await who.send("POST", f"/api/v1/conversations/{conversation_id}/messages",
                          json={"text": MESSAGE}, params={"stream": "false"})
    assert said.status_code in (200, 201), said.text
    consent = await who.send("PATCH", "/api/v1/privacy/settings",
                             json={"analytics_opt_in": True})
    assert consent.status_code == 200
    filed = await who.send("POST", "/api/v1/privacy/requests",
                           json={"kind": "access", "message": "What do you hold about me?"})
    assert filed.status_code == 201, filed.text
    await run_jobs()
    return {"order_id": order_id, "persona_id": persona_id,
            "share_id": shared.json()["share_id"], "memory_id": memory.json()["memory"]["id"],
            "avatar": avatar.json()["media"], "conversation_id": conversation_id}


async def store_media(ctx: Any, owner_id: str, kind: str, data: bytes, *,
                      saved: bool) -> dict[str, Any]:
    stored = await ctx.media.put(data, owner_id=owner_id, kind=kind)
    media = media_repo.new_media(owner_id=owner_id, persona_id=None, kind=kind, key=stored.key,
                                 content_type=stored.content_type, size_bytes=stored.size_bytes,
                                 sha256=stored.sha256, now=ctx.clock.now(), saved=saved)
    return await media_repo.insert(ctx.db, media)
