"""The errors the media store raises, each an ``AppError`` that the web layer renders as JSON.

``MediaError`` is the base; ``MediaTooLarge`` (413, with ``max_bytes``), ``UnsupportedMediaType``
(415, with the sniffed ``content_type``, None when unrecognised), ``MediaNotFound`` (404) and
``InvalidMediaKey`` (400) narrow it. Their ``code``, ``status`` and ``message`` are safe to show a
user: a message never names a path, a key or the refused content type.
"""

from __future__ import annotations

from clonechats.errors import AppError


class MediaError(AppError):
    """Base of media errors; ``code``, ``status`` and ``message`` are safe to show a user."""

    code = "media_error"
    status = 400
    message = "The file could not be handled."


class MediaTooLarge(MediaError):
    code = "media_too_large"
    status = 413

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"The file is larger than the {_describe_size(max_bytes)} limit.")


class UnsupportedMediaType(MediaError):
    code = "unsupported_media_type"
    status = 415
    message = "This type of file is not accepted here."

    def __init__(self, content_type: str | None) -> None:
        self.content_type = content_type  # what was sniffed; None when unrecognised
        super().__init__()


class MediaNotFound(MediaError):
    code = "media_not_found"
    status = 404
    message = "The file was not found."


class InvalidMediaKey(MediaError):
    code = "invalid_media_key"
    status = 400
    message = "Invalid media reference."


def _describe_size(size_bytes: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size_bytes >= factor:
            return f"{size_bytes / factor:.3g} {unit}"
    return f"{size_bytes} bytes"


class MediaUnavailable(MediaError):
    code = "media_unavailable"
    status = 503
    message = "The file storage is unavailable just now; please try again shortly."


class StorageQuotaExceeded(MediaError):
    code = "storage_quota_exceeded"
    status = 403

    def __init__(self, quota_bytes: int) -> None:
        self.quota_bytes = quota_bytes
        super().__init__(f"Your files would take more than your {_describe_size(quota_bytes)} "
                         "of storage (all personas together). Delete some images or voices "
                         "first.")
