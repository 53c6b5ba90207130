"""H.264/AAC MP4 encoding with the ffmpeg binary shipped by `imageio-ffmpeg`.

`Mp4Encoder` starts ffmpeg reading raw RGB frames from a pipe (nothing is written to disk frame
by frame) and the voice clip from a WAV file in a private temporary folder, and writes a
`+faststart` MP4 (H.264 yuv420p, AAC) that browsers play while it downloads. `poster_jpeg()`
makes the poster from a frame; `probe_mp4()` reads what an MP4 from elsewhere (a vendor) holds,
and `first_frame()` decodes its opening frame for a poster. Everything here blocks: call it in
a thread.
"""

import contextlib
import io
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import av
import imageio_ffmpeg
import numpy as np
from PIL import Image

from clonechats.providers.errors import ProviderUnavailable

POSTER_QUALITY = 85


class EncoderFailed(ProviderUnavailable):
    """ffmpeg stopped with an error (logged without user content)."""


class Mp4Encoder:
    def __init__(self, *, width: int, height: int, fps: int, wav: bytes, max_seconds: float,
                 threads: int = 2, crf: int = 23, preset: str = "veryfast") -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="clonechats-video-")
        folder = Path(self._folder.name)
        self._audio = folder / "voice.wav"
        self._audio.write_bytes(wav)
        self._output = folder / "clip.mp4"
        self._log = (folder / "ffmpeg.log").open("wb")
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps),
            "-i", "pipe:0", "-i", str(self._audio),
            "-map", "0:v:0", "-map", "1:a:0",
            "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-threads", str(threads), "-c:a", "aac", "-b:a", "96k",
            "-t", f"{max_seconds:.3f}", "-shortest", "-movflags", "+faststart",
            str(self._output),
        ]
        self._process = subprocess.Popen(  # noqa: S603 - a fixed binary and arguments
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        self._frame_bytes = width * height * 3

    def write(self, frame: np.ndarray) -> None:
        data = np.ascontiguousarray(frame, dtype=np.uint8).tobytes()
        if len(data) != self._frame_bytes:
            raise ValueError("frame has the wrong size")
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(data)
        except BrokenPipeError:
            raise self._failure() from None

    def finish(self) -> bytes:
        assert self._process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._process.stdin.close()
        if self._process.wait() != 0 or not self._output.exists():
            raise self._failure()
        return self._output.read_bytes()

    def abort(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()

    def _failure(self) -> EncoderFailed:
        self.abort()
        self._log.flush()
        detail = (Path(self._folder.name) / "ffmpeg.log").read_bytes()[-300:]
        return EncoderFailed(f"the encoder failed: {detail.decode(errors='replace').strip()}",
                             provider="local", code="encoder_failed")

    def close(self) -> None:
        self.abort()
        self._log.close()
        self._folder.cleanup()

    def __enter__(self) -> "Mp4Encoder":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def poster_jpeg(frame: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(frame).save(out, "JPEG", quality=POSTER_QUALITY, optimize=True)
    return out.getvalue()


def probe_mp4(data: bytes) -> tuple[float, int, int]:
    """(duration in seconds, width, height) of an MP4, decoded from its streams."""
    with av.open(io.BytesIO(data), mode="r", format="mp4") as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        return duration, stream.codec_context.width, stream.codec_context.height


def first_frame(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data), mode="r", format="mp4") as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="rgb24")
    raise ValueError("no frame")
