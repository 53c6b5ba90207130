"""The lease-based job runner.

A runner claims due jobs with one atomic `find_one_and_update`, so any number of runners (in
`serve` or in `clonechats worker` processes) never run one job twice. While a job runs its lease
is renewed; a runner that dies stops renewing, the lease expires, and another runner takes the
job again. Failures are retried with exponential backoff and dead-lettered after `max_attempts`;
an exception whose `retryable` attribute is False (e.g. a rejected provider request) is
dead-lettered at once, since trying again would fail the same way. When it finds nothing to do,
a runner removes jobs that finished more than `keep_done_hours` ago (at most every
`PRUNE_EVERY`), so the collection it polls stays small.
"""

import asyncio
import contextlib
import logging
import secrets
import socket
import traceback
from datetime import timedelta
from typing import Any

from clonechats.clock import Clock
from clonechats.jobs import repo
from clonechats.jobs.service import JobRegistry, UnknownJobKind
from clonechats.settings import JobSettings

log = logging.getLogger(__name__)

PRUNE_EVERY = timedelta(minutes=10)


class JobRunner:
    def __init__(self, *, db: Any, registry: JobRegistry, context: Any, clock: Clock,
                 settings: JobSettings, owner: str | None = None) -> None:
        self.db = db
        self.registry = registry
        self.context = context
        self.clock = clock
        self.settings = settings
        self.owner = owner or f"{socket.gethostname()}:{secrets.token_hex(4)}"
        self._lease = timedelta(seconds=settings.lease_seconds)
        self._next_prune = clock.now()

    async def run_once(self) -> bool:
        """Claim and run one due job. Returns False when nothing was due."""
        job = await repo.claim_next(self.db, owner=self.owner, now=self.clock.now(),
                                    lease=self._lease)
        if job is None:
            return False
        await self._execute(job)
        return True

    async def run_until_idle(self, max_jobs: int = 10_000) -> int:
        """Run due jobs one after another until none is due. Used by tests and tools."""
        ran = 0
        while ran < max_jobs and await self.run_once():
            ran += 1
        return ran

    async def run_forever(self, stop: asyncio.Event) -> None:
        slots = asyncio.Semaphore(self.settings.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            await slots.acquire()
            job = await self._claim_safely()
            if job is None:
                slots.release()
                await self.prune_when_due()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_seconds)
                continue
            task = asyncio.create_task(self._execute(job))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            task.add_done_callback(lambda _: slots.release())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def prune_when_due(self) -> int:
        """Remove long-finished jobs, if the last time was `PRUNE_EVERY` ago or more."""
        now = self.clock.now()
        if now < self._next_prune:
            return 0
        self._next_prune = now + PRUNE_EVERY
        try:
            return await repo.prune_done(self.db, finished_before=now - timedelta(
                hours=self.settings.keep_done_hours))
        except Exception:
            log.exception("pruning finished jobs failed")
            return 0

    async def _claim_safely(self) -> dict[str, Any] | None:
        try:
            return await repo.claim_next(self.db, owner=self.owner, now=self.clock.now(),
                                         lease=self._lease)
        except Exception:
            log.exception("job claim failed")
            return None

    async def _execute(self, job: dict[str, Any]) -> None:
        if job["attempts"] > job["max_attempts"]:
            await self._give_up(job, "lease expired too many times")
            return
        heartbeat = asyncio.create_task(self._keep_lease(job["_id"]))
        try:
            handler = self.registry.get(job["kind"])
            await handler(job["payload"], self.context)
        except Exception as exc:
            heartbeat.cancel()
            await self._record_failure(job, exc)
        else:
            heartbeat.cancel()
            if not await repo.finish(self.db, job["_id"], owner=self.owner, now=self.clock.now()):
                log.warning("job finished after losing its lease", extra={"job_id": job["_id"]})

    async def _keep_lease(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            until = self.clock.now() + self._lease
            await repo.extend_lease(self.db, job_id, owner=self.owner, until=until)

    async def _record_failure(self, job: dict[str, Any], exc: Exception) -> None:
        error = "".join(traceback.format_exception_only(exc)).strip()
        permanent = isinstance(exc, UnknownJobKind) or getattr(exc, "retryable", True) is False
        if permanent or job["attempts"] >= job["max_attempts"]:
            await self._give_up(job, error)
            return
        delay = min(self.settings.backoff_base_seconds * 2 ** (job["attempts"] - 1),
                    self.settings.backoff_max_seconds)
        log.warning("job failed, will retry",
                    extra={"job_id": job["_id"], "kind": job["kind"], "retry_in_s": delay})
        await repo.fail(self.db, job["_id"], owner=self.owner, error=error,
                        retry_at=self.clock.now() + timedelta(seconds=delay), now=self.clock.now())

    async def _give_up(self, job: dict[str, Any], error: str) -> None:
        log.error("job dead-lettered", extra={"job_id": job["_id"], "kind": job["kind"]})
        await repo.fail(self.db, job["_id"], owner=self.owner, error=error, retry_at=None,
                        now=self.clock.now())
