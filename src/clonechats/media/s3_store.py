"""A ``MediaStore`` on S3-compatible object storage (AWS S3, MinIO, Ceph, R2, …).

For deployments where several machines serve the same media. Keys and rules are the local
store's: ``put`` generates the key, and the size limit and sniffed-type allowlist are enforced by
the same ``MediaIntake`` as the bytes arrive, before they are sent on. Objects live at
``<prefix><kind>/<owner_id>/<token>`` with the sniffed content type as their ``Content-Type``.

The client is `obstore` (Rust's `object_store` crate): natively async, so no thread pool sits
between the event loop and the network; ``put`` streams an async iterable as a multipart upload
(parts are sent as they fill, and an upload that fails is aborted, so no half object remains);
``stream`` reads in chunks. Nothing reads a whole file into memory except ``get``, which callers
use for small files. Who may read a file stays the calling service's concern.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from datetime import timedelta
from typing import Any

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store

from clonechats.media.errors import InvalidMediaKey, MediaError, MediaNotFound, MediaUnavailable
from clonechats.media.keys import new_media_key, parse_media_key
from clonechats.media.sniffing import SNIFF_BYTES
from clonechats.media.store import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_BYTES, MediaIntake, StoredMedia
from clonechats.settings import MediaSettings

PART_BYTES = 8 * 1024 * 1024  # multipart part size; S3 wants at least 5 MiB for all but the last


def build_s3_store(settings: MediaSettings) -> S3MediaStore:
    """The store `settings.backend == "s3"` asks for (the settings validator checked the fields)."""
    secret = settings.s3_secret_access_key
    client = S3Store(
        settings.s3_bucket or "",
        endpoint=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        virtual_hosted_style_request=settings.s3_virtual_hosted_style,
        client_options={
            "allow_http": bool(settings.s3_endpoint_url
                               and settings.s3_endpoint_url.startswith("http:")),
            "connect_timeout": timedelta(seconds=min(5.0, settings.s3_timeout_seconds)),
            "timeout": timedelta(seconds=settings.s3_timeout_seconds),
        },
        retry_config={"max_retries": settings.s3_max_retries,
                      "retry_timeout": timedelta(seconds=settings.s3_timeout_seconds)},
    )
    return S3MediaStore(client, prefix=settings.s3_prefix, max_bytes=settings.max_upload_bytes)


class S3MediaStore:
    def __init__(self, client: S3Store, *, prefix: str = "",
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self._client = client
        self._prefix = prefix
        self.max_bytes = max_bytes

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
        if isinstance(data, bytes | bytearray | memoryview):
            intake.add(bytes(data))
            media = intake.finish(key)
            await self._call(obstore.put_async(self._client, self._path(key), bytes(data),
                                               attributes={"Content-Type": media.content_type}))
            return media
        head, rest = await _sniffed_head(data, intake)
        media_type = intake.finish(key).content_type  # the type is known from the head
        source = _CheckedSource(head, rest, intake)
        try:
            await self._call(obstore.put_async(
                self._client, self._path(key), source.chunks(),
                attributes={"Content-Type": media_type}, chunk_size=PART_BYTES,
            ))
        except MediaError:
            if source.error is not None:  # the caller's stream or the limit, not the service
                raise source.error from None
            raise
        return intake.finish(key)

    async def get(self, key: str) -> bytes:
        result = await self._call(obstore.get_async(self._client, self._path(key)))
        return bytes(await result.bytes_async())

    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        return self._stream(self._path(key), chunk_size)

    async def delete(self, key: str) -> bool:
        path = self._path(key)
        if not await self.exists(key):
            return False
        await self._call(obstore.delete_async(self._client, path))
        return True

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except MediaNotFound:
            return False
        return True

    async def size(self, key: str) -> int:
        meta = await self._call(obstore.head_async(self._client, self._path(key)))
        return int(meta["size"])

    async def keys(self, prefix: str = "") -> AsyncIterator[str]:
        if not isinstance(prefix, str):
            raise InvalidMediaKey
        found: list[str] = []
        async for batch in obstore.list(self._client, prefix=self._prefix or None):
            for meta in batch:
                key = str(meta["path"]).removeprefix(self._prefix)
                if key.startswith(prefix) and _is_key(key):
                    found.append(key)
        for key in sorted(found):
            yield key

    def _path(self, key: str) -> str:
        parse_media_key(key)  # validates the shape; raises InvalidMediaKey
        return self._prefix + key

    async def _stream(self, path: str, chunk_size: int) -> AsyncIterator[bytes]:
        result = await self._call(obstore.get_async(self._client, path))
        async for chunk in result.stream(min_chunk_size=chunk_size):
            data = memoryview(chunk)
            for start in range(0, len(data), chunk_size):  # no chunk longer than asked
                yield bytes(data[start:start + chunk_size])

    @staticmethod
    async def _call(awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        except (FileNotFoundError, NotFoundError):
            raise MediaNotFound from None
        except MediaError:
            raise
        except (BaseError, OSError) as error:  # the service or the network, after retries
            raise MediaUnavailable from error


async def _sniffed_head(data: AsyncIterable[bytes],
                        intake: MediaIntake) -> tuple[bytes, AsyncIterator[bytes]]:
    """Reads until the type can be sniffed (or the stream ends), so a refused type or size is
    raised before anything is sent."""
    chunks = aiter(data)
    head = bytearray()
    async for chunk in chunks:
        intake.add(chunk)
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    return bytes(head), chunks


class _CheckedSource:
    """The upload's bytes, checked by the intake as they go; remembers what stopped them, so an
    error of the caller's stream (or the size limit) is told apart from the service's."""

    def __init__(self, head: bytes, rest: AsyncIterator[bytes], intake: MediaIntake) -> None:
        self._head, self._rest, self._intake = head, rest, intake
        self.error: BaseException | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._head:
            yield self._head
        try:
            async for chunk in self._rest:
                self._intake.add(chunk)  # raises past the limit: the upload is aborted
                yield chunk
        except BaseException as error:
            self.error = error
            raise
        finally:
            if (aclose := getattr(self._rest, "aclose", None)) is not None:
                await aclose()


def _is_key(key: str) -> bool:
    try:
        parse_media_key(key)
    except InvalidMediaKey:
        return False
    return True
