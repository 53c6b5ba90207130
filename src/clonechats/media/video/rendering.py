"""The `video.render` job: voice the reply, render it, store the clip once, charge it once.

One run of the job:
1. Skip a job that is finished or cancelled; otherwise mark it `rendering` (a job whose worker
   died is taken over here, after the job runner's lease expired).
2. Inputs: the persona image chosen at request time, and the reply's voice: the voice clip
   already made for the message (with its phoneme timings) or, when there is none, the reply
   spoken now by the persona's voice (not stored separately, not charged separately).
3. Render. In-process providers (`local`) run to the end here, saving progress as frames
   render; each progress save also reads the job, and a job cancelled meanwhile stops the
   render at its next frame. Vendor renders (`fal`) are submitted once (the handle is saved at
   once, so a retry polls the same render instead of paying for a second), then checked every
   `fal_poll_seconds` by re-queueing this job (a verified webhook re-queues it at once); one not
   done after `fal_timeout_minutes` is cancelled at the vendor and fails `provider_timeout`.
4. Finish (`finish`): claim the job for finishing (it can no longer be cancelled), charge
   `ceil(duration * credits_per_second)` with one ledger entry keyed `video:<job id>`, store the
   poster and the MP4 as the clip whose id was fixed when the job was created (a second
   attempt finds it and stores nothing), then mark the job `done`. A short balance fails the
   job with `insufficient_credits` and stores nothing.
Bad input (no face, unreadable audio, nothing to say) fails the job at once; a vendor or speech
outage is retried by the job runner, with backoff, and fails the job on the last attempt.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from clonechats.billing import ledger
from clonechats.chat import repo as chat_repo
from clonechats.errors import AppError
from clonechats.media import repo as media_repo
from clonechats.media import service as media_service
from clonechats.media.clips import repo as clips_repo
from clonechats.media.clips import service as clips
from clonechats.media.video import repo
from clonechats.media.video.service import JOB_KIND, PAYWALL_FEATURE, cost_for
from clonechats.personas import repo as persona_repo
from clonechats.providers.errors import ProviderError
from clonechats.providers.speech.encoding import wav_bytes
from clonechats.providers.video.base import (
    PhonemeTiming,
    RenderedVideo,
    VideoCancelled,
    VideoInputError,
    VideoJobRef,
    VideoRequest,
)
from clonechats.telemetry import events
from clonechats.voice import synthesis

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

VIDEO_MEDIA_KIND = clips_repo.MEDIA_KINDS[clips_repo.VIDEO]


class JobGone(Exception):
    """The job was cancelled or finished elsewhere while this run worked on it."""


async def render_job(payload: dict[str, Any], ctx: Ctx) -> None:
    job = await repo.get(ctx.db, payload.get("job_id", ""))
    if job is None or job["status"] in repo.TERMINAL:
        return
    job = await repo.start_rendering(ctx.db, job, now=ctx.clock.now())
    if job is None:
        return
    try:
        if job.get("clip_ready"):  # stored by an attempt that died before marking it done
            await _mark_done(ctx, job)
        elif ctx.video.name == "local":
            await _render_here(ctx, job)
        else:
            await _render_remotely(ctx, job)
    except (JobGone, VideoCancelled):
        return
    except VideoInputError as exc:
        await _fail(ctx, job, exc.code or "invalid_input", exc.message)
    except AppError as exc:  # nothing to say, text too long, speech unavailable
        if exc.status >= 500 and not await _last_attempt(ctx, job):
            raise
        await _fail(ctx, job, exc.code, exc.message)
    except ProviderError as exc:
        if exc.retryable and not await _last_attempt(ctx, job):
            raise
        await _fail(ctx, job, "provider_failed", "The video could not be made. Please try "
                    "again later.")
        log.warning("video render failed", extra={"job_id": job["_id"], "error": str(exc)})
    except Exception:
        if await _last_attempt(ctx, job):  # never leave a job "rendering" after its last try
            await _fail(ctx, job, "render_failed", "The video could not be made. Please try "
                        "again later.")
        raise


async def _last_attempt(ctx: Ctx, job: dict[str, Any]) -> bool:
    return job["attempts"] >= ctx.settings.jobs.max_attempts


async def _fail(ctx: Ctx, job: dict[str, Any], code: str, message: str) -> None:
    await repo.fail(ctx.db, job["_id"], code=code, message=message, now=ctx.clock.now())


# --- inputs ----------------------------------------------------------------------------------

async def _inputs(ctx: Ctx, job: dict[str, Any]) -> tuple[VideoRequest, dict[str, Any]]:
    """The render request and what the clip records about its voice."""
    image_media = await media_repo.get(ctx.db, job["image_media_id"])
    if image_media is None:
        raise VideoInputError("The persona's image was deleted.", code="no_face_image")
    image = await ctx.media.get(image_media["key"])
    message = await chat_repo.get_message(ctx.db, job["message_id"])
    if message is None:
        raise VideoInputError("The message was deleted.", code="message_not_found")
    voiced = await clips_repo.voiced_message(ctx.db, owner_id=job["owner_id"],
                                             message_id=job["message_id"])
    if voiced is not None and (audio_media := await media_repo.get(ctx.db,
                                                                   voiced["media_id"])):
        audio = await ctx.media.get(audio_media["key"])
        timings = voiced.get("timings") or []
        voice = {"text": voiced["text"], "voice_id": voiced.get("voice_id"),
                 "rate": voiced.get("rate"), "language": voiced.get("language"),
                 "timings": timings}
    else:
        persona = await persona_repo.get(ctx.db, job["persona_id"])
        spoken, text, rate = await synthesis.synthesize(ctx, persona=persona,
                                                        text=message["text"])
        audio = wav_bytes(spoken.samples, spoken.sample_rate)
        timings = [t.to_dict() for t in spoken.timings]
        voice = {"text": text, "voice_id": spoken.voice_id, "rate": rate,
                 "language": spoken.language, "timings": timings}
    phonemes = tuple(PhonemeTiming(t["phoneme"], float(t["start_s"]), float(t["end_s"]))
                     for t in timings if t.get("phoneme"))
    request = VideoRequest(image=image, audio=audio, phonemes=phonemes,
                           max_seconds=ctx.settings.video.max_seconds,
                           idempotency_key=job["_id"])
    return request, voice


# --- rendering -------------------------------------------------------------------------------

async def _render_here(ctx: Ctx, job: dict[str, Any]) -> None:
    request, voice = await _inputs(ctx, job)
    refs: list[VideoJobRef] = []

    async def on_progress(fraction: float) -> None:
        # Rendering is 5..95 % of the job; the voice came before and storing comes after.
        current = await repo.set_progress(ctx.db, job["_id"], 0.05 + 0.9 * fraction,
                                          now=ctx.clock.now())
        if current is None and refs:  # cancelled (or finished) meanwhile: stop the render
            await ctx.video.cancel(refs[0])

    ref = await ctx.video.submit(request, on_progress=on_progress)
    refs.append(ref)
    await repo.set_provider_ref(ctx.db, job["_id"], ref.to_dict(), now=ctx.clock.now())
    video = await ctx.video.result(ref)
    await finish(ctx, job, video, ref, voice)


async def _render_remotely(ctx: Ctx, job: dict[str, Any]) -> None:
    settings = ctx.settings.video
    provider = ctx.video
    voice = job.get("voice")
    if job.get("provider_ref") is None:
        request, voice = await _inputs(ctx, job)
        ref = await provider.submit(request)
        await repo.set_provider_ref(ctx.db, job["_id"], ref.to_dict(), now=ctx.clock.now())
        await repo.set_voice(ctx.db, job["_id"], voice)
        await repo.set_progress(ctx.db, job["_id"], 0.1, now=ctx.clock.now())
    else:
        ref = VideoJobRef.from_dict(job["provider_ref"])
    status = await provider.status(ref)
    if status.state == "done":
        video = await provider.result(ref)
        await finish(ctx, job, video, ref, voice or {})
        return
    if status.state in ("failed", "cancelled"):
        await _fail(ctx, job, "provider_failed", "The video service could not make this "
                    f"video ({(status.error_message or 'no reason given')[:120]}).")
        return
    now = ctx.clock.now()
    if now - job["created_at"] > timedelta(minutes=settings.fal_timeout_minutes):
        try:
            await provider.cancel(ref)
        except ProviderError:
            log.warning("vendor cancel after timeout failed", extra={"job_id": job["_id"]})
        await _fail(ctx, job, "provider_timeout", "The video service took too long; nothing "
                    "was charged. Please try again later.")
        return
    await repo.set_progress(ctx.db, job["_id"], 0.5 if status.state == "rendering" else 0.1,
                            now=now)
    polls = await repo.count_poll(ctx.db, job["_id"])
    await ctx.enqueue(JOB_KIND, {"job_id": job["_id"]},
                      run_at=now + timedelta(seconds=settings.fal_poll_seconds),
                      dedupe_key=f"{JOB_KIND}:{job['_id']}:poll:{polls}")


# --- finishing -------------------------------------------------------------------------------

async def finish(ctx: Ctx, job: dict[str, Any], video: RenderedVideo, ref: VideoJobRef,
                 voice: dict[str, Any]) -> None:
    if await repo.claim_finishing(ctx.db, job["_id"], now=ctx.clock.now()) is None:
        raise JobGone()
    owner_id = job["owner_id"]
    credits = cost_for(ctx.settings.video, video.duration_s)
    key = f"video:{job['_id']}"
    if credits and await ledger.get_entry(ctx.db, key) is None:
        try:
            await ledger.apply(ctx.db, user_id=owner_id, delta=-credits, kind=ledger.DEBIT,
                               reason="Video reply", idempotency_key=key, now=ctx.clock.now(),
                               details={"video_job_id": job["_id"]})
        except ledger.InsufficientCredits:
            await events.record_paywall_hit(ctx, user_id=owner_id, feature=PAYWALL_FEATURE)
            await repo.release_finishing(ctx.db, job["_id"])
            await _fail(ctx, job, "insufficient_credits", "You ran out of credits before the "
                        "video was finished, so it was not kept. Buy a credit pack and try "
                        "again.")
            return
    await _store_clip(ctx, job, video, ref, voice, credits)
    await repo.mark_clip_ready(ctx.db, job["_id"], duration_s=video.duration_s, credits=credits)
    await _mark_done(ctx, job)


async def _store_clip(ctx: Ctx, job: dict[str, Any], video: RenderedVideo, ref: VideoJobRef,
                      voice: dict[str, Any], credits: int) -> None:
    owner_id = job["owner_id"]
    if await clips_repo.get_owned(ctx.db, job["clip_id"], owner_id) is not None:
        return  # an earlier attempt stored it
    poster = await clips.store_file(ctx, owner_id=owner_id, persona_id=job["persona_id"],
                                    kind=VIDEO_MEDIA_KIND, data=video.poster,
                                    content_type=video.poster_content_type,
                                    width=video.width, height=video.height)
    try:
        await clips.store_clip(
            ctx, owner_id=owner_id, kind=clips_repo.VIDEO, data=video.video,
            content_type=video.content_type, clip_id=job["clip_id"],
            poster_media_id=poster["_id"], persona_id=job["persona_id"],
            conversation_id=job["conversation_id"], message_id=job["message_id"],
            text=voice.get("text", ""), voice_id=voice.get("voice_id"), rate=voice.get("rate"),
            language=voice.get("language"), provider=ref.provider, provider_job_id=ref.job_id,
            duration_s=video.duration_s, timings=voice.get("timings") or [],
            credits_charged=credits)
    except DuplicateKeyError:  # a concurrent attempt won: keep its clip, drop this poster
        await media_service.delete_media(ctx, user_id=owner_id, media_id=poster["_id"])
    except BaseException:
        await media_service.delete_media(ctx, user_id=owner_id, media_id=poster["_id"])
        raise


async def _mark_done(ctx: Ctx, job: dict[str, Any]) -> None:
    await repo.finish_done(ctx.db, job["_id"], now=ctx.clock.now())
