"""Character cards inside PNG files: the `chara` text chunk, read with hard limits and written.

A card PNG carries the card as base64 of its UTF-8 JSON in a text chunk whose keyword is
`chara` (tEXt as written by most tools; zTXt and iTXt are read too). ``read_card_text`` walks the
chunks itself rather than trusting an image library: the file must be at most
``MAX_PNG_BYTES``, every chunk must fit the file and pass its CRC, and a compressed chunk is
inflated only up to ``MAX_TEXT_BYTES`` (a chunk that inflates further, a "zip bomb", is refused
without being inflated). It returns the base64 text; ``decode_card_text`` turns that into JSON
bytes. ``write_card_png`` re-encodes an image (or a plain generated one) as PNG with one tEXt
`chara` chunk and no other metadata.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import struct
import zlib

from PIL import Image, PngImagePlugin

from clonechats.errors import AppError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"chara"
MAX_PNG_BYTES = 8 * 1024 * 1024
MAX_JSON_BYTES = 256 * 1024
MAX_TEXT_BYTES = 4 * ((MAX_JSON_BYTES + 2) // 3) + 4096  # base64 of the largest card, and slack
GENERATED_SIZE = (512, 512)


class CardTooLarge(AppError):
    code = "card_too_large"
    status = 413
    message = "The character card is too large."


class MalformedCard(AppError):
    code = "malformed_card"
    status = 400
    message = "The character card could not be read."


class NoCardInPng(AppError):
    code = "no_card_in_png"
    status = 422
    message = "This PNG holds no character card (there is no 'chara' text chunk)."


def is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE)


def read_card_text(data: bytes) -> str:
    """The base64 text of the first `chara` chunk; raises a 4xx AppError otherwise."""
    if len(data) > MAX_PNG_BYTES:
        raise CardTooLarge(f"A card PNG may be at most {MAX_PNG_BYTES // (1024 * 1024)} MB.")
    if not is_png(data):
        raise MalformedCard("The file is not a PNG image.")
    position = len(PNG_SIGNATURE)
    while position < len(data):
        if position + 12 > len(data):
            raise MalformedCard("The PNG file is truncated.")
        length, chunk_type = struct.unpack(">I4s", data[position:position + 8])
        end = position + 8 + length
        if end + 4 > len(data) or not chunk_type.isalpha():
            raise MalformedCard("The PNG file is damaged.")
        body = data[position + 8:end]
        (crc,) = struct.unpack(">I", data[end:end + 4])
        if zlib.crc32(chunk_type + body) != crc:
            raise MalformedCard("The PNG file is damaged (a chunk fails its checksum).")
        text = _card_text(chunk_type, body)
        if text is not None:
            return text
        if chunk_type == b"IEND":
            break
        position = end + 4
    raise NoCardInPng()


def decode_card_text(text: str) -> bytes:
    """The JSON bytes inside the chunk's base64 text."""
    compact = "".join(text.split())
    if len(compact) > MAX_TEXT_BYTES:
        raise CardTooLarge(f"A character card may be at most {MAX_JSON_BYTES // 1024} KB.")
    try:
        return base64.b64decode(compact.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise MalformedCard("The card in the PNG is not valid base64.") from None


def _card_text(chunk_type: bytes, body: bytes) -> str | None:
    if chunk_type not in (b"tEXt", b"zTXt", b"iTXt"):
        return None
    keyword, separator, rest = body.partition(b"\x00")
    if not separator or keyword != KEYWORD:
        return None
    if chunk_type == b"tEXt":
        raw = rest
    elif chunk_type == b"zTXt":
        if rest[:1] != b"\x00":
            raise MalformedCard("The card chunk uses an unknown compression method.")
        raw = _inflate(rest[1:])
    else:
        if len(rest) < 2:
            raise MalformedCard("The card chunk is damaged.")
        compressed, method, rest = rest[0], rest[1], rest[2:]
        _language, _, rest = rest.partition(b"\x00")
        _translated, _, raw = rest.partition(b"\x00")
        if compressed:
            if method != 0:
                raise MalformedCard("The card chunk uses an unknown compression method.")
            raw = _inflate(raw)
    if len(raw) > MAX_TEXT_BYTES:
        raise CardTooLarge(f"A character card may be at most {MAX_JSON_BYTES // 1024} KB.")
    try:
        return raw.decode("utf-8" if chunk_type == b"iTXt" else "latin-1")
    except UnicodeDecodeError:
        raise MalformedCard("The card chunk is not valid text.") from None


def _inflate(compressed: bytes) -> bytes:
    """Inflates at most MAX_TEXT_BYTES + 1 bytes; anything that would grow further is refused."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, MAX_TEXT_BYTES + 1)
    except zlib.error:
        raise MalformedCard("The card chunk's compressed data is damaged.") from None
    if len(raw) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        raise CardTooLarge(f"A character card may be at most {MAX_JSON_BYTES // 1024} KB.")
    return raw


def write_card_png(card_json: bytes, *, image: bytes | None, seed: str) -> bytes:
    """A PNG of `image` (already a cleaned upload) or a generated plain one, carrying the card."""
    info = PngImagePlugin.PngInfo()
    info.add_text(KEYWORD.decode(), base64.b64encode(card_json).decode("ascii"))
    picture = _open_image(image) if image else None
    if picture is None:
        picture = Image.new("RGB", GENERATED_SIZE, _colour(seed))
    out = io.BytesIO()
    picture.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _open_image(data: bytes) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            mode = "RGBA" if opened.has_transparency_data else "RGB"
            converted = opened.convert(mode)
            return Image.frombytes(mode, converted.size, converted.tobytes())
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None  # the card is still exported, on a generated picture


def _colour(seed: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(seed.encode()).digest()
    return tuple(64 + byte // 2 for byte in digest[:3])  # type: ignore[return-value]
