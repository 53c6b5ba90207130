"""From raw samples to a file a browser plays, and from an uploaded file to samples.

`normalise` brings every voice to the same loudness: the RMS of the voiced 20 ms frames (those
within 40 dB of the loudest) is set to `TARGET_DBFS`, and the gain is capped so no sample
exceeds `PEAK_DBFS`, so a quiet espeak voice and a loud vendor voice play at the same level.
`encode_opus` writes mono Ogg/Opus (48 kHz, 32 kbit/s: speech-grade and compact) with PyAV;
`decode_to_pcm` turns vendor audio (MP3, WAV, Ogg) into int16 samples. All of it is CPU work:
callers run it in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import io

import av
import numpy as np

TARGET_DBFS = -20.0
PEAK_DBFS = -1.0
OPUS_RATE = 48_000
OPUS_BITRATE = 32_000
OPUS_CONTENT_TYPE = "audio/ogg"
_FRAME_S = 0.02


def normalise(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """int16 samples at the target loudness (silence stays silence)."""
    audio = samples.astype(np.float32) / 32768.0
    if audio.size == 0:
        return samples.astype(np.int16)
    frame = max(1, int(sample_rate * _FRAME_S))
    usable = audio[: audio.size - audio.size % frame] if audio.size >= frame else audio
    frames = usable.reshape(-1, frame) if usable.size >= frame else usable.reshape(1, -1)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    loudest = float(rms.max())
    if loudest <= 1e-5:
        return samples.astype(np.int16)
    voiced = rms[rms >= loudest * 10 ** (-40 / 20)]
    level = float(np.sqrt(np.mean(voiced ** 2)))
    gain = 10 ** (TARGET_DBFS / 20) / level
    peak = float(np.max(np.abs(audio)))
    gain = min(gain, 10 ** (PEAK_DBFS / 20) / peak)
    return np.clip(np.round(audio * gain * 32768.0), -32768, 32767).astype(np.int16)


def encode_opus(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono int16 samples as an Ogg/Opus file."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=OPUS_RATE)
        stream.bit_rate = OPUS_BITRATE
        stream.layout = "mono"
        resampler = av.AudioResampler(format="s16", layout="mono", rate=OPUS_RATE)
        frame = av.AudioFrame.from_ndarray(samples.astype(np.int16).reshape(1, -1),
                                           format="s16", layout="mono")
        frame.sample_rate = sample_rate
        for resampled in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(resampled):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def decode_to_pcm(data: bytes, *, rate: int | None = None,
                  fmt: str | None = None) -> tuple[np.ndarray, int]:
    """Mono int16 samples of an audio file, at `rate` (None: the file's own rate)."""
    with av.open(io.BytesIO(data), mode="r", format=fmt) as container:
        stream = container.streams.audio[0]
        target = rate or stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=target)
        parts = []
        for frame in container.decode(stream):
            for resampled in resampler.resample(frame):
                parts.append(resampled.to_ndarray().reshape(-1))
        for resampled in resampler.resample(None):
            parts.append(resampled.to_ndarray().reshape(-1))
    samples = np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)
    return samples, target


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono int16 samples as a WAV file (for vendors and tests that want a file)."""
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()
