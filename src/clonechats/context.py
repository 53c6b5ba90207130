"""The application context: the collaborators every request and job handler may need.

Built once per process from `Settings` (by `create_app` or `clonechats worker`), opened in the
lifespan and closed after. Domains read what they need from it; nothing here is global.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clonechats.clock import Clock
from clonechats.jobs import service as jobs
from clonechats.jobs.service import JobRegistry
from clonechats.media.store import LocalMediaStore, MediaStore
from clonechats.settings import Settings
from clonechats.storage import Connection, apply_indexes, connect

log = logging.getLogger(__name__)

JOB_SOURCES: list[str] = []
"""Modules with a `register_jobs(registry)` function, imported when the context is built."""


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    connection: Connection
    media: MediaStore
    secret: str
    jobs: JobRegistry = field(default_factory=JobRegistry)

    @property
    def db(self) -> Any:
        return self.connection.db

    async def enqueue(self, kind: str, payload: dict[str, Any], run_at: datetime | None = None,
                      *, dedupe_key: str | None = None) -> dict[str, Any]:
        return await jobs.enqueue(self.db, kind, payload, run_at, clock=self.clock,
                                  max_attempts=self.settings.jobs.max_attempts,
                                  dedupe_key=dedupe_key)

    async def close(self) -> None:
        await self.connection.close()


def register_all_jobs(registry: JobRegistry) -> None:
    from importlib import import_module

    for module_name in JOB_SOURCES:
        import_module(module_name).register_jobs(registry)


async def open_context(settings: Settings, *, clock: Clock | None = None) -> AppContext:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    connection = await connect(settings.database_url, data_dir=settings.data_dir,
                               name=settings.database_name)
    try:
        await apply_indexes(connection.db)
    except Exception:
        await connection.close()
        raise
    context = AppContext(
        settings=settings,
        clock=clock or Clock(),
        connection=connection,
        media=LocalMediaStore(settings.media_dir),
        secret=await asyncio.to_thread(settings.resolved_secret),
    )
    register_all_jobs(context.jobs)
    log.info("context ready", extra={"engine": connection.engine})
    return context
