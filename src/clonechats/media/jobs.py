"""The media domain's background jobs: `media.sweep_orphans`, daily (see `orphans.py`)."""

from clonechats.jobs.service import JobRegistry
from clonechats.media import orphans


def register_jobs(registry: JobRegistry) -> None:
    registry.register(orphans.SWEEP_JOB, orphans.sweep_job)
