"""Image uploads are checked by content and re-encoded: no EXIF, GPS, text, ICC or extra bytes."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from clonechats.media.errors import UnsupportedMediaType
from clonechats.media.images import (
    AVATAR_MAX_SIDE,
    IMAGE_MAX_SIDE,
    ImageTooLarge,
    InvalidImage,
    prepare_image,
    reencode_image,
)
from tests.media.samples import image_bytes, jpeg_with_gps


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims the given size, with a tiny (invalid for that size) body."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(
            ">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_jpeg_gps_and_camera_exif_are_removed() -> None:
    source = jpeg_with_gps()
    assert b"Exif" in source and b"SecretPhone" in source
    assert reopen(source).getexif().get_ifd(0x8825)  # the fixture really carries a position

    clean = reencode_image(source)

    assert clean.content_type == "image/jpeg"
    stored = reopen(clean.data)
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert not stored.getexif().get_ifd(0x8825)
    assert b"Exif" not in clean.data
    assert b"GPS" not in clean.data
    assert b"SecretPhone" not in clean.data and b"PhoneMaker" not in clean.data
    assert "exif" not in stored.info and "icc_profile" not in stored.info


def test_exif_orientation_is_applied_before_the_metadata_goes() -> None:
    source = jpeg_with_gps((80, 40), orientation=6)  # "rotate 90° clockwise to display"
    clean = reencode_image(source)
    stored = reopen(clean.data)
    assert (clean.width, clean.height) == (40, 80) == stored.size
    assert dict(stored.getexif()) == {}
    # the yellow marker block, top-left in the raw pixels, is now top-right
    red, green, blue = stored.getpixel((35, 3))
    assert red > 200 and green > 200 and blue < 80


def test_png_text_chunks_and_icc_profile_are_dropped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address: 1 Secret Lane")
    info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = image_bytes("PNG", (30, 20), pnginfo=info, icc_profile=icc)
    assert b"Secret Lane" in source

    clean = reencode_image(source)

    stored = reopen(clean.data)
    assert clean.content_type == "image/png" and stored.format == "PNG"
    assert b"Secret Lane" not in clean.data and b"xmpmeta" not in clean.data
    assert stored.info.get("icc_profile") is None
    assert not getattr(stored, "text", {})


def test_webp_stays_webp_without_exif() -> None:
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone 9"
    source = image_bytes("WEBP", (40, 40), exif=exif.tobytes())
    assert b"SecretPhone" in source
    clean = reencode_image(source)
    assert clean.content_type == "image/webp"
    assert reopen(clean.data).format == "WEBP"
    assert b"SecretPhone" not in clean.data and b"EXIF" not in clean.data


def test_transparency_is_kept_in_png() -> None:
    source = image_bytes("PNG", (10, 10), mode="RGBA", colour=(0, 0, 255, 0))
    stored = reopen(reencode_image(source).data)
    assert stored.mode == "RGBA" and stored.getpixel((5, 5))[3] == 0


def test_large_images_are_scaled_down_on_the_long_side() -> None:
    source = image_bytes("PNG", (3000, 1000))
    clean = reencode_image(source, max_side=IMAGE_MAX_SIDE)
    assert (clean.width, clean.height) == (2048, 683)
    avatar = reencode_image(source, max_side=AVATAR_MAX_SIDE)
    assert max(avatar.width, avatar.height) == 512
    assert reopen(avatar.data).size == (avatar.width, avatar.height)


def test_trailing_bytes_of_a_polyglot_are_not_kept() -> None:
    payload = b"<html><script>alert(document.cookie)</script></html>"
    clean = reencode_image(image_bytes("JPEG") + payload)
    assert payload not in clean.data and b"<script" not in clean.data


@pytest.mark.parametrize("data", [
    b"just some text, not a picture",
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"%PDF-1.7\n...",
])
def test_files_that_are_not_images_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as refused:
        reencode_image(data)
    assert refused.value.status == 415


def test_gif_is_not_among_the_accepted_image_types() -> None:
    with pytest.raises(UnsupportedMediaType):
        reencode_image(image_bytes("GIF", (10, 10)))


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + b"garbage after a valid signature" * 20,
    b"\xff\xd8\xff\xe0" + b"\x00" * 200,
    image_bytes("PNG", (200, 200))[:150],  # truncated
    b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 64,
])
def test_damaged_images_are_refused_with_a_422(data: bytes) -> None:
    with pytest.raises(InvalidImage) as refused:
        reencode_image(data)
    assert refused.value.status == 422


@pytest.mark.parametrize("size", [(10_000, 6_000), (12_000, 12_000), (40_000, 40_000)])
def test_decompression_bombs_are_refused_from_their_header(size: tuple[int, int]) -> None:
    # 60 MP (our own limit), 144 MP (Pillow's warning) and 1600 MP (Pillow's error)
    with pytest.raises(ImageTooLarge) as refused:
        reencode_image(png_header_only(*size))
    assert refused.value.status == 422


async def test_prepare_image_runs_off_the_event_loop() -> None:
    clean = await prepare_image(jpeg_with_gps(), max_side=AVATAR_MAX_SIDE)
    assert b"Exif" not in clean.data and clean.content_type == "image/jpeg"
