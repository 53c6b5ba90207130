"""Audio uploads are decoded to be believed: format, codec and duration come from the content.

The recordings are generated here: WAV with `wave`, MP3 (libmp3lame), Ogg Opus (libopus),
Ogg Vorbis (FFmpeg's native encoder: the PyAV wheel has no libvorbis) and WebM Opus with PyAV.
"""

from __future__ import annotations

import struct

import pytest

from clonechats.media.audio import (
    AudioDurationOutOfRange,
    InvalidAudio,
    check_audio,
    inspect_audio,
)
from clonechats.media.errors import UnsupportedMediaType
from tests.media.samples import encoded_audio, image_bytes, wav_bytes, webm_with_video

ENCODED = [
    ("mp3", "libmp3lame", "audio/mpeg", {"mp3", "mp3float"}),
    ("ogg", "libopus", "audio/ogg", {"opus"}),
    ("ogg", "vorbis", "audio/ogg", {"vorbis"}),
    ("webm", "libopus", "audio/webm", {"opus"}),
    ("webm", "vorbis", "audio/webm", {"vorbis"}),
]


def test_wav_is_measured_by_decoding() -> None:
    info = inspect_audio(wav_bytes(4.0))
    assert info.content_type == "audio/wav"
    assert info.duration_seconds == pytest.approx(4.0, abs=0.01)
    assert info.codec == "pcm_s16le" and info.sample_rate == 8000 and info.channels == 1


@pytest.mark.parametrize(("container", "codec", "content_type", "decoders"), ENCODED)
def test_compressed_recordings_are_accepted(container: str, codec: str, content_type: str,
                                            decoders: set[str]) -> None:
    info = inspect_audio(encoded_audio(container, codec, 5.0))
    assert info.content_type == content_type
    assert info.codec in decoders
    assert info.duration_seconds == pytest.approx(5.0, abs=0.1)


@pytest.mark.parametrize(("data", "too_long"), [
    (wav_bytes(2.0), False),
    (wav_bytes(121.0, rate=2000), True),
    (encoded_audio("ogg", "libopus", 1.0), False),
    (encoded_audio("mp3", "libmp3lame", 2.5), False),
])
def test_recordings_outside_3_to_120_seconds_are_refused(data: bytes, too_long: bool) -> None:
    with pytest.raises(AudioDurationOutOfRange) as refused:
        inspect_audio(data)
    assert refused.value.status == 422
    assert ("longer than 120" if too_long else "shorter than 3") in refused.value.message


def test_a_header_that_claims_a_long_recording_is_not_believed() -> None:
    data = bytearray(wav_bytes(1.0))
    data_at = data.index(b"data")
    claimed = 8000 * 2 * 60  # a data chunk of one minute, with one second present
    data[data_at + 4:data_at + 8] = struct.pack("<I", claimed)
    data[4:8] = struct.pack("<I", claimed + 36)
    with pytest.raises(AudioDurationOutOfRange):
        inspect_audio(bytes(data))


def test_a_png_named_like_audio_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType) as refused:
        inspect_audio(image_bytes("PNG"))
    assert refused.value.status == 415 and refused.value.content_type == "image/png"


def test_a_webm_with_video_is_refused() -> None:
    with pytest.raises(InvalidAudio) as refused:
        inspect_audio(webm_with_video())
    assert "no video" in refused.value.message


@pytest.mark.parametrize("data", [
    b"OggS" + b"\x00" * 400,  # Ogg magic, nothing decodable
    b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\xff" * 64,  # a WAV header full of nonsense
    b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 500,  # an ID3 tag and no audio
    wav_bytes(4.0)[:44],  # a WAV header with no samples
])
def test_garbage_behind_a_valid_magic_number_is_refused(data: bytes) -> None:
    with pytest.raises((InvalidAudio, UnsupportedMediaType)) as refused:
        inspect_audio(data)
    assert 400 <= refused.value.status < 500


def test_text_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        inspect_audio(b"This is a plain text file pretending to be audio/mpeg.")


async def test_check_audio_runs_off_the_event_loop() -> None:
    info = await check_audio(wav_bytes(3.5))
    assert info.duration_seconds == pytest.approx(3.5, abs=0.01)
