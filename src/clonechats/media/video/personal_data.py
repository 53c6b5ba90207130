"""What video jobs hold about a person, registered with the privacy registry.

Export: every video job of the user (message, persona, status, length, provider and its job
id, error, dates). The clips and files they made are exported by `media.clips` and `media`.
Delete: the job documents; a render still running at the vendor is asked to stop first.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.media.video import repo
from clonechats.privacy.registry import DataHolder, Owned, register
from clonechats.providers.errors import ProviderError
from clonechats.providers.video.base import VideoJobRef

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)
NAME = "video_jobs"
_HIDDEN = {"provider_ref", "active_slot"}  # vendor URLs and a lock, not about the person


def _plain(document: dict[str, Any]) -> dict[str, Any]:
    return {("id" if key == "_id" else key): (value.isoformat() if isinstance(value, datetime)
                                              else value)
            for key, value in document.items() if key not in _HIDDEN}


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {"video_jobs": [_plain(j) for j in await repo.list_for_owner(ctx.db, user_id)]}


async def delete(ctx: Ctx, user_id: str) -> int:
    for job in await repo.list_for_owner(ctx.db, user_id):
        ref = job.get("provider_ref")
        if job["status"] in repo.ACTIVE and ref and ctx.video is not None and (
                ref.get("provider") == ctx.video.name):
            try:
                await ctx.video.cancel(VideoJobRef.from_dict(ref))
            except ProviderError as exc:
                log.warning("vendor cancel at deletion failed", extra={"error": str(exc)})
    return await repo.delete_for_owner(ctx.db, user_id)


register(DataHolder(
    name=NAME,
    description="Your requests for video replies (which message, status, length, the video "
                "service's job id).",
    export=export,
    delete=delete,
    order=85,
    collections=(Owned(repo.VIDEO_JOBS),),
))
