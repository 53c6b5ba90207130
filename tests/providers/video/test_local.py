"""The local renderer: a real MP4 whose mouth opens with the voice, with blinks, progress,
cancellation, the length cap, and the render kept off the event loop."""

import asyncio
import io

import av
import cv2
import numpy as np
import pytest

from clonechats.providers.video import faces
from clonechats.providers.video.animation import Portrait
from clonechats.providers.video.base import (
    PhonemeTiming,
    VideoCancelled,
    VideoInputError,
    VideoProvider,
    VideoRequest,
)
from clonechats.providers.video.local import LocalVideoProvider
from clonechats.providers.video.speech import load_speech, loudness_envelope
from tests.video_samples import face_image, landscape_image, speech_plan, speech_wav

FPS = 25


def _decode(mp4: bytes) -> tuple[list[np.ndarray], list[str], float]:
    with av.open(io.BytesIO(mp4), format="mp4") as container:
        codecs = [stream.codec_context.name for stream in container.streams]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        duration = container.duration / av.time_base
    return frames, codecs, duration


def _mouth_darkness(frames: list[np.ndarray], image: bytes, size: int) -> np.ndarray:
    """Per frame: the share of dark pixels just below the lip seam (the open mouth)."""
    pixels = faces.decode_image(image)
    mouth = Portrait.prepare(pixels, faces.find_face(pixels), size=size).layout.mouth
    x0, x1 = int(mouth.x), int(mouth.x + mouth.w)
    y0, y1 = int(mouth.cy - mouth.h * 0.3), int(mouth.cy + mouth.h * 2.5)
    values = []
    for frame in frames:
        region = frame[y0:y1, x0:x1].astype(np.float32).mean(axis=2)
        values.append(float((region < 70).mean()))
    return np.array(values)


async def _render(provider: LocalVideoProvider, request: VideoRequest, **kwargs):
    ref = await provider.submit(request, **kwargs)
    return ref, await provider.result(ref)


async def test_renders_an_mp4_whose_mouth_moves_with_the_voice() -> None:
    plan = speech_plan(words=4, syllables=3)
    wav, image = speech_wav(plan), face_image(640, fmt="JPEG")
    provider = LocalVideoProvider()
    assert isinstance(provider, VideoProvider)

    _, video = await _render(provider, VideoRequest(image=image, audio=wav))

    frames, codecs, duration = _decode(video.video)
    assert codecs == ["h264", "aac"]
    assert (video.width, video.height) == (512, 512) == frames[0].shape[1::-1]
    assert duration == pytest.approx(video.duration_s, abs=0.1)
    assert len(frames) == pytest.approx(video.duration_s * FPS, abs=2)
    assert video.poster[:3] == b"\xff\xd8\xff"  # a JPEG

    darkness = _mouth_darkness(frames, image, 512)
    envelope = loudness_envelope(load_speech(wav, max_seconds=30), FPS)[:len(frames)]
    loud = envelope > 0.6
    silent = envelope == 0
    assert loud.sum() > 20 and silent.sum() > 20
    # Open where loud, shut where silent, and in step frame by frame.
    assert darkness[loud].mean() > 0.15
    assert darkness[silent].mean() < 0.02
    assert darkness[loud].mean() > 10 * max(darkness[silent].mean(), 0.001)
    assert np.corrcoef(darkness, envelope)[0, 1] > 0.7


async def test_the_eyes_blink_and_the_head_moves() -> None:
    image = face_image(512)
    wav = speech_wav(speech_plan(words=6))
    _, video = await _render(LocalVideoProvider(size=256), VideoRequest(image=image, audio=wav))
    frames, _, _ = _decode(video.video)
    pixels = faces.decode_image(image)
    eye = Portrait.prepare(pixels, faces.find_face(pixels), size=256).layout.left_eye
    region = (slice(int(eye.y), int(eye.y + eye.h)), slice(int(eye.x), int(eye.x + eye.w)))
    # The iris is dark; a closed lid hides it, so dark pixels vanish for a few frames.
    dark = np.array([(frame[region].mean(axis=2) < 80).mean() for frame in frames])
    assert dark.max() > 0.1
    assert (dark < dark.max() * 0.3).sum() >= 2
    # The head moves a little: the upper face shifts by a pixel or more, never by much.
    def upper(frame: np.ndarray) -> np.ndarray:
        return frame[:110].mean(axis=2).astype(np.float64)

    shifts = [np.hypot(*cv2.phaseCorrelate(upper(frames[0]), upper(frame))[0])
              for frame in frames[::5]]
    assert 1.0 < max(shifts) < 12


async def test_phoneme_timings_open_and_close_the_mouth() -> None:
    plan = [(0.3, 1.5)]
    wav, image = speech_wav(plan), face_image(512)
    phonemes = (PhonemeTiming("m", 0.3, 0.7), PhonemeTiming("a", 0.7, 1.1),
                PhonemeTiming("m", 1.1, 1.5))
    _, video = await _render(LocalVideoProvider(),
                             VideoRequest(image=image, audio=wav, phonemes=phonemes))
    darkness = _mouth_darkness(_decode(video.video)[0], image, 512)
    assert darkness[int(0.9 * FPS)] > 0.15  # "a": wide open
    assert darkness[int(0.45 * FPS)] < 0.05  # "m": lips together
    assert darkness[int(1.35 * FPS)] < 0.05


async def test_progress_rises_to_one_and_the_loop_stays_free() -> None:
    reports: list[float] = []

    async def on_progress(value: float) -> None:
        reports.append(value)

    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    provider = LocalVideoProvider(size=256)
    task = asyncio.create_task(ticker())
    await _render(provider, VideoRequest(image=face_image(), audio=speech_wav()),
                  on_progress=on_progress)
    done.set()
    await task

    assert len(reports) >= 10
    assert reports == sorted(reports) and reports[-1] == 1.0
    assert ticks > 100  # the loop kept running while frames rendered in a thread


async def test_output_is_capped_at_max_seconds() -> None:
    wav = speech_wav(speech_plan(words=8))
    _, video = await _render(LocalVideoProvider(size=256),
                             VideoRequest(image=face_image(), audio=wav, max_seconds=2.0))
    frames, _, duration = _decode(video.video)
    assert video.duration_s == pytest.approx(2.0, abs=0.05)
    assert duration == pytest.approx(2.0, abs=0.15)
    assert len(frames) == pytest.approx(50, abs=2)


async def test_cancel_stops_the_render() -> None:
    provider = LocalVideoProvider(size=256)
    ref_holder: list = []
    reports: list[float] = []

    async def on_progress(value: float) -> None:
        reports.append(value)
        if len(reports) == 1:
            assert await provider.cancel(ref_holder[0]) is True

    ref = await provider.submit(VideoRequest(image=face_image(),
                                             audio=speech_wav(speech_plan(words=10))),
                                on_progress=on_progress)
    ref_holder.append(ref)
    with pytest.raises(VideoCancelled):
        await provider.result(ref)
    assert reports[-1] < 0.9
    assert await provider.cancel(ref) is False  # nothing left to stop


async def test_an_image_without_a_face_fails_the_render_clearly() -> None:
    provider = LocalVideoProvider(size=256)
    ref = await provider.submit(VideoRequest(image=landscape_image(), audio=speech_wav()))
    with pytest.raises(VideoInputError) as caught:
        await provider.result(ref)
    assert caught.value.code == "no_face_image"
