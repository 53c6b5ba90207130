"""The media store: where uploaded and generated files keep their bytes, and nothing else.

``MediaStore`` is the protocol (``LocalMediaStore`` implements it; an S3 adapter may follow).
``put`` takes bytes or an async stream, generates the key (see ``keys``), enforces the size limit
(``max_bytes`` per call, else the store's, 10 MiB by default) and the allowlist of sniffed types
(see ``sniffing``) as the bytes arrive, and returns a ``StoredMedia`` (key, content type, size,
SHA-256) for the caller to record in the database; there are no sidecar files. Reading (whole or
streamed), deleting and listing keys follow. Who may read a file is the calling service's
concern. The local layout is ``<root>/<kind>/<owner_id>/<token>``, directories 0700, files 0600;
every key is validated before any filesystem call, each resolved directory must be its expected
place under the root, and files open without following symlinks. A write goes to
``.upload-*.part`` in the same directory and is renamed into place with ``os.replace``, so readers
never see half a file; the temp file is removed on any error (only a crash can leave one, and
``keys()`` never lists it). Blocking file work runs in threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import re
import stat
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from clonechats.media.errors import (
    InvalidMediaKey,
    MediaError,
    MediaNotFound,
    MediaTooLarge,
    UnsupportedMediaType,
)
from clonechats.media.keys import (
    KIND_PATTERN,
    OWNER_ID_PATTERN,
    TOKEN_PATTERN,
    new_media_key,
    parse_media_key,
)
from clonechats.media.sniffing import DEFAULT_ALLOWED_TYPES, SNIFF_BYTES, sniff_content_type
from clonechats.storage.faults import MediaStorageUnavailable

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class StoredMedia:
    key: str
    content_type: str  # sniffed from the bytes
    size_bytes: int
    sha256: str  # hex digest


class MediaStore(Protocol):
    """Where media bytes live. Implementations: ``LocalMediaStore``; an S3 adapter later."""

    async def put(
        self,
        data: bytes | AsyncIterable[bytes],
        *,
        owner_id: str,
        kind: str,
        max_bytes: int | None = None,
        allowed_types: frozenset[str] | None = None,
    ) -> StoredMedia: ...

    async def get(self, key: str) -> bytes: ...

    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Chunks of the file. The key is checked at once; MediaNotFound comes with the first
        chunk, so a web layer wanting a 404 before sending headers calls ``size`` first."""
        ...

    async def delete(self, key: str) -> bool:
        """True if a file was deleted, False if there was none (deleting twice is fine)."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int: ...

    def keys(self, prefix: str = "") -> AsyncIterator[str]:
        """Every stored key starting with ``prefix``, sorted (for audits of orphaned files)."""
        ...


class MediaIntake:
    """Counts, hashes and sniffs bytes as they arrive; raises as soon as a rule is broken."""

    def __init__(self, *, max_bytes: int, allowed_types: frozenset[str]) -> None:
        self._max_bytes = max_bytes
        self._allowed_types = allowed_types
        self._size = 0
        self._digest = hashlib.sha256()
        self._head = bytearray()
        self._content_type: str | None = None

    @classmethod
    def for_put(cls, store_max_bytes: int, max_bytes: int | None,
                allowed_types: frozenset[str] | None) -> MediaIntake:
        """The intake of one `put`: the call's limits, else the store's and the default types."""
        return cls(max_bytes=store_max_bytes if max_bytes is None else max_bytes,
                   allowed_types=DEFAULT_ALLOWED_TYPES if allowed_types is None else allowed_types)

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._max_bytes:
            raise MediaTooLarge(self._max_bytes)
        self._digest.update(chunk)
        if self._content_type is None and len(self._head) < SNIFF_BYTES:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) == SNIFF_BYTES:
                self._check_type()

    def finish(self, key: str) -> StoredMedia:
        content_type = self._check_type()
        return StoredMedia(key, content_type, self._size, self._digest.hexdigest())

    def _check_type(self) -> str:
        if self._content_type is None:
            sniffed = sniff_content_type(self._head)
            if sniffed is None or sniffed not in self._allowed_types:
                raise UnsupportedMediaType(sniffed)
            self._content_type = sniffed
        return self._content_type


class LocalMediaStore:
    """A ``MediaStore`` in a local directory, e.g. ``settings.media_dir`` (``<data_dir>/media``)."""

    def __init__(self, root: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        root_path = Path(root)
        if not root_path.exists():
            root_path.mkdir(mode=0o700, parents=True, exist_ok=True)
            root_path.chmod(0o700)
        self._root = root_path.resolve(strict=True)
        self.max_bytes = max_bytes

    @property
    def root(self) -> Path:
        return self._root

    async def put(
        self,
        data: bytes | AsyncIterable[bytes],
        *,
        owner_id: str,
        kind: str,
        max_bytes: int | None = None,
        allowed_types: frozenset[str] | None = None,
    ) -> StoredMedia:
        key = new_media_key(kind=kind, owner_id=owner_id)
        intake = MediaIntake.for_put(self.max_bytes, max_bytes, allowed_types)
        try:
            if isinstance(data, bytes | bytearray | memoryview):
                return await asyncio.to_thread(self._put_bytes, key, bytes(data), intake)
            return await self._put_stream(key, data, intake)
        except ConnectionError:
            raise  # the uploading client went away: not a storage failure
        except OSError as exc:  # disk full, read-only, I/O error: a 503, nothing recorded
            log.warning("media file could not be written", extra={"error": type(exc).__name__})
            raise MediaStorageUnavailable() from None

    async def get(self, key: str) -> bytes:
        path = self._path_for(key)
        return await asyncio.to_thread(self._read_all, path)

    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        return self._stream(self._path_for(key), chunk_size)

    async def delete(self, key: str) -> bool:
        path = self._path_for(key)
        return await asyncio.to_thread(self._delete, path)

    async def exists(self, key: str) -> bool:
        path = self._path_for(key)
        return await asyncio.to_thread(self._stat_file, path) is not None

    async def size(self, key: str) -> int:
        path = self._path_for(key)
        info = await asyncio.to_thread(self._stat_file, path)
        if info is None:
            raise MediaNotFound
        return info.st_size

    async def keys(self, prefix: str = "") -> AsyncIterator[str]:
        if not isinstance(prefix, str):
            raise InvalidMediaKey
        for key in await asyncio.to_thread(self._list_keys, prefix):
            yield key

    # -- paths: the only place a key becomes a path ------------------------------------------

    def _path_for(self, key: str) -> Path:
        """Pure: validates the key's shape; touches no file."""
        kind, owner_id, token = parse_media_key(key)
        return self._root / kind / owner_id / token

    def _confine(self, path: Path) -> None:
        """Refuses a path whose directory resolves anywhere but its own place under the root."""
        expected = self._root / path.parent.parent.name / path.parent.name
        if path.parent.resolve() != expected:
            raise InvalidMediaKey

    # -- blocking work, run in threads -------------------------------------------------------

    def _put_bytes(self, key: str, data: bytes, intake: MediaIntake) -> StoredMedia:
        intake.add(data)
        media = intake.finish(key)
        pending = self._open_pending(key)
        try:
            pending.write(data)
            pending.commit()
        except BaseException:
            pending.discard()
            raise
        return media

    async def _put_stream(
        self, key: str, data: AsyncIterable[bytes], intake: MediaIntake
    ) -> StoredMedia:
        pending = await asyncio.to_thread(self._open_pending, key)
        try:
            chunks = aiter(data)
            try:
                async for chunk in chunks:
                    await asyncio.to_thread(_absorb, intake, pending, chunk)
            finally:
                if (aclose := getattr(chunks, "aclose", None)) is not None:
                    await aclose()  # stop the producer as soon as we stop reading
            media = intake.finish(key)
            await asyncio.to_thread(pending.commit)
        except BaseException:
            # shielded: the temp file goes even if this task is cancelled again meanwhile
            await asyncio.shield(asyncio.to_thread(pending.discard))
            raise
        return media

    def _open_pending(self, key: str) -> _PendingFile:
        path = self._path_for(key)
        for _ in range(3):  # a concurrent delete may prune the empty owner directory
            _make_private_dirs(path.parent)
            self._confine(path)
            try:
                return _PendingFile(path)
            except FileNotFoundError:
                continue
        raise MediaError("The file could not be stored; please try again.")

    def _open_existing(self, path: Path) -> BinaryIO:
        self._confine(path)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except (FileNotFoundError, NotADirectoryError):
            raise MediaNotFound from None
        except OSError as error:
            if error.errno == errno.ELOOP:  # a symlink where a file should be: never followed
                raise MediaNotFound from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise MediaNotFound
        return os.fdopen(fd, "rb")

    def _read_all(self, path: Path) -> bytes:
        with self._open_existing(path) as file:
            return file.read()

    async def _stream(self, path: Path, chunk_size: int) -> AsyncIterator[bytes]:
        file = await asyncio.to_thread(self._open_existing, path)
        try:
            while chunk := await asyncio.to_thread(file.read, chunk_size):
                yield chunk
        finally:
            file.close()  # closing a read-only file does not block; safe during finalisation

    def _stat_file(self, path: Path) -> os.stat_result | None:
        self._confine(path)
        try:
            info = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return info if stat.S_ISREG(info.st_mode) else None

    def _delete(self, path: Path) -> bool:
        self._confine(path)
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):
                return False
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        with contextlib.suppress(OSError):  # prune the owner's directory once it is empty
            os.rmdir(path.parent)
        return True

    def _list_keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for kind in _entries(self._root, KIND_PATTERN, directories=True):
            if not _may_start_with(f"{kind}/", prefix):
                continue
            for owner_id in _entries(self._root / kind, OWNER_ID_PATTERN, directories=True):
                if not _may_start_with(f"{kind}/{owner_id}/", prefix):
                    continue
                owner_dir = self._root / kind / owner_id
                for name in _entries(owner_dir, TOKEN_PATTERN, directories=False):
                    if (key := f"{kind}/{owner_id}/{name}").startswith(prefix):
                        found.append(key)
        return sorted(found)


