"""fal.ai's webhook deliveries for video jobs: verified, then they wake the job up.

A delivery is checked by `providers.video.fal_webhooks.FalWebhookVerifier` (Ed25519 over the
raw body, fresh timestamp, our user id). A genuine one names a request id; the job that
submitted it gets an immediate `video.render` run, which asks fal for the status and, when it
is done, fetches and stores the clip. The delivery's own payload is not trusted beyond that:
the result always comes from fal's API with our key. Redeliveries of one request id (fal
retries up to 10 times) queue at most one run (`dedupe_key`). A delivery for a job we do not
know (deleted, or not ours) is acknowledged so fal stops retrying, and changes nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from clonechats.media.video import repo
from clonechats.media.video.service import JOB_KIND
from clonechats.providers.video.fal_webhooks import FalWebhookEvent

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)


async def handle_event(ctx: Ctx, event: FalWebhookEvent) -> bool:
    """Queues the job's next step; True when the delivery was for one of our active jobs."""
    job = await repo.get_by_provider_job(ctx.db, "fal", event.request_id)
    if job is None or job["status"] not in repo.ACTIVE:
        return False
    await ctx.enqueue(JOB_KIND, {"job_id": job["_id"]},
                      dedupe_key=f"{JOB_KIND}:{job['_id']}:webhook:{event.request_id}")
    return True
