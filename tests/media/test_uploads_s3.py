"""Persona uploads over HTTP with media on S3-compatible storage (moto's S3 API on loopback):
stored in the bucket, served only to whom may see them, deleted with the persona and the account,
and never a byte in the data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clonechats.privacy import registry
from clonechats.settings import Settings
from tests import s3_server
from tests.conftest import FAST_HASHING, make_settings
from tests.media.samples import image_bytes, wav_bytes
from tests.media.test_uploads import ann, bob, upload  # noqa: F401  (fixtures)
from tests.personas.conftest import Member

pytestmark = pytest.mark.s3


@pytest.fixture
def bucket() -> str:
    return s3_server.new_bucket()


@pytest.fixture
def settings(tmp_path: Path, bucket: str) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         media=s3_server.media_settings(bucket, s3_prefix="cc/"))


def bucket_keys(bucket: str) -> list[str]:
    listing = s3_server.request("GET", f"/{bucket}?list-type=2").text
    return sorted(part.split("</Key>")[0] for part in listing.split("<Key>")[1:])


async def test_uploads_live_in_the_bucket_and_are_served_to_their_owner(
        ann: Member, bob: Member, bucket: str, settings: Settings) -> None:  # noqa: F811
    persona = await ann.create()
    avatar = (await upload(ann, persona["id"], "avatar", image_bytes("PNG"))).json()["media"]
    voice = await upload(ann, persona["id"], "voice", wav_bytes(3.5))
    assert voice.status_code == 201, voice.text

    keys = bucket_keys(bucket)
    assert len(keys) == 2 and all(key.startswith("cc/") for key in keys)
    media_dir = settings.media_dir
    assert not media_dir.exists() or not any(p.is_file() for p in media_dir.rglob("*"))

    served = await ann.client.get(avatar["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert (await bob.client.get(avatar["url"])).status_code == 404  # private persona
    voice_url = voice.json()["media"]["url"]
    assert (await ann.client.get(voice_url)).headers["content-type"].startswith("audio/")


async def test_persona_and_account_deletion_empty_the_bucket(
        ann: Member, ctx: Any, bucket: str) -> None:  # noqa: F811
    keep = await ann.create(name="Keeper")
    await upload(ann, keep["id"], "avatar", image_bytes("PNG"))
    persona = await ann.create()
    await upload(ann, persona["id"], "avatar", image_bytes("PNG"))
    await upload(ann, persona["id"], "images", image_bytes("JPEG"))
    assert len(bucket_keys(bucket)) == 3

    assert (await ann.send("DELETE", f"/api/v1/personas/{persona['id']}")).status_code == 204
    assert len(bucket_keys(bucket)) == 1

    holder = next(h for h in registry.holders() if h.name == "media")
    await holder.delete(ctx, ann.id)
    assert bucket_keys(bucket) == []
