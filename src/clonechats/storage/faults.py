"""Failing fast when storage stalls or breaks: a clear 503 instead of a hung request or a 500.

- Every embedded-engine call is bounded by `database_timeout_seconds`; MongoDB gets the same
  bound as its server-selection, connect and socket timeouts. A call that runs past it raises
  `StorageUnavailable` (503 `storage_unavailable`, `Retry-After`), and the request ends.
- A media file that cannot be written (disk full, read-only, I/O error) raises
  `MediaStorageUnavailable`: nothing is recorded for it.
- `/healthz` reads from the database with the same bound, so a stalled database makes it
  answer 503 rather than "ok".
"""

from pymongo.errors import (
    AutoReconnect,
    ExecutionTimeout,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)

from clonechats.errors import AppError

RETRY_AFTER_SECONDS = 5
MONGO_UNAVAILABLE = (AutoReconnect, ServerSelectionTimeoutError, NetworkTimeout, ExecutionTimeout)


class StorageUnavailable(AppError):
    code = "storage_unavailable"
    status = 503
    message = "Our database is not answering right now. Nothing was changed; please try again " \
              "in a moment."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class MediaStorageUnavailable(StorageUnavailable):
    code = "media_storage_unavailable"
    message = "The file could not be stored right now. Nothing was saved; please try again " \
              "in a moment."
