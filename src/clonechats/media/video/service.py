"""Asking for, following and cancelling video replies. The rendering itself is `rendering.py`.

`request_video` turns one of the owner's finished persona replies into a queued job, after
every check that can fail early, so a refused request queues nothing:
  - the message: another user's (or a missing one) is 404 `message_not_found`; the user's own
    message is 422 `not_persona_message`; a reply still being written or hidden by the content
    rules is 422 `not_videoable`;
  - the face: the persona's avatar, else its reference images in order, must show a face found
    by the video provider's detector (`providers.video.faces`, off the event loop): none at all
    or none with a face is 422 `no_face_image`; a tiny or unreadable image is 422
    `image_too_small` / `invalid_image`;
  - the plan: each plan tier has `video.monthly_minutes` per calendar month (UTC); the length
    of this reply (its voice clip's, or estimated from its text, at most `video.max_seconds`)
    must fit in what is left, else 402 `video_quota_exceeded` (a paywall hit is recorded);
  - the credits: the balance must cover the estimated price (402 `insufficient_credits`);
    nothing is taken now: the clip is charged when it is done (`rendering.finish`);
  - one running job per user (`video.max_running_per_user`): the job is inserted holding one
    of the user's slots in one atomic write (a unique index), else 409 `video_job_running`;
    a job untouched for over an hour past the vendor timeout (its background job was given up
    without running) is failed first, so it cannot hold a slot forever.
Then `video.render` is queued. `cancel_job` cancels a queued or rendering job (409 once it is
finished or its clip is being stored) and, for a vendor render, asks the vendor to stop.
This module never imports the web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clonechats.accounts.users import User
from clonechats.billing import ledger
from clonechats.chat import repo as chat_repo
from clonechats.chat.repo import Message
from clonechats.media import repo as media_repo
from clonechats.media.clips import repo as clips_repo
from clonechats.media.clips import service as clips
from clonechats.media.video import repo
from clonechats.media.video.errors import (
    MessageNotFound,
    NoFaceImage,
    NotPersonaMessage,
    NotVideoable,
    VideoInputRefused,
    VideoJobFinished,
    VideoJobNotFound,
    VideoJobRunning,
    VideoQuotaExceeded,
)
from clonechats.personas import repo as persona_repo
from clonechats.personas import service as persona_service
from clonechats.personas.repo import Persona
from clonechats.providers.errors import ProviderError
from clonechats.providers.video import faces
from clonechats.providers.video.base import VideoInputError, VideoJobRef
from clonechats.telemetry import events
from clonechats.voice.sentences import speakable

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

JOB_KIND = "video.render"
PAYWALL_FEATURE = "video"
CHARS_PER_SECOND = 14.0  # speaking rate used to estimate a reply's length before it is voiced
VIDEOABLE = (chat_repo.COMPLETE, chat_repo.STOPPED, chat_repo.FAILED)


def cost_for(settings: Any, duration_s: float) -> int:
    raw = Decimal(str(round(max(duration_s, 0.0), 3))) * settings.credits_per_second
    return max(1, math.ceil(raw)) if settings.credits_per_second > 0 else 0


def _find_face(image: bytes) -> None:
    faces.find_face(faces.decode_image(image))


async def persona_message(ctx: Ctx, *, user_id: str, message_id: str) -> Message:
    message = await chat_repo.get_message(ctx.db, message_id)
    if message is None or message.get("owner_id") != user_id:
        raise MessageNotFound()
    if message["role"] != "assistant":
        raise NotPersonaMessage()
    if message["status"] == chat_repo.BLOCKED:
        raise NotVideoable("This reply was hidden by the content rules, so it cannot become a "
                           "video.")
    if message["status"] not in VIDEOABLE:
        raise NotVideoable("This reply is still being written; ask for its video once it is "
                           "finished.")
    return message


async def face_image(ctx: Ctx, persona: Persona) -> dict[str, Any]:
    """The first of the persona's avatar and reference images that shows a face."""
    candidates = [persona.get("avatar_media_id"), *persona.get("reference_image_ids", [])]
    refusal: VideoInputError | None = None
    for media_id in [m for m in candidates if m]:
        media = await media_repo.get(ctx.db, media_id)
        if media is None or media.get("owner_id") != persona["owner_id"]:
            continue
        data = await ctx.media.get(media["key"])
        try:
            await asyncio.to_thread(_find_face, data)
        except VideoInputError as exc:
            refusal = refusal if refusal and refusal.code != "no_face_image" else exc
            continue
        return media
    if refusal is not None and refusal.code != "no_face_image":
        raise VideoInputRefused(refusal.message, code=refusal.code)
    raise NoFaceImage()


