"""LocalMediaStore: round trips, sniffed types, size limits, key safety, permissions, listing."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import stat
import struct
import wave
import zlib
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from clonechats.errors import AppError
from clonechats.media.errors import (
    InvalidMediaKey,
    MediaError,
    MediaNotFound,
    MediaTooLarge,
    UnsupportedMediaType,
)
from clonechats.media.sniffing import (
    AUDIO_TYPES,
    DEFAULT_ALLOWED_TYPES,
    IMAGE_TYPES,
    sniff_content_type,
)
from clonechats.media.store import LocalMediaStore, StoredMedia

KEY_SHAPE = re.compile(r"avatar/u1/[A-Za-z0-9_-]{22}")
A_TOKEN = "AAAAAAAAAAAAAAAAAAAAAA"  # the shape of a real key's last segment


def make_png(width: int = 2, height: int = 2) -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body)
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_wav(frames: int = 800) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\x01\x00" * frames)
    return buffer.getvalue()


def padded(head: bytes) -> bytes:
    return head + b"\x00" * 64


SAMPLES = {
    "image/png": make_png(),
    "image/jpeg": padded(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"),
    "image/gif": padded(b"GIF89a\x01\x00\x01\x00"),
    "image/webp": padded(b"RIFF\x24\x00\x00\x00WEBPVP8 "),
    "audio/wav": make_wav(),
    "audio/mpeg": padded(b"ID3\x03\x00\x00\x00\x00\x00\x00"),
    "audio/ogg": padded(b"OggS\x00\x02\x00\x00"),
    "audio/mp4": padded(b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom"),
    "video/webm": padded(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"),
    "video/mp4": padded(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"),
}


@pytest.fixture
def store(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "data" / "media")


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if not path.is_dir())


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(path): (path.lstat().st_mode, path.lstat().st_mtime_ns) for path in root.rglob("*")}


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def listed(store: LocalMediaStore, prefix: str = "") -> list[str]:
    return [key async for key in store.keys(prefix)]


async def read_stream(stream: AsyncIterator[bytes]) -> list[bytes]:
    async with aclosing(stream) as chunks:  # type: ignore[type-var]
        return [chunk async for chunk in chunks]


# -- round trip --------------------------------------------------------------------------------


async def test_put_get_stream_delete_round_trip(store: LocalMediaStore) -> None:
    png = make_png()

    media = await store.put(png, owner_id="u1", kind="avatar")

    assert media == StoredMedia(
        key=media.key,
        content_type="image/png",
        size_bytes=len(png),
        sha256=hashlib.sha256(png).hexdigest(),
    )
    assert KEY_SHAPE.fullmatch(media.key)
    assert await store.get(media.key) == png
    chunks = await read_stream(store.stream(media.key, chunk_size=7))
    assert b"".join(chunks) == png
    assert max(len(chunk) for chunk in chunks) == 7
    assert await store.exists(media.key)
    assert await store.size(media.key) == len(png)

    assert await store.delete(media.key) is True

    assert not await store.exists(media.key)
    with pytest.raises(MediaNotFound):
        await store.get(media.key)
    with pytest.raises(MediaNotFound):
        await store.size(media.key)
    with pytest.raises(MediaNotFound):
        await read_stream(store.stream(media.key))
    assert files_under(store.root) == []


async def test_delete_is_idempotent(store: LocalMediaStore) -> None:
    media = await store.put(make_png(), owner_id="u1", kind="avatar")

    assert await store.delete(media.key) is True
    assert await store.delete(media.key) is False
    assert await store.delete(f"avatar/nobody/{A_TOKEN}") is False


async def test_each_put_gets_a_fresh_key(store: LocalMediaStore) -> None:
    png = make_png()

    stored = await asyncio.gather(
        *(store.put(png, owner_id="u1", kind="avatar") for _ in range(20))
    )

    assert len({media.key for media in stored}) == 20
    assert all([await store.exists(media.key) for media in stored])


async def test_accepts_bytearray_and_memoryview(store: LocalMediaStore) -> None:
    png = make_png()

    from_bytearray = await store.put(bytearray(png), owner_id="u1", kind="avatar")
    from_view = await store.put(memoryview(png), owner_id="u1", kind="avatar")

    assert await store.get(from_bytearray.key) == png
    assert await store.get(from_view.key) == png


async def test_put_from_a_stream(store: LocalMediaStore) -> None:
    wav = make_wav(frames=20_000)

    media = await store.put(chunks_of(wav, 1000), owner_id="u1", kind="voice")

    assert media.content_type == "audio/wav"
    assert media.size_bytes == len(wav)
    assert media.sha256 == hashlib.sha256(wav).hexdigest()
    assert await store.get(media.key) == wav


# -- content types -----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
async def test_sniffs_each_default_type(store: LocalMediaStore, content_type: str) -> None:
    assert sniff_content_type(SAMPLES[content_type]) == content_type

    media = await store.put(SAMPLES[content_type], owner_id="u1", kind="upload")

    assert media.content_type == content_type


def test_default_allowed_types_are_exactly_the_documented_set() -> None:
    assert set(SAMPLES) == DEFAULT_ALLOWED_TYPES


@pytest.mark.parametrize(
    ("data", "sniffed"),
    [
        (b"just some text, saved as avatar.png", None),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', None),
        (b"<!doctype html><html><script>alert(1)</script></html>", None),
        (padded(b"PK\x03\x04\x14\x00\x00\x00"), "application/zip"),
        (padded(b"\x7fELF\x02\x01\x01\x00"), "application/x-executable"),
        (b"", None),
    ],
)
async def test_refuses_what_the_bytes_are_not(
    store: LocalMediaStore, data: bytes, sniffed: str | None
) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        await store.put(data, owner_id="u1", kind="avatar")

    assert caught.value.content_type == sniffed
    assert caught.value.status == 415
    assert files_under(store.root) == []


async def test_allowed_types_narrow_what_is_accepted(store: LocalMediaStore) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        await store.put(make_wav(), owner_id="u1", kind="avatar", allowed_types=IMAGE_TYPES)
    assert caught.value.content_type == "audio/wav"

    voice = await store.put(make_wav(), owner_id="u1", kind="voice", allowed_types=AUDIO_TYPES)
    assert voice.content_type == "audio/wav"


async def test_streamed_text_is_refused_after_its_head(store: LocalMediaStore) -> None:
    chunks_read = 0

    async def endless_text() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        while True:
            chunks_read += 1
            yield b"not an image " * 100

    with pytest.raises(UnsupportedMediaType):
        await store.put(endless_text(), owner_id="u1", kind="avatar", max_bytes=10**9)

    assert chunks_read <= 8  # 8 KiB is enough to decide
    assert files_under(store.root) == []


# -- size limits -------------------------------------------------------------------------------


async def test_bytes_over_the_limit_are_refused(store: LocalMediaStore) -> None:
    wav = make_wav(frames=5000)

    with pytest.raises(MediaTooLarge) as caught:
        await store.put(wav, owner_id="u1", kind="voice", max_bytes=len(wav) - 1)

    assert caught.value.status == 413
    assert caught.value.code == "media_too_large"
    assert files_under(store.root) == []
    exact = await store.put(wav, owner_id="u1", kind="voice", max_bytes=len(wav))
    assert exact.size_bytes == len(wav)


async def test_store_default_limit_applies(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path / "media", max_bytes=100)

    with pytest.raises(MediaTooLarge) as caught:
        await store.put(make_wav(), owner_id="u1", kind="voice")

    assert "100 bytes" in caught.value.message


async def test_stream_over_the_limit_stops_reading_and_leaves_nothing(
    store: LocalMediaStore,
) -> None:
    chunks_read = 0
    closed = False
    wav_head = make_wav(frames=2048)[:4096]

    async def endless_wav() -> AsyncIterator[bytes]:
        nonlocal chunks_read, closed
        try:
            while True:
                chunks_read += 1
                yield wav_head if chunks_read == 1 else b"\x00" * 4096
        finally:
            closed = True

    with pytest.raises(MediaTooLarge):
        await store.put(endless_wav(), owner_id="u1", kind="voice", max_bytes=10_000)

    assert chunks_read == 3  # the third chunk crossed the limit; nothing more was pulled
    assert closed
    assert files_under(store.root) == []


async def test_a_failing_stream_leaves_nothing(store: LocalMediaStore) -> None:
    async def broken_upload() -> AsyncIterator[bytes]:
        yield make_wav(frames=5000)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put(broken_upload(), owner_id="u1", kind="voice")

    assert files_under(store.root) == []


# -- keys and paths ----------------------------------------------------------------------------

BAD_KEYS = [
    "../../etc/passwd",
    "/etc/passwd",
    f"/avatar/u1/{A_TOKEN}",
    "image/u1/../../x",
    f"image/u1/../{A_TOKEN}",
    f"image/../../{A_TOKEN}",
    f"image\\u1\\{A_TOKEN}",
    f"image/u1\\..\\{A_TOKEN}",
    f"image/u1/{A_TOKEN}\x00",
    f"image/u1\x00/{A_TOKEN}",
    "%2e%2e/%2e%2e/etc/passwd",
    f"image/%2e%2e/{A_TOKEN}",
    f"image/u1/{A_TOKEN}\n",
    f"./image/u1/{A_TOKEN}",
    f"image//u1/{A_TOKEN}",
    f"image/u1/{A_TOKEN}/more",
    f"image/u1/{A_TOKEN[:-1]}",
    f"IMAGE/u1/{A_TOKEN}",
    "image/u1/" + "\uff21" * 22,  # full-width letters
    "image/u1",
    "",
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_malformed_keys_are_refused_and_touch_nothing(tmp_path: Path, key: str) -> None:
    store = LocalMediaStore(tmp_path / "media")
    await store.put(make_png(), owner_id="u1", kind="image")
    secret = tmp_path / "etc" / "passwd"
    secret.parent.mkdir()
    secret.write_bytes(b"root:x:0:0")
    before = snapshot(tmp_path)

    for attempt in (store.get, store.delete, store.exists, store.size):
        with pytest.raises(InvalidMediaKey) as caught:
            await attempt(key)
        assert (caught.value.code, caught.value.status) == ("invalid_media_key", 400)
    with pytest.raises(InvalidMediaKey):
        store.stream(key)

    assert snapshot(tmp_path) == before
    assert secret.read_bytes() == b"root:x:0:0"


@pytest.mark.parametrize("key", [None, b"image/u1/AAAAAAAAAAAAAAAAAAAAAA", 7])
async def test_non_string_keys_are_refused(store: LocalMediaStore, key: object) -> None:
    with pytest.raises(InvalidMediaKey):
        await store.get(key)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "owner_id"),
    [
        ("", "u1"),
        ("Avatar", "u1"),
        ("../avatar", "u1"),
        ("a/b", "u1"),
        ("a" * 65, "u1"),
        ("avätar", "u1"),
        ("avatar", ""),
        ("avatar", ".."),
        ("avatar", "../u2"),
        ("avatar", "u/1"),
        ("avatar", "u 1"),
        ("avatar", "u1\x00"),
        ("avatar", "a" * 65),
        ("avatar", 123),
    ],
)
async def test_kind_and_owner_id_must_be_plain(
    store: LocalMediaStore, kind: str, owner_id: str
) -> None:
    with pytest.raises(InvalidMediaKey):
        await store.put(make_png(), owner_id=owner_id, kind=kind)

    assert list(store.root.rglob("*")) == []


async def test_owner_ids_may_be_hex_or_urlsafe(store: LocalMediaStore) -> None:
    for owner_id in ("6650f0c2a1b2c3d4e5f60718", "Xq3v_-9Z", "a" * 64):
        media = await store.put(make_png(), owner_id=owner_id, kind="avatar")
        assert media.key.startswith(f"avatar/{owner_id}/")


async def test_a_symlink_at_a_key_is_never_followed(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path / "media")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"do not serve me")
    (store.root / "avatar" / "u1").mkdir(parents=True)
    (store.root / "avatar" / "u1" / A_TOKEN).symlink_to(secret)
    key = f"avatar/u1/{A_TOKEN}"

    with pytest.raises(MediaNotFound):
        await store.get(key)
    with pytest.raises(MediaNotFound):
        await read_stream(store.stream(key))
    with pytest.raises(MediaNotFound):
        await store.size(key)
    assert not await store.exists(key)
    assert await listed(store) == []
    assert await store.delete(key) is True  # removes the link, not its target
    assert secret.read_bytes() == b"do not serve me"


async def test_a_symlinked_directory_cannot_lead_outside(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path / "media")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / A_TOKEN).write_bytes(make_png())
    (store.root / "avatar").mkdir()
    (store.root / "avatar" / "evil").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidMediaKey):
        await store.get(f"avatar/evil/{A_TOKEN}")
    with pytest.raises(InvalidMediaKey):
        await store.delete(f"avatar/evil/{A_TOKEN}")
    with pytest.raises(InvalidMediaKey):
        await store.put(make_png(), owner_id="evil", kind="avatar")

    assert [path.name for path in outside.iterdir()] == [A_TOKEN]


# -- listing -----------------------------------------------------------------------------------


async def test_keys_lists_what_exists(store: LocalMediaStore) -> None:
    png, wav = make_png(), make_wav()
    a1 = await store.put(png, owner_id="u1", kind="avatar")
    a2 = await store.put(png, owner_id="u2", kind="avatar")
    v1 = await store.put(wav, owner_id="u1", kind="voice")
    owner_dir = store.root / "avatar" / "u1"
    (owner_dir / ".upload-abc.part").write_bytes(b"half")
    (owner_dir / "notes.txt").write_bytes(b"junk")
    (owner_dir / A_TOKEN).symlink_to(owner_dir / "notes.txt")

    assert await listed(store) == sorted([a1.key, a2.key, v1.key])
    assert await listed(store, "avatar/") == sorted([a1.key, a2.key])
    assert await listed(store, "avatar/u1/") == [a1.key]
    assert await listed(store, "voice/u1") == [v1.key]
    assert await listed(store, "../") == []

    await store.delete(a1.key)
    assert await listed(store, "avatar/u1/") == []


async def test_keys_of_an_empty_store(store: LocalMediaStore) -> None:
    assert await listed(store) == []


# -- files on disk -----------------------------------------------------------------------------


async def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        store = LocalMediaStore(tmp_path / "data" / "media")
        media = await store.put(make_png(), owner_id="u1", kind="avatar")
    finally:
        os.umask(previous)

    path = store.root / media.key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (store.root, path.parent, path.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


async def test_delete_prunes_the_empty_owner_directory(store: LocalMediaStore) -> None:
    media = await store.put(make_png(), owner_id="u1", kind="avatar")

    await store.delete(media.key)

    assert not (store.root / "avatar" / "u1").exists()
    again = await store.put(make_png(), owner_id="u1", kind="avatar")
    assert await store.exists(again.key)


# -- errors ------------------------------------------------------------------------------------


def test_errors_carry_a_code_status_and_safe_message() -> None:
    cases = [
        (MediaTooLarge(10 * 1024 * 1024), "media_too_large", 413),
        (UnsupportedMediaType("application/zip"), "unsupported_media_type", 415),
        (MediaNotFound(), "media_not_found", 404),
        (InvalidMediaKey(), "invalid_media_key", 400),
    ]
    for error, code, status in cases:
        assert isinstance(error, MediaError)
        assert isinstance(error, AppError)  # so the web layer renders it as the JSON error
        assert (error.code, error.status) == (code, status)
        assert error.message and str(error) == error.message
    assert "10 MiB" in MediaTooLarge(10 * 1024 * 1024).message
    assert "zip" not in UnsupportedMediaType("application/zip").message
