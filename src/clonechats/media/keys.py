"""Media keys: the only names under which the store keeps bytes, made here and checked here.

A key looks like ``<kind>/<owner_id>/<token>``, e.g. ``avatar/6650f0c2a1/Xq3v...``, where the
token is ``secrets.token_urlsafe(16)``; callers never choose one, ``new_media_key`` makes it.
``parse_media_key`` full-matches a key against one strict pattern (segments of ``[A-Za-z0-9_-]``
only, a lowercase kind, a 22-character token) before anything may use it, so ``..``, absolute
paths, backslashes, NUL bytes and percent-encoding can never reach a path; anything else raises
``InvalidMediaKey``. The segment patterns are public so a store can recognise its own entries.
"""

from __future__ import annotations

import re
import secrets

from clonechats.media.errors import InvalidMediaKey

_KIND = r"[a-z0-9][a-z0-9_-]{0,63}"
_OWNER_ID = r"[A-Za-z0-9_-]{1,64}"
_TOKEN_BYTES = 16
_NAME = r"[A-Za-z0-9_-]{22}"  # secrets.token_urlsafe(16)

KIND_PATTERN = re.compile(_KIND)
OWNER_ID_PATTERN = re.compile(_OWNER_ID)
TOKEN_PATTERN = re.compile(_NAME)
KEY_PATTERN = re.compile(rf"({_KIND})/({_OWNER_ID})/({_NAME})")


def new_media_key(*, kind: str, owner_id: str) -> str:
    """A fresh, unguessable key; raises InvalidMediaKey unless kind and owner_id are plain."""
    if not (_full_match(KIND_PATTERN, kind) and _full_match(OWNER_ID_PATTERN, owner_id)):
        raise InvalidMediaKey
    return f"{kind}/{owner_id}/{secrets.token_urlsafe(_TOKEN_BYTES)}"


def parse_media_key(key: str) -> tuple[str, str, str]:
    """(kind, owner_id, token) of a well-formed key; raises InvalidMediaKey for anything else."""
    match = KEY_PATTERN.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        raise InvalidMediaKey
    kind, owner_id, token = match.groups()
    return kind, owner_id, token


def _full_match(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None
