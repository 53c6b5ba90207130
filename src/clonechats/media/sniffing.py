"""Content types, sniffed from a file's first bytes with ``filetype``, and the allowlists.

A type is only ever derived from the bytes, never from a filename or a client's Content-Type
header: ``sniff_content_type`` reads at most ``SNIFF_BYTES`` and returns a canonical MIME type or
None. Accepted by default (``DEFAULT_ALLOWED_TYPES``, narrowed per use with ``allowed_types``) are
``IMAGE_TYPES`` (image/png, image/jpeg, image/webp, image/gif), ``AUDIO_TYPES`` (audio/wav,
audio/mpeg for mp3, audio/ogg, audio/mp4 for m4a) and ``VIDEO_TYPES`` (video/webm, video/mp4);
SVG, HTML, archives and everything else are refused. Sniffing cannot tell audio-only WebM (what
browsers record voice as) from video WebM, so voice uploads should allow
``AUDIO_TYPES | {"video/webm"}``.
"""

from __future__ import annotations

import filetype
from filetype.types.audio import M4a

SNIFF_BYTES = 8192  # how much of a file's head filetype inspects

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
AUDIO_TYPES = frozenset({"audio/wav", "audio/mpeg", "audio/ogg", "audio/mp4"})
VIDEO_TYPES = frozenset({"video/webm", "video/mp4"})
DEFAULT_ALLOWED_TYPES = IMAGE_TYPES | AUDIO_TYPES | VIDEO_TYPES

# M4A files also carry the 'isom'/'mp42' brands that filetype's video/mp4 matcher (tried before
# its audio matchers) accepts, so the audio matcher goes first.
_FIRST_MATCHERS = (M4a(),)
_CANONICAL_TYPES = {"audio/x-wav": "audio/wav"}


def sniff_content_type(head: bytes | bytearray) -> str | None:
    """The content type recognised from a file's first bytes, or None."""
    head = bytes(head[:SNIFF_BYTES])
    if not head:
        return None
    found = filetype.match(head, _FIRST_MATCHERS) or filetype.guess(head)
    if found is None:
        return None
    return _CANONICAL_TYPES.get(found.mime, found.mime)
