"""Recordings sent for transcription: checked by decoding, measured, made ready for STT.

A recording must be a WAV, MP3, Ogg, WebM (what browsers record) or MP4/M4A audio file, not
empty, at most `speech.max_input_bytes` and `speech.max_input_seconds` long, with 1 or 2
channels at 8 to 96 kHz, and it must hold some sound: one whose loudest 30 ms stays below
`SILENCE_DBFS` is refused as silent. It is decoded to 16 kHz mono float32 samples for the STT
engine; the file itself is never stored. The work runs in a thread, off the event loop.
"""

import asyncio
import io

import av
import numpy as np

from clonechats.errors import AppError
from clonechats.media import audio as media_audio
from clonechats.media.errors import MediaTooLarge
from clonechats.providers.speech.base import STT_SAMPLE_RATE, SpeechInput

MIN_SECONDS = 0.2
MIN_RATE, MAX_RATE = 8_000, 96_000
MAX_CHANNELS = 2
SILENCE_DBFS = -45.0


class EmptyRecording(AppError):
    code = "empty_audio"
    status = 422
    message = "The recording is empty. Record something and try again."


class SilentRecording(AppError):
    code = "no_speech"
    status = 422
    message = "No speech was heard in the recording. Check the microphone and try again."


class UnsupportedRecording(AppError):
    code = "unsupported_audio_format"
    status = 422


def _check_format(info: media_audio.AudioInfo) -> None:
    if not MIN_RATE <= info.sample_rate <= MAX_RATE:
        raise UnsupportedRecording(f"The recording's sample rate ({info.sample_rate} Hz) is not "
                                   f"supported; use {MIN_RATE // 1000} to "
                                   f"{MAX_RATE // 1000} kHz.")
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise UnsupportedRecording(f"The recording has {info.channels} channels; send mono or "
                                   "stereo audio.")


def _decode(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=STT_SAMPLE_RATE)
        parts: list[np.ndarray] = []
        for frame in container.decode(stream):
            parts.extend(r.to_ndarray().reshape(-1) for r in resampler.resample(frame))
        parts.extend(r.to_ndarray().reshape(-1) for r in resampler.resample(None))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def is_silent(samples: np.ndarray) -> bool:
    frame = int(STT_SAMPLE_RATE * 0.03)
    if samples.size < frame:
        return True
    usable = samples[: samples.size - samples.size % frame].reshape(-1, frame)
    loudest = float(np.sqrt(np.mean(usable.astype(np.float64) ** 2, axis=1)).max())
    return loudest < 10 ** (SILENCE_DBFS / 20)


def prepare_blocking(data: bytes, *, max_seconds: float, max_bytes: int) -> SpeechInput:
    if not data:
        raise EmptyRecording()
    if len(data) > max_bytes:
        raise MediaTooLarge(max_bytes)
    try:
        info = media_audio.inspect_audio(data, min_seconds=MIN_SECONDS, max_seconds=max_seconds)
    except media_audio.AudioDurationOutOfRange as exc:
        if "shorter" in exc.message:
            raise EmptyRecording("The recording is too short to hold any speech.") from None
        raise AppError(f"The recording is longer than {max_seconds:g} seconds; send a "
                       "shorter one.", code="audio_too_long", status=422) from None
    _check_format(info)
    try:
        samples = _decode(data)
    except (av.FFmpegError, ValueError, OSError, IndexError):
        raise media_audio.InvalidAudio() from None
    if is_silent(samples):
        raise SilentRecording()
    return SpeechInput(samples=samples, duration_s=info.duration_seconds, original=data,
                       content_type=info.content_type)


async def prepare(data: bytes, *, max_seconds: float, max_bytes: int) -> SpeechInput:
    return await asyncio.to_thread(prepare_blocking, data, max_seconds=max_seconds,
                                   max_bytes=max_bytes)
