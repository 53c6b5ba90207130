"""Job handlers of video replies: `video.render` (see `rendering.py`)."""

from clonechats.jobs.service import JobRegistry
from clonechats.media.video.rendering import render_job
from clonechats.media.video.service import JOB_KIND


def register_jobs(registry: JobRegistry) -> None:
    registry.register(JOB_KIND, render_job)
