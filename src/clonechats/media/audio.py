"""Uploaded audio: checked by decoding it, never by its name, header or a client's claim.

Accepted: WAV (PCM), MP3, Ogg (Opus or Vorbis) and WebM holding only audio (Opus or Vorbis),
which is what browsers record. The type is first sniffed from the bytes (``media.sniffing``;
an audio-only WebM sniffs as ``video/webm``), then PyAV opens the bytes with the demuxer of that
sniffed type only, and the container, codec and streams must agree with it: a video stream, an
unexpected codec or a container that does not decode is refused. The duration is measured by
decoding every audio frame and counting samples (a header's claim is not trusted); decoding
stops as soon as the recording is known to be too long. ``check_audio`` runs that work in a
thread, off the event loop. The bytes are stored as uploaded once they pass.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import av

from clonechats.media.errors import MediaError, UnsupportedMediaType
from clonechats.media.sniffing import sniff_content_type

VOICE_MIN_SECONDS = 3.0
VOICE_MAX_SECONDS = 120.0
VOICE_MAX_BYTES = 10 * 1024 * 1024

AUDIO_UPLOAD_TYPES = frozenset({"audio/wav", "audio/mpeg", "audio/ogg", "video/webm"})


@dataclass(frozen=True, slots=True)
class _Container:
    demuxer: str  # the only demuxer PyAV may use for this sniffed type
    names: frozenset[str]  # what the opened container must call itself
    codecs: frozenset[str] | None  # None: any "pcm_*" codec
    content_type: str  # what the file is served as


_CONTAINERS = {
    "audio/wav": _Container("wav", frozenset({"wav"}), None, "audio/wav"),
    "audio/mpeg": _Container("mp3", frozenset({"mp3"}), frozenset({"mp3", "mp3float"}),
                             "audio/mpeg"),
    "audio/ogg": _Container("ogg", frozenset({"ogg"}), frozenset({"opus", "vorbis"}),
                            "audio/ogg"),
    "video/webm": _Container("matroska", frozenset({"matroska", "matroska,webm"}),
                             frozenset({"opus", "vorbis"}), "audio/webm"),
}
_DECODE_ERRORS = (av.FFmpegError, ValueError, OSError, IndexError, TypeError, EOFError,
                  ZeroDivisionError, OverflowError)


class InvalidAudio(MediaError):
    code = "invalid_audio"
    status = 422
    message = "The file is not a readable WAV, MP3, Ogg or WebM audio recording."


class AudioDurationOutOfRange(MediaError):
    code = "audio_duration_out_of_range"
    status = 422

    def __init__(self, *, min_seconds: float, max_seconds: float, too_long: bool) -> None:
        problem = "longer than" if too_long else "shorter than"
        limit = max_seconds if too_long else min_seconds
        super().__init__(
            f"The recording is {problem} {limit:g} seconds; it must last between "
            f"{min_seconds:g} and {max_seconds:g} seconds."
        )


@dataclass(frozen=True, slots=True)
class AudioInfo:
    content_type: str
    duration_seconds: float
    codec: str
    sample_rate: int
    channels: int


def inspect_audio(data: bytes, *, min_seconds: float = VOICE_MIN_SECONDS,
                  max_seconds: float = VOICE_MAX_SECONDS) -> AudioInfo:
    """What the recording is and how long it lasts; raises a MediaError (4xx) otherwise."""
    sniffed = sniff_content_type(data)
    expected = _CONTAINERS.get(sniffed or "")
    if expected is None:
        raise UnsupportedMediaType(sniffed)
    try:
        with av.open(io.BytesIO(data), mode="r", format=expected.demuxer) as container:
            if container.format.name not in expected.names:
                raise InvalidAudio
            if container.streams.video or not container.streams.audio:
                raise InvalidAudio("Only audio is accepted here: the file must hold a sound "
                                   "recording and no video.")
            stream = container.streams.audio[0]
            codec = stream.codec_context.name
            if not _codec_allowed(expected, codec):
                raise InvalidAudio
            samples, sample_rate, channels = _count_samples(container, stream, max_seconds)
    except MediaError:
        raise
    except _DECODE_ERRORS:
        raise InvalidAudio from None
    if sample_rate <= 0 or samples <= 0:
        raise InvalidAudio
    duration = samples / sample_rate
    if duration > max_seconds or duration < min_seconds:
        raise AudioDurationOutOfRange(min_seconds=min_seconds, max_seconds=max_seconds,
                                      too_long=duration > max_seconds)
    return AudioInfo(expected.content_type, round(duration, 3), codec, sample_rate, channels)


async def check_audio(data: bytes, *, min_seconds: float = VOICE_MIN_SECONDS,
                      max_seconds: float = VOICE_MAX_SECONDS) -> AudioInfo:
    return await asyncio.to_thread(inspect_audio, data, min_seconds=min_seconds,
                                   max_seconds=max_seconds)


def _codec_allowed(expected: _Container, codec: str) -> bool:
    if expected.codecs is None:
        return codec.startswith("pcm_")
    return codec in expected.codecs


def _count_samples(container: av.container.InputContainer, stream: av.AudioStream,
                   max_seconds: float) -> tuple[int, int, int]:
    """Decoded samples of the stream, stopping once past ``max_seconds``."""
    samples = 0
    sample_rate = 0
    channels = 0
    for frame in container.decode(stream):
        if frame.sample_rate <= 0:
            raise InvalidAudio
        if sample_rate and frame.sample_rate != sample_rate:
            raise InvalidAudio  # a stream whose rate changes midway is not a plain recording
        sample_rate = frame.sample_rate
        channels = frame.layout.nb_channels
        samples += frame.samples
        if samples / sample_rate > max_seconds:
            break
    return samples, sample_rate, channels
