"""One async database interface over MongoDB and the embedded engine.

`connect(url, data_dir=...)` is the only place that decides which engine is used. Callers get a
`Connection` whose `.db` speaks the PyMongo async API subset both engines support:
`await coll.insert_one/find_one/find_one_and_update/update_one/.../count_documents`,
`await coll.find(...).sort(...).skip(...).limit(...).to_list()` and
`await (await coll.aggregate(pipeline)).to_list()`.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from clonechats.storage.embedded import EmbeddedClient
from clonechats.storage.indexes import Index, apply_indexes

__all__ = ["Connection", "DuplicateKeyError", "Index", "apply_indexes", "connect"]

EMBEDDED_FILE = "embedded.db"


@dataclass
class Connection:
    db: Any
    engine: str  # "mongodb" or "embedded"
    _client: Any

    async def close(self) -> None:
        await self._client.close()

    async def scrub(self) -> None:
        """Make deleted data unrecoverable from the embedded engine's files. MongoDB manages
        its own storage: deleted documents there are left to the server's compaction."""
        if self.engine == "embedded":
            await self._client.scrub()


def embedded_path(url: str | None, data_dir: Path) -> Path:
    if url and url.startswith("file:"):
        return Path(url.removeprefix("file:"))
    return data_dir / EMBEDDED_FILE


async def connect(url: str | None, *, data_dir: Path, name: str = "clonechats",
                  timeout_seconds: float | None = None) -> Connection:
    """Open the database named by `url` (MongoDB) or the embedded store under `data_dir`.
    With `timeout_seconds`, no database call waits longer than that (`storage/faults.py`)."""
    if url and url.startswith(("mongodb://", "mongodb+srv://")):
        bounds: dict[str, Any] = {}
        if timeout_seconds is not None:
            ms = int(timeout_seconds * 1000)
            bounds = {"serverSelectionTimeoutMS": ms, "connectTimeoutMS": ms,
                      "socketTimeoutMS": ms}
        client = AsyncMongoClient(url, tz_aware=True, uuidRepresentation="standard", **bounds)
        await client.aconnect()
        return Connection(db=client[name], engine="mongodb", _client=client)
    if url and not url.startswith("file:"):
        raise ValueError("database_url must start with mongodb://, mongodb+srv:// or file:")
    embedded = EmbeddedClient(embedded_path(url, data_dir), timeout_seconds=timeout_seconds)
    await embedded.open()
    return Connection(db=embedded[name], engine="embedded", _client=embedded)
