"""Persona uploads over HTTP: content checks, limits, replacement, ownership, serving, deletion."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from clonechats.media import repo as media_repo
from clonechats.media import service as media_service
from clonechats.personas import repo as persona_repo
from clonechats.privacy import registry
from clonechats.settings import MediaSettings, Settings
from tests.conftest import FAST_HASHING, make_settings
from tests.media.samples import image_bytes, jpeg_with_gps, wav_bytes
from tests.personas.conftest import Member, member, new_client

UPLOAD_LIMIT = 600_000


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         media=MediaSettings(max_upload_bytes=UPLOAD_LIMIT),
                         max_body_bytes=2_000_000)


@pytest.fixture
async def ann(client: httpx.AsyncClient, ctx: Any) -> Member:
    return await member(client, ctx, "ann@example.com")


@pytest.fixture
async def bob(app: Any, ctx: Any) -> AsyncIterator[Member]:
    async with new_client(app) as http:
        yield await member(http, ctx, "bob@example.com")


@pytest.fixture
async def stranger(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as http:
        await http.get("/")
        yield http


def stored_files(settings: Settings) -> list[Path]:
    root = settings.media_dir
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


async def upload(who: Member, persona_id: str, what: str, data: bytes, *,
                 filename: str = "upload.bin",
                 content_type: str = "application/octet-stream") -> httpx.Response:
    return await who.send("POST", f"/api/v1/personas/{persona_id}/{what}",
                          files={"file": (filename, data, content_type)})


async def persona_of(ctx: Any, persona_id: str) -> dict[str, Any]:
    persona = await persona_repo.get(ctx.db, persona_id)
    assert persona is not None
    return persona


async def test_avatar_is_stored_served_and_stripped_of_location(ann: Member, ctx: Any,
                                                                settings: Settings) -> None:
    persona = await ann.create()
    response = await upload(ann, persona["id"], "avatar", jpeg_with_gps((900, 600)),
                            filename="me.jpg", content_type="image/jpeg")
    assert response.status_code == 201, response.text
    media = response.json()["media"]
    assert media["kind"] == "avatar" and media["content_type"] == "image/jpeg"
    assert (media["width"], media["height"]) == (512, 341)
    assert "key" not in media
    assert (await persona_of(ctx, persona["id"]))["avatar_media_id"] == media["id"]

    served = await ann.client.get(media["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["content-disposition"] == "inline"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"].startswith("private")
    assert b"Exif" not in served.content and b"SecretPhone" not in served.content
    assert dict(Image.open(io.BytesIO(served.content)).getexif()) == {}
    assert len(stored_files(settings)) == 1

    again = await ann.client.get(media["url"], headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304


async def test_client_filename_and_type_are_ignored(ann: Member, ctx: Any,
                                                    settings: Settings) -> None:
    persona = await ann.create()
    response = await upload(ann, persona["id"], "avatar", image_bytes("PNG"),
                            filename="song.mp3", content_type="audio/mpeg")
    assert response.status_code == 201
    assert response.json()["media"]["content_type"] == "image/png"

    refused = await upload(ann, persona["id"], "voice", image_bytes("PNG"),
                           filename="voice.mp3", content_type="audio/mpeg")
    assert refused.status_code == 415
    assert refused.json()["error"]["code"] == "unsupported_media_type"
    assert await media_repo.count_for_persona(ctx.db, persona_id=persona["id"],
                                              kind="reference_voice") == 0
    assert len(stored_files(settings)) == 1


@pytest.mark.parametrize(("what", "data", "status"), [
    ("avatar", b"hello, I am text", 415),
    ("images", b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>", 415),
    ("images", b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10, 422),
    ("avatar", image_bytes("GIF"), 415),
    ("voice", b"OggS" + b"\x00" * 300, 422),
    ("voice", b"just text pretending to be audio", 415),
])
async def test_content_that_does_not_match_is_refused_and_nothing_is_kept(
        ann: Member, ctx: Any, settings: Settings, what: str, data: bytes, status: int) -> None:
    persona = await ann.create()
    response = await upload(ann, persona["id"], what, data, filename="x.png",
                            content_type="image/png")
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) >= {"code", "message"}
    assert await media_repo.list_for_owner(ctx.db, ann.id) == []
    assert stored_files(settings) == []


async def test_new_avatar_replaces_the_old_file(ann: Member, ctx: Any,
                                                settings: Settings) -> None:
    persona = await ann.create()
    first = (await upload(ann, persona["id"], "avatar", image_bytes("PNG"))).json()["media"]
    second = (await upload(ann, persona["id"], "avatar", image_bytes("WEBP"))).json()["media"]
    assert (await persona_of(ctx, persona["id"]))["avatar_media_id"] == second["id"]
    assert await media_repo.get(ctx.db, first["id"]) is None
    assert (await ann.client.get(first["url"])).status_code == 404
    assert len(stored_files(settings)) == 1


async def test_at_most_six_reference_images(ann: Member, ctx: Any, settings: Settings) -> None:
    persona = await ann.create()
    ids = []
    for index in range(6):
        response = await upload(ann, persona["id"], "images",
                                image_bytes("PNG", colour=(index * 40, 0, 0)))
        assert response.status_code == 201
        ids.append(response.json()["media"]["id"])
    seventh = await upload(ann, persona["id"], "images", image_bytes("PNG"))
    assert seventh.status_code == 409
    assert seventh.json()["error"]["code"] == "too_many_reference_images"
    assert (await persona_of(ctx, persona["id"]))["reference_image_ids"] == ids
    assert len(stored_files(settings)) == 6

    listed = (await ann.client.get(f"/api/v1/personas/{persona['id']}/media")).json()
    assert [item["id"] for item in listed["items"]] == ids and listed["next_cursor"] is None

    deleted = await ann.send("DELETE", f"/api/v1/media/{ids[2]}")
    assert deleted.status_code == 204
    assert (await persona_of(ctx, persona["id"]))["reference_image_ids"] == ids[:2] + ids[3:]
    assert len(stored_files(settings)) == 5
    assert (await upload(ann, persona["id"], "images", image_bytes("PNG"))).status_code == 201


async def test_reference_voice_duration_limits(ann: Member, ctx: Any,
                                               settings: Settings) -> None:
    persona = await ann.create()
    short = await upload(ann, persona["id"], "voice", wav_bytes(2.0))
    assert short.status_code == 422
    assert short.json()["error"]["code"] == "audio_duration_out_of_range"
    long = await upload(ann, persona["id"], "voice", wav_bytes(125.0, rate=2000))
    assert long.status_code == 422
    assert "120 seconds" in long.json()["error"]["message"]
    assert stored_files(settings) == []

    first = await upload(ann, persona["id"], "voice", wav_bytes(4.0), filename="a.png",
                         content_type="image/png")
    assert first.status_code == 201, first.text
    voice = first.json()["media"]
    assert voice["content_type"] == "audio/wav"
    assert voice["duration_seconds"] == pytest.approx(4.0, abs=0.01)
    second = (await upload(ann, persona["id"], "voice", wav_bytes(5.0))).json()["media"]
    assert (await persona_of(ctx, persona["id"]))["reference_voice_id"] == second["id"]
    assert await media_repo.get(ctx.db, voice["id"]) is None
    assert len(stored_files(settings)) == 1
    played = await ann.client.get(second["url"])
    assert played.status_code == 200 and played.headers["content-type"] == "audio/wav"


async def test_oversized_uploads_get_a_413(ann: Member, settings: Settings) -> None:
    persona = await ann.create()
    over_limit = b"\x89PNG\r\n\x1a\n" + b"\x00" * UPLOAD_LIMIT
    response = await upload(ann, persona["id"], "avatar", over_limit)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "media_too_large"
    over_body = await upload(ann, persona["id"], "images", b"\x00" * 2_100_000)
    assert over_body.status_code == 413
    assert over_body.json()["error"]["code"] == "payload_too_large"
    assert stored_files(settings) == []


async def test_other_users_get_404_for_everything_private(ann: Member, bob: Member,
                                                          stranger: httpx.AsyncClient,
                                                          ctx: Any,
                                                          settings: Settings) -> None:
    persona = await ann.create()
    avatar = (await upload(ann, persona["id"], "avatar", image_bytes("PNG"))).json()["media"]
    voice = (await upload(ann, persona["id"], "voice", wav_bytes(4.0))).json()["media"]

    for what, data in (("avatar", image_bytes("PNG")), ("voice", wav_bytes(4.0))):
        response = await upload(bob, persona["id"], what, data)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "persona_not_found"
    assert (await bob.client.get(f"/api/v1/personas/{persona['id']}/media")).status_code == 404
    for media in (avatar, voice):
        assert (await bob.client.get(media["url"])).status_code == 404
        assert (await stranger.get(media["url"])).status_code == 404
        deleted = await bob.send("DELETE", f"/api/v1/media/{media['id']}")
        assert deleted.status_code == 404
    assert (await stranger.post(f"/api/v1/personas/{persona['id']}/avatar",
                                files={"file": ("a", image_bytes("PNG"))})).status_code == 401
    assert len(stored_files(settings)) == 2
    assert await media_repo.get(ctx.db, avatar["id"]) is not None


async def test_a_public_personas_images_are_public_but_its_voice_is_not(
        ann: Member, bob: Member, stranger: httpx.AsyncClient, ctx: Any) -> None:
    persona = await ann.create(visibility="public")
    avatar = (await upload(ann, persona["id"], "avatar", image_bytes("PNG"))).json()["media"]
    image = (await upload(ann, persona["id"], "images", image_bytes("JPEG"))).json()["media"]
    voice = (await upload(ann, persona["id"], "voice", wav_bytes(4.0))).json()["media"]

    for viewer in (bob.client, stranger):
        assert (await viewer.get(avatar["url"])).status_code == 200
        assert (await viewer.get(image["url"])).status_code == 200
        assert (await viewer.get(voice["url"])).status_code == 404

    made_private = await ann.send("PATCH", f"/api/v1/personas/{persona['id']}",
                                  json={"visibility": "private"})
    assert made_private.status_code == 200
    assert (await stranger.get(avatar["url"])).status_code == 404
    assert (await ann.client.get(avatar["url"])).status_code == 200


async def test_deleting_the_persona_deletes_its_files_and_documents(
        ann: Member, ctx: Any, settings: Settings) -> None:
    keep = await ann.create(name="Keeper")
    await upload(ann, keep["id"], "avatar", image_bytes("PNG"))
    persona = await ann.create()
    await upload(ann, persona["id"], "avatar", image_bytes("PNG"))
    await upload(ann, persona["id"], "images", image_bytes("JPEG"))
    await upload(ann, persona["id"], "images", image_bytes("WEBP"))
    await upload(ann, persona["id"], "voice", wav_bytes(3.5))
    assert len(stored_files(settings)) == 5

    response = await ann.send("DELETE", f"/api/v1/personas/{persona['id']}")
    assert response.status_code == 204

    assert len(stored_files(settings)) == 1
    assert await ctx.db[media_repo.MEDIA].count_documents({"persona_id": persona["id"]}) == 0
    remaining = await media_repo.list_for_owner(ctx.db, ann.id)
    assert [m["persona_id"] for m in remaining] == [keep["id"]]
    assert [key async for key in ctx.media.keys("")] == [remaining[0]["key"]]


async def test_a_failed_database_write_leaves_no_file(ann: Member, ctx: Any,
                                                      settings: Settings,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    persona = await ann.create()

    async def failing_insert(db: Any, media: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("the database is unavailable")

    monkeypatch.setattr(media_repo, "insert", failing_insert)
    with pytest.raises(RuntimeError):
        await media_service.upload_persona_image(ctx, user=ann.user, persona_id=persona["id"],
                                                 kind="avatar", data=image_bytes("PNG"))
    assert stored_files(settings) == []


async def test_a_persona_deleted_mid_upload_leaves_nothing(ann: Member, ctx: Any,
                                                           settings: Settings,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    persona = await ann.create()

    async def persona_gone(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(persona_repo, "update", persona_gone)
    with pytest.raises(Exception) as failed:
        await media_service.upload_reference_voice(ctx, user=ann.user,
                                                   persona_id=persona["id"],
                                                   data=wav_bytes(4.0))
    assert getattr(failed.value, "status", None) == 404
    assert stored_files(settings) == []
    assert await media_repo.list_for_owner(ctx.db, ann.id) == []


async def test_privacy_export_and_deletion_cover_media_files(ann: Member, ctx: Any,
                                                             settings: Settings) -> None:
    persona = await ann.create()
    avatar = (await upload(ann, persona["id"], "avatar", image_bytes("PNG"))).json()["media"]
    holder = next(h for h in registry.holders() if h.name == "media")

    exported = await holder.export(ctx, ann.id)
    assert [item["id"] for item in exported["files"]] == [avatar["id"]]
    assert exported["files"][0]["key"].startswith(f"avatar/{ann.id}/")
    assert isinstance(exported["files"][0]["created_at"], str)

    stray = await ctx.media.put(image_bytes("PNG"), owner_id=ann.id, kind="avatar")
    assert await holder.delete(ctx, ann.id) == 2
    assert stored_files(settings) == []
    assert not await ctx.media.exists(stray.key)
    assert await media_repo.list_for_owner(ctx.db, ann.id) == []


async def test_edit_page_shows_the_media_section(ann: Member, bob: Member) -> None:
    persona = await ann.create(name="<script>alert(1)</script>")
    page = await ann.client.get(f"/personas/{persona['id']}/edit")
    assert page.status_code == 200
    assert "Upload avatar" in page.text and "/static/js/uploads.js" in page.text
    assert f'data-upload="/api/v1/personas/{persona["id"]}/voice"' in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "No reference images yet." in page.text

    avatar = (await upload(ann, persona["id"], "avatar", image_bytes("PNG"))).json()["media"]
    voice = (await upload(ann, persona["id"], "voice", wav_bytes(4.0))).json()["media"]
    image = (await upload(ann, persona["id"], "images", image_bytes("PNG"))).json()["media"]
    page = await ann.client.get(f"/personas/{persona['id']}/edit")
    assert f'src="/media/{avatar["id"]}"' in page.text
    assert f'<audio controls preload="none" src="/media/{voice["id"]}"' in page.text
    assert f'data-delete-media="{image["id"]}"' in page.text
    assert f"/api/v1/personas/{persona['id']}/card.png" in page.text
    assert (await bob.client.get(f"/personas/{persona['id']}/edit")).status_code == 404
