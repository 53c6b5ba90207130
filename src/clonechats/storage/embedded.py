"""The embedded engine: `litemongo` (SQLite files + mongomock's query engine) behind async calls.

SQLite handles belong to the thread that opened them, so the client is opened on one dedicated
thread and every call runs there. That also serialises writes, which keeps conditional updates
(`find_one_and_update` with a filter on the current value) atomic within one client. The engine
evaluates such an update as a read followed by a write, so every write also holds an exclusive
`flock` on a file beside the store: another client on the same files (a second process, or a
worker beside `serve`) waits instead of claiming the same job or spending the same credits.

Deleted data must not linger in the files: every SQLite connection runs with `secure_delete`
(freed pages are overwritten with zeros), and `scrub()` folds the write-ahead logs back into
the database files and truncates them, so old page images go too.

With `timeout_seconds`, a call not finished in time raises `StorageUnavailable` (503): the
call itself may still finish on the database thread, but no request waits on it.
"""

import asyncio
import fcntl
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import litemongo
from litemongo import sqlite_store

from clonechats.storage.faults import StorageUnavailable

log = logging.getLogger(__name__)

_open_collection_store = sqlite_store.CollectionStore.open


def _open_with_secure_delete(store: Any) -> None:
    _open_collection_store(store)
    store._connection.execute("PRAGMA secure_delete=ON")


# The engine opens one SQLite connection per collection and offers no hook for its settings.
sqlite_store.CollectionStore.open = _open_with_secure_delete

_find_candidates = sqlite_store.CollectionStore.find_candidates


def _find_candidates_by_id(store: Any, filter: Any) -> Any:
    """A filter naming one `_id` can match only that document: read it by its key. The engine
    would otherwise first rebuild its in-process query index whenever another client (a
    worker process) has written to the collection, which reads the whole collection; with
    several processes writing, that made every lookup by id cost a full scan."""
    wanted = filter.get("_id") if isinstance(filter, dict) else None
    if isinstance(wanted, str | int) and not isinstance(wanted, bool):
        store._remove_expired_documents()
        return store._documents.get_many([wanted])
    return _find_candidates(store, filter)


sqlite_store.CollectionStore.find_candidates = _find_candidates_by_id


def _truncate_write_ahead_logs(root: Path) -> int:
    count = 0
    for wal in root.rglob("*-wal"):
        database = wal.with_name(wal.name.removesuffix("-wal"))
        connection = sqlite3.connect(database)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
        count += 1
    return count


class EmbeddedClient:
    def __init__(self, path: Path, *, timeout_seconds: float | None = None) -> None:
        self._path = path
        self._timeout = timeout_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-db")
        self._client: Any = None
        self._lock_file: Any = None

    async def _unbounded(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Opening and closing are never cut short: a half-closed store would leak its files."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, partial(fn, *args))

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, partial(fn, *args, **kwargs))
        if self._timeout is None:
            return await future
        try:  # a stalled store fails the request fast instead of hanging it (storage/faults.py)
            return await asyncio.wait_for(future, self._timeout)
        except TimeoutError:
            log.warning("embedded database call timed out",
                        extra={"call": getattr(fn, "__name__", "call"), "seconds": self._timeout})
            raise StorageUnavailable() from None

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._client = await self._unbounded(partial(litemongo.connect, str(self._path),
                                                     tz_aware=True))
        lock_path = self._path.with_name(self._path.name + ".lock")
        self._lock_file = await self._unbounded(open, lock_path, "a")

    def _locked(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            return fn(*args, **kwargs)
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    async def run_write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a call that changes data, holding the cross-client write lock."""
        return await self.run(self._locked, fn, *args, **kwargs)

    async def close(self) -> None:
        if self._client is not None:
            await self._unbounded(self._client.close)
            self._client = None
        if self._lock_file is not None:
            await self._unbounded(self._lock_file.close)
            self._lock_file = None
        self._executor.shutdown(wait=True)

    async def scrub(self) -> int:
        """Fold the write-ahead logs into the database files and empty them (after deletions)."""
        return await self.run_write(_truncate_write_ahead_logs, self._path)

    def __getitem__(self, name: str) -> "EmbeddedDatabase":
        return EmbeddedDatabase(self, self._client[name])


class EmbeddedDatabase:
    def __init__(self, client: EmbeddedClient, database: Any) -> None:
        self._client = client
        self._database = database

    def __getitem__(self, name: str) -> "EmbeddedCollection":
        return EmbeddedCollection(self._client, self._database[name])

    def __getattr__(self, name: str) -> "EmbeddedCollection":
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    async def list_collection_names(self) -> list[str]:
        return await self._client.run(self._database.list_collection_names)

    async def drop_collection(self, name: str) -> None:
        await self._client.run_write(self._database.drop_collection, name)


class EmbeddedCollection:
    """Async mirror of the PyMongo collection methods the app uses."""

    _READ_METHODS = frozenset({"find_one", "count_documents", "distinct", "index_information"})
    _WRITE_METHODS = frozenset({
        "insert_one", "insert_many", "find_one_and_update", "find_one_and_delete",
        "find_one_and_replace", "update_one", "update_many", "replace_one", "delete_one",
        "delete_many", "create_index", "drop", "drop_index", "bulk_write",
    })

    def __init__(self, client: EmbeddedClient, collection: Any) -> None:
        self._client = client
        self._collection = collection
        self.name = collection.name

    def __getattr__(self, name: str) -> Any:
        if name in self._WRITE_METHODS:
            run = self._client.run_write
        elif name in self._READ_METHODS:
            run = self._client.run
        else:
            raise AttributeError(f"embedded collections do not offer {name!r}")
        method = getattr(self._collection, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await run(method, *args, **kwargs)

        return call

    def find(self, *args: Any, **kwargs: Any) -> "EmbeddedCursor":
        return EmbeddedCursor(self._client, partial(self._collection.find, *args, **kwargs))

    async def aggregate(self, pipeline: list[dict[str, Any]], **kwargs: Any) -> "ListCursor":
        def run() -> list[dict[str, Any]]:
            return list(self._collection.aggregate(pipeline, **kwargs))

        return ListCursor(await self._client.run(run))


class EmbeddedCursor:
    """A lazily built `find` cursor: chain sort/skip/limit, then `await to_list()`."""

    def __init__(self, client: EmbeddedClient, open_cursor: Callable[[], Any]) -> None:
        self._client = client
        self._open_cursor = open_cursor
        self._steps: list[tuple[str, tuple[Any, ...]]] = []

    def sort(self, *args: Any) -> "EmbeddedCursor":
        self._steps.append(("sort", args))
        return self

    def skip(self, count: int) -> "EmbeddedCursor":
        self._steps.append(("skip", (count,)))
        return self

    def limit(self, count: int) -> "EmbeddedCursor":
        self._steps.append(("limit", (count,)))
        return self

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            cursor = self._open_cursor()
            for step, args in self._steps:
                cursor = getattr(cursor, step)(*args)
            documents = list(cursor)
            return documents if length is None else documents[:length]

        return await self._client.run(run)

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        for document in await self.to_list():
            yield document


class ListCursor:
    """Result of `aggregate` on the embedded engine (already materialised)."""

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self._documents = documents

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        return self._documents if length is None else self._documents[:length]

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        for document in self._documents:
            yield document