class _PendingFile:
    """A private temp file beside its final path: committed with os.replace, or discarded."""

    def __init__(self, final_path: Path) -> None:
        fd, temp_name = tempfile.mkstemp(dir=final_path.parent, prefix=".upload-", suffix=".part")
        self._temp_path = Path(temp_name)
        self._final_path = final_path
        self._file = os.fdopen(fd, "wb")
        try:
            os.fchmod(fd, 0o600)  # mkstemp's 0600 is still filtered by the umask
        except BaseException:
            self.discard()
            raise

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._temp_path, self._final_path)

    def discard(self) -> None:
        with contextlib.suppress(OSError):  # flushing on close can fail, e.g. on a full disk
            self._file.close()
        self._temp_path.unlink(missing_ok=True)


def _absorb(intake: MediaIntake, pending: _PendingFile, chunk: bytes) -> None:
    intake.add(chunk)  # raises before writing a byte past the limit
    pending.write(chunk)


def _make_private_dirs(directory: Path) -> None:
    """Creates <root>/<kind>/<owner_id> as needed, each 0700; the root already exists."""
    for path in (directory.parent, directory):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
            path.chmod(0o700)  # mkdir's mode is filtered by the umask


def _entries(directory: Path, pattern: re.Pattern[str], *, directories: bool) -> list[str]:
    """Names in a directory that match the pattern and are real directories (or regular files)."""
    try:
        with os.scandir(directory) as entries:
            return [
                entry.name
                for entry in entries
                if pattern.fullmatch(entry.name)
                and (
                    entry.is_dir(follow_symlinks=False)
                    if directories
                    else entry.is_file(follow_symlinks=False)
                )
            ]
    except FileNotFoundError:
        return []


def _may_start_with(partial_key: str, prefix: str) -> bool:
    return partial_key.startswith(prefix) or prefix.startswith(partial_key)
