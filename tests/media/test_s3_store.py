"""S3MediaStore against a real S3 HTTP API (moto's server on loopback): the local store's
contract — round trips, sniffed types, limits enforced before anything is sent, nothing left by a
failed upload, key safety, listing — plus multipart uploads and an unreachable service."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from clonechats.context import build_media_store
from clonechats.media.errors import (
    InvalidMediaKey,
    MediaNotFound,
    MediaTooLarge,
    MediaUnavailable,
    UnsupportedMediaType,
)
from clonechats.media.s3_store import S3MediaStore, build_s3_store
from clonechats.media.store import StoredMedia
from tests import s3_server
from tests.media.test_store import A_TOKEN, BAD_KEYS, KEY_SHAPE, make_png, make_wav

pytestmark = pytest.mark.s3


@pytest.fixture
def bucket() -> str:
    return s3_server.new_bucket()


@pytest.fixture
def store(bucket: str) -> S3MediaStore:
    return build_s3_store(s3_server.media_settings(bucket, s3_prefix="media"))


def objects(bucket: str) -> list[str]:
    """Every object in the bucket, and every unfinished multipart upload, as the service sees
    them (not through the store under test)."""
    listing = s3_server.request("GET", f"/{bucket}?list-type=2").text
    uploads = s3_server.request("GET", f"/{bucket}?uploads").text
    return [part.split("</Key>")[0] for part in (listing + uploads).split("<Key>")[1:]]


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_stream(stream: AsyncIterator[bytes]) -> list[bytes]:
    async with aclosing(stream) as chunks:  # type: ignore[type-var]
        return [chunk async for chunk in chunks]


async def test_the_settings_choose_the_s3_store(bucket: str, tmp_path) -> None:
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", media=s3_server.media_settings(bucket))
    assert isinstance(build_media_store(settings), S3MediaStore)


async def test_put_get_stream_delete_round_trip(store: S3MediaStore, bucket: str) -> None:
    png = make_png()

    media = await store.put(png, owner_id="u1", kind="avatar")

    assert media == StoredMedia(key=media.key, content_type="image/png", size_bytes=len(png),
                                sha256=hashlib.sha256(png).hexdigest())
    assert KEY_SHAPE.fullmatch(media.key)
    assert objects(bucket) == [f"media/{media.key}"]
    head = s3_server.request("HEAD", f"/{bucket}/media/{media.key}")
    assert head.headers["content-type"] == "image/png"
    assert await store.get(media.key) == png
    chunks = await read_stream(store.stream(media.key, chunk_size=7))
    assert b"".join(chunks) == png and max(len(chunk) for chunk in chunks) == 7
    assert await store.exists(media.key) and await store.size(media.key) == len(png)

    assert await store.delete(media.key) is True
    assert await store.delete(media.key) is False

    assert objects(bucket) == []
    assert not await store.exists(media.key)
    with pytest.raises(MediaNotFound):
        await store.get(media.key)
    with pytest.raises(MediaNotFound):
        await read_stream(store.stream(media.key))


async def test_a_large_stream_goes_up_in_parts_and_comes_back_whole(bucket: str) -> None:
    store = build_s3_store(s3_server.media_settings(bucket, max_upload_bytes=40 << 20))
    wav = make_wav(frames=9_000_000)  # ~18 MB: three parts

    media = await store.put(chunks_of(wav, 1 << 20), owner_id="u1", kind="voice")

    assert media.size_bytes == len(wav) and media.content_type == "audio/wav"
    digest = hashlib.sha256()
    async for chunk in store.stream(media.key, chunk_size=1 << 20):
        assert len(chunk) <= 1 << 20
        digest.update(chunk)
    assert digest.hexdigest() == media.sha256 == hashlib.sha256(wav).hexdigest()


async def test_refused_types_send_nothing(store: S3MediaStore, bucket: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        await store.put(b"plain text, not an image" * 500, owner_id="u1", kind="avatar")
    with pytest.raises(UnsupportedMediaType):
        await store.put(chunks_of(b"#!/bin/sh\n" * 5000, 1000), owner_id="u1", kind="avatar")
    with pytest.raises(UnsupportedMediaType):
        await store.put(make_wav(), owner_id="u1", kind="avatar",
                        allowed_types=frozenset({"image/png"}))
    assert objects(bucket) == []


async def test_over_the_limit_stops_reading_and_leaves_nothing(bucket: str) -> None:
    store = build_s3_store(s3_server.media_settings(bucket, max_upload_bytes=12 << 20))
    pulled = 0

    async def endless_wav() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield make_wav(frames=2048)
        while True:
            pulled += 1
            yield b"\x00" * (1 << 20)

    with pytest.raises(MediaTooLarge):
        await store.put(endless_wav(), owner_id="u1", kind="voice")
    with pytest.raises(MediaTooLarge):
        await store.put(make_png() + b"\x00" * 200, owner_id="u1", kind="avatar", max_bytes=100)

    assert pulled == 12  # the chunk that crossed 12 MiB; a part had already gone up
    assert objects(bucket) == []  # ... and the multipart upload was aborted


async def test_a_failing_stream_leaves_nothing(store: S3MediaStore, bucket: str) -> None:
    async def broken_upload() -> AsyncIterator[bytes]:
        yield make_wav(frames=5000)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put(broken_upload(), owner_id="u1", kind="voice")
    assert objects(bucket) == []


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_malformed_keys_are_refused(store: S3MediaStore, key: str) -> None:
    for call in (store.get, store.delete, store.exists, store.size):
        with pytest.raises(InvalidMediaKey):
            await call(key)
    with pytest.raises(InvalidMediaKey):
        store.stream(key)


async def test_keys_lists_only_well_formed_keys(store: S3MediaStore, bucket: str) -> None:
    a1 = await store.put(make_png(), owner_id="u1", kind="avatar")
    a2 = await store.put(make_png(), owner_id="u2", kind="avatar")
    v1 = await store.put(make_wav(), owner_id="u1", kind="voice")
    s3_server.request("PUT", f"/{bucket}/media/avatar/u1/notes.txt", content=b"junk")
    s3_server.request("PUT", f"/{bucket}/elsewhere/avatar/u1/{A_TOKEN}", content=b"x")

    listed = [key async for key in store.keys("")]
    assert listed == sorted([a1.key, a2.key, v1.key])
    assert [key async for key in store.keys("avatar/u1/")] == [a1.key]
    assert [key async for key in store.keys("../")] == []


async def test_an_unreachable_service_is_a_503_not_a_crash(tmp_path) -> None:
    from tests.mongodb_server import free_port

    settings = s3_server.media_settings("media", s3_max_retries=0, s3_timeout_seconds=2,
                                        s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    store = build_s3_store(settings)

    with pytest.raises(MediaUnavailable) as raised:
        await store.put(make_png(), owner_id="u1", kind="avatar")
    assert raised.value.status == 503