async def face_layout(ctx: Ctx, *, user_id: str, persona_id: str) -> dict[str, Any]:
    """Where the face, eyes and mouth are in the persona's face image (for the live avatar of
    voice calls); the persona must be one the user may talk to."""
    persona = await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
    media = await face_image(ctx, persona)
    data = await ctx.media.get(media["key"])

    def measure() -> tuple[int, int, faces.FaceLayout]:
        pixels = faces.decode_image(data)
        return pixels.shape[1], pixels.shape[0], faces.find_face(pixels)

    width, height, layout = await asyncio.to_thread(measure)

    def box(part: faces.Box) -> dict[str, float]:
        return {"x": round(float(part.x), 1), "y": round(float(part.y), 1),
                "w": round(float(part.w), 1), "h": round(float(part.h), 1)}

    return {"image_url": f"/media/{media['_id']}", "width": width, "height": height,
            "face": box(layout.face), "mouth": box(layout.mouth),
            "eyes": [box(layout.left_eye), box(layout.right_eye)]}


async def estimated_seconds(ctx: Ctx, *, user_id: str, message: Message) -> float:
    cap = ctx.settings.video.max_seconds
    voiced = await clips_repo.voiced_message(ctx.db, owner_id=user_id,
                                             message_id=message["_id"])
    if voiced is not None:
        return min(cap, float(voiced["duration_s"]))
    return min(cap, max(1.0, len(speakable(message["text"])) / CHARS_PER_SECOND))


def allowance_seconds(ctx: Ctx, user: User) -> float:
    tier = user.get("plan") or "free"
    return 60.0 * float(ctx.settings.video.monthly_minutes.get(tier, 0.0))


async def check_quota(ctx: Ctx, *, user: User, seconds: float, month: str) -> None:
    allowed = allowance_seconds(ctx, user)
    used = await repo.seconds_this_month(ctx.db, user["_id"], month)
    if used + seconds <= allowed:
        return
    await events.record_paywall_hit(ctx, user_id=user["_id"], feature=PAYWALL_FEATURE)
    if allowed <= 0:
        message = ("Video replies are not part of your plan. Upgrade your plan to have "
                   "personas reply as video.")
    else:
        left = max(0.0, allowed - used)
        message = (f"This video needs about {math.ceil(seconds)} seconds, but only "
                   f"{math.floor(left)} of your {allowed / 60:g} video minutes are left this "
                   "month. Upgrade your plan for more, or wait until next month.")
    raise VideoQuotaExceeded(message, details={"allowed_s": allowed, "used_s": round(used, 1),
                                               "needed_s": round(seconds, 1)})


