"""Uploaded images: checked by content, then re-encoded so that no metadata survives.

``reencode_image`` accepts PNG, JPEG and WebP only. The type is sniffed from the bytes (never a
filename or a client's header) and Pillow is asked to open the file with that one format's
decoder, so the decoded format always agrees with the sniffed type. Images over
``MAX_PIXELS`` are refused from their header before any pixel is decoded (Pillow's own
decompression-bomb error and warning are caught as well). The first frame is decoded (animated
PNG/WebP become still images), the EXIF orientation is applied, an embedded ICC profile is
converted to sRGB, the image is scaled down to ``max_side`` on its long side, and the pixels are
copied into a fresh image that carries no metadata at all: no EXIF (GPS included), XMP, ICC,
text chunks or trailing bytes. PNG stays PNG, JPEG stays JPEG (quality 88), WebP stays WebP.
``prepare_image`` runs that work in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from clonechats.media.errors import MediaError, UnsupportedMediaType
from clonechats.media.sniffing import sniff_content_type

AVATAR_MAX_SIDE = 512
IMAGE_MAX_SIDE = 2048
MAX_PIXELS = 50_000_000  # below Pillow's own bomb threshold, so ours always speaks first
JPEG_QUALITY = 88
WEBP_QUALITY = 88

IMAGE_UPLOAD_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
_DECODE_ERRORS = (
    UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error,
    IndexError, KeyError, TypeError, ZeroDivisionError,
)
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class InvalidImage(MediaError):
    code = "invalid_image"
    status = 422
    message = "The file is not a readable PNG, JPEG or WebP image."


class ImageTooLarge(MediaError):
    code = "image_too_large"
    status = 422
    message = f"The image has too many pixels (at most {MAX_PIXELS // 1_000_000} megapixels)."


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int


def reencode_image(data: bytes, *, max_side: int = IMAGE_MAX_SIDE) -> CleanImage:
    """The image re-encoded without metadata; raises a MediaError (4xx) for anything else."""
    content_type = sniff_content_type(data)
    if content_type not in IMAGE_UPLOAD_TYPES:
        raise UnsupportedMediaType(content_type)
    pillow_format = _PILLOW_FORMATS[content_type]
    try:
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            if image.format != pillow_format:
                raise InvalidImage
            width, height = image.size
            if width <= 0 or height <= 0:
                raise InvalidImage
            if width * height > MAX_PIXELS:
                raise ImageTooLarge
            clean = _clean_pixels(image, max_side=max_side)
        encoded = _encode(clean, pillow_format)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge from None
    except MediaError:
        raise
    except _DECODE_ERRORS:
        raise InvalidImage from None
    return CleanImage(encoded, content_type, clean.width, clean.height)


async def prepare_image(data: bytes, *, max_side: int = IMAGE_MAX_SIDE) -> CleanImage:
    return await asyncio.to_thread(reencode_image, data, max_side=max_side)


def _clean_pixels(image: Image.Image, *, max_side: int) -> Image.Image:
    if image.format == "JPEG":
        image.draft("RGB", (max_side, max_side))  # decode at a reduced scale where possible
    icc_profile = image.info.get("icc_profile")
    has_alpha = image.has_transparency_data and image.format != "JPEG"
    oriented = ImageOps.exif_transpose(image)  # loads the first frame only
    mode = "RGBA" if has_alpha else "RGB"
    converted = _to_srgb(oriented, icc_profile, mode) if icc_profile else None
    if converted is None:
        converted = oriented.convert(mode)
    converted.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A new image from the raw pixels alone: nothing of the source's info, palette or chunks.
    return Image.frombytes(mode, converted.size, converted.tobytes())


def _to_srgb(image: Image.Image, icc_profile: bytes, mode: str) -> Image.Image | None:
    if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        image = image.convert(mode)
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # an unusable profile is dropped; the pixels are kept as they are


def _encode(image: Image.Image, pillow_format: str) -> bytes:
    out = io.BytesIO()
    if pillow_format == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif pillow_format == "WEBP":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        image.save(out, "PNG", compress_level=6)
    return out.getvalue()
