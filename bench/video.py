"""Local talking-head rendering: time per second of video and file size per second.

    .venv/bin/python bench/video.py [--seconds 10] [--sizes 256,512] [--threads 1,2] [--rounds 3]

For each output size and ffmpeg thread count, renders a clip of `--seconds` seconds of
speech-like audio over a drawn face with `renderer.render_talking_head` (face finding, mouth
curves, every frame drawn and piped to ffmpeg, H.264/AAC) and, in the same run as the baseline,
the cheapest possible clip of the same length and size: one still image looped by ffmpeg
(`-loop 1 -tune stillimage`), i.e. what a slideshow costs. Prints, per setting, the median
render time per second of video (below 1.0 s is faster than real time), the real-time factor,
the ratio to the still-image baseline, and the file size per second of video.

With `--end-to-end`, it then runs the whole path in-process on the embedded database with
default settings (job runner polling every `jobs.poll_seconds`, the default espeak/Piper voice,
512 px): a persona reply asked for as video through `POST /api/v1/messages/{id}/video`, and
prints the median time from that request to the job turning `rendering` (the first `progress`
event after `queued`; the stream re-reads the job every `video.events_poll_seconds` on top),
to its first frame progress (after the reply was voiced) and to `done`.

Not a test: it prints its figures. Compare them only between runs on the same machine.
"""

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

from clonechats.providers.video.base import VideoRequest
from clonechats.providers.video.renderer import render_talking_head

ROOT = Path(__file__).resolve().parent.parent


def _samples():
    spec = importlib.util.spec_from_file_location("video_samples",
                                                  ROOT / "tests" / "video_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _still_clip(image: bytes, wav: bytes, size: int, threads: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        still, audio, out = (Path(folder) / name for name in ("face.png", "voice.wav",
                                                              "clip.mp4"))
        still.write_bytes(image)
        audio.write_bytes(wav)
        started = time.perf_counter()
        subprocess.run([  # noqa: S603 - fixed binary and arguments
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-loop", "1", "-i", str(still), "-i", str(audio), "-vf", f"scale={size}:{size}",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-pix_fmt",
            "yuv420p", "-threads", str(threads), "-c:a", "aac", "-b:a", "96k", "-shortest",
            "-movflags", "+faststart", str(out)], check=True)
        return time.perf_counter() - started, out.stat().st_size


async def _end_to_end(samples, rounds: int) -> None:
    import asyncio
    import tempfile as tmp

    import httpx

    from clonechats.accounts import passwords
    from clonechats.accounts.service import new_user
    from clonechats.app import create_app
    from clonechats.billing import ledger
    from clonechats.chat import repo as chat_repo
    from clonechats.media import images
    from clonechats.media import service as media_service
    from clonechats.settings import Settings

    with tmp.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, data_dir=Path(folder), dev_mode=True,
                            secret_key="b" * 40, log_json=False)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            ctx = app.state.ctx
            user = new_user(email="bench@example.com", now=ctx.clock.now(), status="active",
                            auth_provider="password", email_verified=True,
                            birth_date="1990-01-01", plan="pro",
                            password_hash=await passwords.hash_password("a bench passphrase!",
                                                                        rounds=4))
            await ctx.db.users.insert_one(user)
            await ledger.apply(ctx.db, user_id=user["_id"], delta=100_000, kind=ledger.GRANT,
                               reason="bench", idempotency_key="bench", now=ctx.clock.now())
            persona = {"_id": chat_repo.new_id(), "owner_id": user["_id"], "name": "Ada",
                       "avatar_media_id": None, "reference_image_ids": [],
                       "visibility": "private"}
            await ctx.db.personas.insert_one(persona)
            clean = await images.prepare_image(samples.face_image(512), max_side=512)
            await media_service.add_clean_image(ctx, owner_id=user["_id"],
                                                persona_id=persona["_id"], kind="avatar",
                                                image=clean)
            conversation_id = chat_repo.new_id()
            await ctx.db.conversations.insert_one({"_id": conversation_id, "owner_id":
                                                   user["_id"], "persona_id": persona["_id"]})
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                await http.get("/")
                login = await http.post("/api/v1/auth/login", json={
                    "email": "bench@example.com", "password": "a bench passphrase!"},
                    headers={"X-CSRF-Token": http.cookies.get("csrf_token", "")})
                assert login.status_code == 200, login.text
                headers = {"X-CSRF-Token": http.cookies.get("csrf_token", "")}
                firsts, claims, totals = [], [], []
                for n in range(rounds):
                    message_id = chat_repo.new_id()
                    await ctx.db.messages.insert_one({
                        "_id": message_id, "owner_id": user["_id"], "role": "assistant",
                        "status": "complete", "conversation_id": conversation_id,
                        "seq": n, "text": "Hello there! It is lovely to hear from you again. "
                        "Tell me everything about your day, and do not leave anything out."})
                    started = time.perf_counter()
                    response = await http.post(f"/api/v1/messages/{message_id}/video",
                                               headers=headers)
                    job_id = response.json()["job"]["id"]
                    first = claimed = None
                    while True:
                        job = await ctx.db.video_jobs.find_one({"_id": job_id})
                        now = time.perf_counter() - started
                        if claimed is None and job["status"] != "queued":
                            claimed = now
                        if first is None and job["status"] == "rendering" and job["progress"]:
                            first = now
                        if job["status"] in ("done", "failed", "cancelled"):
                            break
                        await asyncio.sleep(0.02)
                    assert job["status"] == "done", job.get("error")
                    firsts.append(first or 0.0)
                    claims.append(claimed or 0.0)
                    totals.append(time.perf_counter() - started)
        print(f"end to end ({rounds} replies of {job['duration_s']:.1f} s, jobs polled every "
              f"{settings.jobs.poll_seconds:g} s), medians: request -> `rendering` "
              f"{statistics.median(claims):.2f} s, -> first frame progress "
              f"{statistics.median(firsts):.2f} s (the voice is made first), -> done "
              f"{statistics.median(totals):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--end-to-end", action="store_true")
    args = parser.parse_args()
    samples = _samples()
    words = max(1, round(args.seconds / 1.25))
    plan = samples.speech_plan(words=words)
    wav = samples.speech_wav(plan)
    image = samples.face_image(720)
    request = VideoRequest(image=image, audio=wav, max_seconds=args.seconds)
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores visible; {args.rounds} rounds each")
    print(f"{'size':>5} {'thr':>3} {'s per video s':>14} {'RTF':>6} {'vs still':>9} "
          f"{'KB per s':>9} {'still KB/s':>10}")
    for size in (int(value) for value in args.sizes.split(",")):
        for threads in (int(value) for value in args.threads.split(",")):
            times, stills = [], []
            duration = size_bytes = still_bytes = 0.0
            for _ in range(args.rounds):
                started = time.perf_counter()
                video = render_talking_head(request, size=size, threads=threads)
                times.append(time.perf_counter() - started)
                duration, size_bytes = video.duration_s, len(video.video)
                elapsed, still_bytes = _still_clip(image, wav, size, threads)
                stills.append(elapsed)
            per_second = statistics.median(times) / duration
            ratio = statistics.median(times) / statistics.median(stills)
            print(f"{size:>5} {threads:>3} {per_second:>14.3f} {per_second:>6.2f} "
                  f"{ratio:>8.1f}x {size_bytes / duration / 1024:>9.1f} "
                  f"{still_bytes / duration / 1024:>10.1f}")
    if args.end_to_end:
        import asyncio

        asyncio.run(_end_to_end(samples, args.rounds))


if __name__ == "__main__":
    main()
