"""Local talking-head rendering: time per second of video and file size per second.

    .venv/bin/python bench/video.py [--seconds 10] [--sizes 256,512] [--threads 1,2] [--rounds 3]

For each output size and ffmpeg thread count, renders a clip of `--seconds` seconds of
speech-like audio over a drawn face with `renderer.render_talking_head` (face finding, mouth
curves, every frame drawn and piped to ffmpeg, H.264/AAC) and, in the same run as the baseline,
the cheapest possible clip of the same length and size: one still image looped by ffmpeg
(`-loop 1 -tune stillimage`), i.e. what a slideshow costs. Prints, per setting, the median
render time per second of video (below 1.0 s is faster than real time), the real-time factor,
the ratio to the still-image baseline, and the file size per second of video.

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
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


if __name__ == "__main__":
    main()
