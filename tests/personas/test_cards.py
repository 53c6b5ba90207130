"""Character Card V2 export (JSON and PNG) and V1/V2 import, including hostile cards."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from PIL import Image

from clonechats.personas import repo as persona_repo
from clonechats.settings import Settings
from tests.media.samples import image_bytes, jpeg_with_gps
from tests.personas.conftest import Member

FULL_PERSONA = {
    "name": "Captain Mira", "tagline": "A retired starship captain who tells tall tales.",
    "traits": ["brave", "wry", "patient"], "tone": "gravelly and warm",
    "system_prompt": "You captained the Halcyon for thirty years.\nYou never reveal the "
                     "coordinates of the lost colony.",
    "sliders": {"warmth": 80, "humour": 65, "formality": 20, "verbosity": 40, "curiosity": 90},
    "greeting": "Pull up a chair, traveller.",
    "example_dialogue": "User: Were you ever afraid?\nMira: Every single day, kid.",
}
COMPARED = ("name", "tagline", "traits", "tone", "system_prompt", "sliders", "greeting",
            "example_dialogue")


def chunk(tag: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(tag + body) if crc is None else crc
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", checksum)


def card_png(*chunks: bytes, picture: bytes | None = None) -> bytes:
    """A PNG from a real picture with extra chunks inserted before IEND."""
    png = picture or image_bytes("PNG", (8, 8))
    assert png.endswith(chunk(b"IEND", b""))
    return png[:-12] + b"".join(chunks) + chunk(b"IEND", b"")


def chara_chunk(card: Any) -> bytes:
    encoded = base64.b64encode(json.dumps(card).encode())
    return chunk(b"tEXt", b"chara\x00" + encoded)


def png_card_text(png: bytes) -> dict[str, Any]:
    image = Image.open(io.BytesIO(png))
    return json.loads(base64.b64decode(image.text["chara"]))


async def persona_count(ctx: Any) -> int:
    return await ctx.db[persona_repo.PERSONAS].count_documents({})


def stored_files(settings: Settings) -> list[Path]:
    root = settings.media_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def import_json(who: Member, card: Any) -> httpx.Response:
    return await who.send("POST", "/api/v1/personas/import", content=json.dumps(card),
                          headers={"Content-Type": "application/json"})


async def import_file(who: Member, data: bytes, *, name: str = "card.png",
                      content_type: str = "image/png") -> httpx.Response:
    return await who.send("POST", "/api/v1/personas/import",
                          files={"file": (name, data, content_type)})


# -- export ----------------------------------------------------------------------------------

async def test_owner_exports_a_v2_card_with_every_field(ann: Member) -> None:
    persona = await ann.create(**FULL_PERSONA)
    response = await ann.client.get(f"/api/v1/personas/{persona['id']}/card")
    assert response.status_code == 200
    card = response.json()
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    data = card["data"]
    assert set(data) >= {"name", "description", "personality", "scenario", "first_mes",
                         "mes_example", "creator_notes", "system_prompt",
                         "post_history_instructions", "alternate_greetings", "tags", "creator",
                         "character_version", "extensions"}
    assert data["name"] == "Captain Mira"
    assert data["creator_notes"] == FULL_PERSONA["tagline"]
    assert data["tags"] == FULL_PERSONA["traits"]
    assert data["system_prompt"] == FULL_PERSONA["system_prompt"]
    assert data["first_mes"] == FULL_PERSONA["greeting"]
    assert data["mes_example"] == FULL_PERSONA["example_dialogue"]
    assert "gravelly and warm" in data["personality"]
    ours = data["extensions"]["clonechats"]
    assert ours["tone"] == "gravelly and warm" and ours["sliders"] == FULL_PERSONA["sliders"]
    assert "ann@example.com" not in response.text

    download = await ann.client.get(f"/api/v1/personas/{persona['id']}/card?download=true")
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_others_get_the_public_card_without_private_fields(ann: Member, bob: Member,
                                                                 ) -> None:
    private = await ann.create(**FULL_PERSONA)
    public = await ann.create(**{**FULL_PERSONA, "visibility": "public"})
    shared_prompt = await ann.create(**{**FULL_PERSONA, "visibility": "public",
                                        "system_prompt_public": True})

    for path in ("card", "card.png"):
        missing = await bob.client.get(f"/api/v1/personas/{private['id']}/{path}")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "persona_not_found"
    card = (await bob.client.get(f"/api/v1/personas/{public['id']}/card")).json()
    assert card["data"]["system_prompt"] == ""
    assert card["data"]["name"] == "Captain Mira" and card["data"]["tags"] == ["brave", "wry",
                                                                                "patient"]
    assert FULL_PERSONA["system_prompt"] not in json.dumps(card)
    png = (await bob.client.get(f"/api/v1/personas/{public['id']}/card.png")).content
    assert FULL_PERSONA["system_prompt"] not in json.dumps(png_card_text(png))
    shown = (await bob.client.get(f"/api/v1/personas/{shared_prompt['id']}/card")).json()
    assert shown["data"]["system_prompt"] == FULL_PERSONA["system_prompt"]


async def test_png_export_carries_the_card_on_the_avatar(ann: Member) -> None:
    persona = await ann.create(**FULL_PERSONA)
    plain = await ann.client.get(f"/api/v1/personas/{persona['id']}/card.png")
    assert plain.status_code == 200 and plain.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(plain.content)).size == (512, 512)
    card = (await ann.client.get(f"/api/v1/personas/{persona['id']}/card")).json()
    assert png_card_text(plain.content) == card

    await ann.send("POST", f"/api/v1/personas/{persona['id']}/avatar",
                   files={"file": ("a.jpg", jpeg_with_gps((300, 200)), "image/jpeg")})
    with_avatar = await ann.client.get(f"/api/v1/personas/{persona['id']}/card.png")
    image = Image.open(io.BytesIO(with_avatar.content))
    assert image.size == (300, 200)
    assert set(image.text) == {"chara"}
    assert b"Exif" not in with_avatar.content
    assert png_card_text(with_avatar.content) == card


# -- import: round trips ------------------------------------------------------------------------

async def test_json_round_trip_gives_the_same_persona(ann: Member, bob: Member,
                                                      ctx: Any) -> None:
    original = await ann.create(**FULL_PERSONA)
    card = (await ann.client.get(f"/api/v1/personas/{original['id']}/card")).json()

    response = await import_json(bob, card)
    assert response.status_code == 201, response.text
    imported = response.json()["persona"]
    assert response.json()["ignored"] == []
    assert {k: imported[k] for k in COMPARED} == {k: original[k] for k in COMPARED}
    assert imported["visibility"] == "private" and imported["id"] != original["id"]
    stored = await persona_repo.get(ctx.db, imported["id"])
    assert stored["owner_id"] == bob.id and stored.get("share_id") is None


async def test_png_round_trip_keeps_fields_and_sets_the_avatar(ann: Member, ctx: Any,
                                                               settings: Settings) -> None:
    original = await ann.create(**FULL_PERSONA)
    await ann.send("POST", f"/api/v1/personas/{original['id']}/avatar",
                   files={"file": ("a.png", image_bytes("PNG", (120, 90)), "image/png")})
    png = (await ann.client.get(f"/api/v1/personas/{original['id']}/card.png")).content

    response = await import_file(ann, png)
    assert response.status_code == 201, response.text
    imported = response.json()["persona"]
    assert {k: imported[k] for k in COMPARED} == {k: original[k] for k in COMPARED}
    assert imported["avatar_media_id"]
    avatar = await ann.client.get(f"/media/{imported['avatar_media_id']}")
    assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/png"
    assert "chara" not in Image.open(io.BytesIO(avatar.content)).info
    assert len(stored_files(settings)) == 2

    raw_body = await ann.send("POST", "/api/v1/personas/import", content=png,
                              headers={"Content-Type": "image/png"})
    assert raw_body.status_code == 201


async def test_v1_cards_are_merged_into_the_instructions(ann: Member) -> None:
    card = {
        "name": "Old Tom", "description": "{{char}} is a lighthouse keeper.",
        "personality": "gruff, kind", "scenario": "A storm traps {{user}} at the lighthouse.",
        "first_mes": "*{{char}} opens the door for {{user}}* Come in, quick!",
        "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: Name's Tom.",
    }
    response = await import_json(ann, card)
    assert response.status_code == 201, response.text
    persona = response.json()["persona"]
    assert persona["name"] == "Old Tom"
    assert "Description:\nOld Tom is a lighthouse keeper." in persona["system_prompt"]
    assert "Personality:\ngruff, kind" in persona["system_prompt"]
    assert "A storm traps the user at the lighthouse." in persona["system_prompt"]
    assert persona["greeting"] == "*Old Tom opens the door for the user* Come in, quick!"
    assert persona["example_dialogue"] == "User: Who are you?\nOld Tom: Name's Tom."
    assert persona["visibility"] == "private"


async def test_other_tools_v2_cards_lose_nothing_the_model_uses(ann: Member) -> None:
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {
        "name": "Vex", "description": "A rogue AI.", "personality": "sly",
        "scenario": "", "first_mes": "Hello, {{user}}.", "mes_example": "",
        "creator_notes": "Made for the 2024 jam.\nPlease credit me.",
        "system_prompt": "{{original}}\nStay in character as {{char}}.",
        "post_history_instructions": "Keep replies short.",
        "alternate_greetings": ["Oh, you again.", "Who let you in?"],
        "tags": ["sci-fi", "villain"], "creator": "someone", "character_version": "3",
        "extensions": {"talkativeness": "0.5", "depth_prompt": {"prompt": "x", "depth": 4}},
        "character_book": {"entries": [{"keys": ["x"], "content": "lore"}]},
    }}
    response = await import_json(ann, card)
    assert response.status_code == 201, response.text
    persona = response.json()["persona"]
    prompt = persona["system_prompt"]
    assert prompt.startswith("Stay in character as Vex.")
    for text in ("A rogue AI.", "sly", "Keep replies short.", "Oh, you again.",
                 "Who let you in?"):
        assert text in prompt
    assert "{{original}}" not in prompt
    assert persona["traits"] == ["sci-fi", "villain"]
    assert persona["tagline"] == ""
    assert persona["greeting"] == "Hello, the user."
    assert set(response.json()["ignored"]) == {
        "data.creator_notes", "data.extensions.talkativeness", "data.extensions.depth_prompt",
        "data.character_book"}


async def test_a_card_edited_elsewhere_keeps_the_edits(ann: Member) -> None:
    original = await ann.create(**FULL_PERSONA)
    card = (await ann.client.get(f"/api/v1/personas/{original['id']}/card")).json()
    card["data"]["description"] = "Now also a retired pirate."
    imported = (await import_json(ann, card)).json()["persona"]
    assert imported["system_prompt"].startswith(FULL_PERSONA["system_prompt"])
    assert "Description:\nNow also a retired pirate." in imported["system_prompt"]


# -- import: hostile and malformed cards ---------------------------------------------------------

def valid_card(**data: Any) -> dict[str, Any]:
    return {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": "Eve", "description": "", "personality": "", "scenario": "",
                     "first_mes": "", "mes_example": "", **data}}


def zip_bomb_ztxt() -> bytes:
    compressed = zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    return chunk(b"zTXt", b"chara\x00\x00" + compressed)


def zip_bomb_itxt() -> bytes:
    compressed = zlib.compress(b"QUFB" * (16 * 1024 * 1024), 9)
    return chunk(b"iTXt", b"chara\x00\x01\x00\x00\x00" + compressed)


JSON_CASES = [
    ("malformed json", b'{"spec": "chara_card_v2", "data": {', 400, "malformed_card"),
    ("not utf-8", b'{"name": "\xff\xfe"}', 400, "malformed_card"),
    ("nan", b'{"name": "x", "description": NaN}', 400, "malformed_card"),
    ("array", b"[1, 2, 3]", 422, "invalid_card"),
    ("wrong spec", json.dumps({"spec": "chara_card_v3", "spec_version": "3.0",
                               "data": {"name": "x"}}).encode(), 422, "unsupported_card"),
    ("bad version", json.dumps({"spec": "chara_card_v2", "spec_version": 2,
                                "data": {"name": "x"}}).encode(), 422, "unsupported_card"),
    ("no card fields", b'{"hello": "world"}', 422, "unsupported_card"),
    ("data not object", json.dumps({"spec": "chara_card_v2", "data": "x"}).encode(), 422,
     "invalid_card"),
    ("deep nesting", b'{"spec": "chara_card_v2", "data": {"name": "x", "extensions": '
     + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}}", 422, "invalid_card"),
    ("deep arrays", b"[" * 100_000 + b"]" * 100_000, 422, "invalid_card"),
    ("name not text", json.dumps(valid_card(name=12)).encode(), 422, "invalid_card"),
    ("description object", json.dumps(valid_card(description={"a": 1})).encode(), 422,
     "invalid_card"),
    ("tags not list", json.dumps(valid_card(tags="a,b")).encode(), 422, "invalid_card"),
    ("tags with numbers", json.dumps(valid_card(tags=["a", 3])).encode(), 422, "invalid_card"),
    ("greetings not list", json.dumps(valid_card(alternate_greetings={"a": 1})).encode(), 422,
     "invalid_card"),
    ("extensions list", json.dumps(valid_card(extensions=[1])).encode(), 422, "invalid_card"),
    ("missing name", json.dumps(valid_card(name="  ")).encode(), 422, "invalid_card"),
    ("oversized", json.dumps(valid_card(description="x" * 300_000)).encode(), 413,
     "card_too_large"),
]


@pytest.mark.parametrize(("label", "body", "status", "code"), JSON_CASES,
                         ids=[case[0] for case in JSON_CASES])
async def test_hostile_json_cards_create_nothing(ann: Member, ctx: Any, label: str, body: bytes,
                                                 status: int, code: str) -> None:
    before = await persona_count(ctx)
    response = await ann.send("POST", "/api/v1/personas/import", content=body,
                              headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    as_file = await import_file(ann, body, name="card.json", content_type="application/json")
    assert as_file.status_code == status
    assert await persona_count(ctx) == before


@pytest.mark.parametrize(("field", "value", "named"), [
    ("name", "N" * 61, "data.name"),
    ("system_prompt", "S" * 4001, "data.system_prompt"),
    ("first_mes", "G" * 1001, "data.first_mes"),
    ("mes_example", "E" * 4001, "data.mes_example"),
    ("tags", [f"tag{i}" for i in range(13)], "data.tags"),
    ("tags", ["t" * 31], "data.tags"),
    ("description", "D" * 4100, "data.system_prompt"),
    ("name", "Eve\x00", "data.name"),
])
async def test_fields_over_the_persona_limits_are_named_not_cut(ann: Member, ctx: Any,
                                                                field: str, value: Any,
                                                                named: str) -> None:
    before = await persona_count(ctx)
    response = await import_json(ann, valid_card(**{field: value}))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_card"
    assert named in error["message"]
    assert error["details"][0]["field"].startswith(named)
    assert await persona_count(ctx) == before


async def test_our_extension_is_validated_too(ann: Member, ctx: Any) -> None:
    card = valid_card(extensions={"clonechats": {"sliders": {"warmth": 500}}})
    response = await import_json(ann, card)
    assert response.status_code == 422
    assert "extensions.clonechats.sliders" in response.json()["error"]["message"]
    bad_tone = valid_card(extensions={"clonechats": {"tone": ["loud"]}})
    assert (await import_json(ann, bad_tone)).status_code == 422
    assert await persona_count(ctx) == 0


PNG_CASES = [
    ("no chara chunk", card_png(chunk(b"tEXt", b"Comment\x00hello")), 422, "no_card_in_png"),
    ("base64 garbage", card_png(chunk(b"tEXt", b"chara\x00!!!not base64###")), 400,
     "malformed_card"),
    ("base64 of garbage", card_png(chunk(b"tEXt", b"chara\x00" + base64.b64encode(
        b"\x00\x01binary"))), 400, "malformed_card"),
    ("ztxt bomb", card_png(zip_bomb_ztxt()), 413, "card_too_large"),
    ("itxt bomb", card_png(zip_bomb_itxt()), 413, "card_too_large"),
    ("huge text chunk", card_png(chunk(b"tEXt", b"chara\x00" + b"A" * 1_000_000)), 413,
     "card_too_large"),
    ("bad crc", card_png(chunk(b"tEXt", b"chara\x00" + base64.b64encode(b"{}"), crc=1)), 400,
     "malformed_card"),
    ("truncated", card_png(chara_chunk(valid_card()))[:60], 400, "malformed_card"),
    ("chunk longer than file", image_bytes("PNG")[:8] + struct.pack(">I", 2**31) + b"tEXt",
     400, "malformed_card"),
    ("hostile card inside", card_png(chara_chunk(valid_card(name=["x"]))), 422,
     "invalid_card"),
    ("wrong spec inside", card_png(chara_chunk({"spec": "other", "data": {}})), 422,
     "unsupported_card"),
    ("over 8 MB", card_png(chunk(b"zzZz", b"\x00" * (8 * 1024 * 1024))), 413,
     "card_too_large"),
    ("jpeg", jpeg_with_gps(), 400, "malformed_card"),
]


@pytest.mark.parametrize(("label", "data", "status", "code"), PNG_CASES,
                         ids=[case[0] for case in PNG_CASES])
async def test_hostile_png_cards_create_nothing(ann: Member, ctx: Any, settings: Settings,
                                                label: str, data: bytes, status: int,
                                                code: str) -> None:
    before = await persona_count(ctx)
    response = await import_file(ann, data)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await persona_count(ctx) == before
    assert stored_files(settings) == []


async def test_a_card_png_whose_picture_is_unusable_still_imports(ann: Member) -> None:
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    broken = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
              + chunk(b"IDAT", b"not zlib data at all") + chara_chunk(valid_card())
              + chunk(b"IEND", b""))
    response = await import_file(ann, broken)
    assert response.status_code == 201, response.text
    assert response.json()["persona"]["name"] == "Eve"
    assert response.json()["persona"]["avatar_media_id"] is None
    assert response.json()["ignored"] == ["the PNG's picture (it could not be used as an "
                                          "avatar)"]


async def test_import_needs_a_card(ann: Member, stranger: httpx.AsyncClient) -> None:
    empty = await ann.send("POST", "/api/v1/personas/import", content=b"",
                           headers={"Content-Type": "application/json"})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "missing_card"
    wrong_field = await ann.send("POST", "/api/v1/personas/import",
                                 files={"other": ("c.json", b"{}", "application/json")})
    assert wrong_field.status_code == 422
    anonymous = await stranger.post("/api/v1/personas/import", json=valid_card())
    assert anonymous.status_code == 401


def test_the_import_form_partial_renders(app: Any) -> None:
    request = SimpleNamespace(state=SimpleNamespace(csrf_token="token-value"))
    html = app.state.templates.env.get_template("personas/_import.html").render(
        request=request, version="1")
    assert 'data-upload="/api/v1/personas/import"' in html and "data-card-import" in html
    assert 'name="file" type="file"' in html and 'value="token-value"' in html
    assert '<script type="module" src="/static/js/uploads.js?v=1"></script>' in html