async def request_video(ctx: Ctx, *, user: User, message_id: str) -> dict[str, Any]:
    message = await persona_message(ctx, user_id=user["_id"], message_id=message_id)
    conversation = await chat_repo.get_conversation(ctx.db, message["conversation_id"])
    persona = (await persona_repo.get(ctx.db, conversation["persona_id"])
               if conversation else None)
    if persona is None:
        raise NoFaceImage("This conversation's persona no longer exists.")
    image = await face_image(ctx, persona)
    now = ctx.clock.now()
    seconds = await estimated_seconds(ctx, user_id=user["_id"], message=message)
    await check_quota(ctx, user=user, seconds=seconds, month=now.strftime("%Y-%m"))
    if await ledger.balance(ctx.db, user["_id"]) < cost_for(ctx.settings.video, seconds):
        await events.record_paywall_hit(ctx, user_id=user["_id"], feature=PAYWALL_FEATURE)
        raise ledger.InsufficientCredits(
            f"This video costs about {cost_for(ctx.settings.video, seconds)} credits, more than "
            "you have. Buy a credit pack to continue.")
    job = repo.new_job(job_id=media_repo.new_media_id(), clip_id=clips.new_clip_id(),
                       owner_id=user["_id"], message=message, persona_id=persona["_id"],
                       image_media_id=image["_id"], estimated_s=seconds,
                       provider=ctx.video.name, now=now)
    stale = timedelta(hours=1, minutes=ctx.settings.video.fal_timeout_minutes)
    await repo.fail_stale(ctx.db, user["_id"], before=now - stale, now=now)
    if not await repo.insert_with_slot(ctx.db, job,
                                       slots=ctx.settings.video.max_running_per_user):
        raise VideoJobRunning()
    await ctx.enqueue(JOB_KIND, {"job_id": job["_id"]}, dedupe_key=f"{JOB_KIND}:{job['_id']}")
    return job


async def get_job(ctx: Ctx, *, user_id: str, job_id: str) -> dict[str, Any]:
    job = await repo.get_owned(ctx.db, job_id, user_id)
    if job is None:
        raise VideoJobNotFound()
    return job


async def latest_for_conversation(ctx: Ctx, *, user_id: str,
                                  conversation_id: str) -> list[dict[str, Any]]:
    """Each message's newest job in one of the user's conversations (newest first)."""
    latest: dict[str, dict[str, Any]] = {}
    for job in await repo.list_for_conversation(ctx.db, user_id, conversation_id):
        latest.setdefault(job["message_id"], job)
    return list(latest.values())


async def cancel_job(ctx: Ctx, *, user_id: str, job_id: str) -> dict[str, Any]:
    job = await get_job(ctx, user_id=user_id, job_id=job_id)
    cancelled = await repo.cancel(ctx.db, job_id, owner_id=user_id, now=ctx.clock.now())
    if cancelled is None:
        raise VideoJobFinished("This video is already finished, so it cannot be cancelled."
                               if job["status"] in repo.TERMINAL else
                               "This video is being saved and can no longer be cancelled.")
    ref = cancelled.get("provider_ref")
    if ref and ref.get("provider") == ctx.video.name and ctx.video.name != "local":
        try:  # a vendor render stops there too; the local one stops at its next frame
            await ctx.video.cancel(VideoJobRef.from_dict(ref))
        except ProviderError as exc:
            log.warning("vendor cancel failed", extra={"job_id": job_id, "error": str(exc)})
    return cancelled


async def delete_for_conversation(ctx: Ctx, *, user_id: str, conversation_id: str) -> int:
    """A deleted chat's video requests go with it; renders still running are cancelled first
    (their clips are deleted with the chat's clips by `media.clips`)."""
    jobs = await repo.list_for_conversation(ctx.db, user_id, conversation_id)
    for job in jobs:
        if job["status"] in repo.ACTIVE:
            with contextlib.suppress(VideoJobFinished):
                await cancel_job(ctx, user_id=user_id, job_id=job["_id"])
    return await repo.delete_for_conversation(ctx.db, user_id, conversation_id)


async def public_job(ctx: Ctx, job: dict[str, Any]) -> dict[str, Any]:
    clip = None
    if job["status"] == repo.DONE:
        stored = await clips_repo.get_owned(ctx.db, job["clip_id"], job["owner_id"])
        if stored is not None:
            fields = clips.public_fields(stored)
            clip = {key: fields[key] for key in ("id", "media_id", "url", "poster_url",
                                                 "duration_s", "provider", "provider_job_id",
                                                 "saved", "expires_at")}
    return {"id": job["_id"], "status": job["status"],
            "progress": 1.0 if job["status"] == repo.DONE else float(job["progress"]),
            "clip": clip, "error": job.get("error")}
