"""From a voice clip to mouth shapes: the audio itself, its loudness and its visemes.

`load_speech()` decodes the clip with PyAV (WAV, MP3, Ogg, WebM, M4A), mixes it to mono 16-bit
PCM at its own rate, cuts it to `max_seconds`, and keeps it as a WAV the encoder can read and a
float copy for analysis. `mouth_curves()` turns it into two values per video frame:
`open` (0 closed .. 1 wide open) and `width` (below 1: rounded lips, above 1: spread lips).

With phoneme timings (Piper gives them), each frame takes the mouth shape of the phoneme that
sounds then (a small viseme table: bilabials close the lips, open vowels open them wide, rounded
vowels narrow them), smoothed across neighbouring frames as speech blends sounds, and closed
where the audio is silent. Without them, the loudness envelope drives `open` (RMS per frame, in
dB below the clip's loud level, with a noise gate), and the share of high frequencies drives
`width`. Everything here is CPU work: call it in a thread.
"""

import io
import wave
from dataclasses import dataclass

import av
import numpy as np

from clonechats.providers.video.base import PhonemeTiming, VideoInputError

MIN_SECONDS = 0.2
SILENCE_DB = -42.0  # below the loud level: the mouth is shut
FULL_DB = -8.0  # at or above: fully open


@dataclass(frozen=True)
class Speech:
    wav: bytes  # mono 16-bit PCM WAV, at most max_seconds long
    samples: np.ndarray  # float32 in -1..1
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class MouthCurves:
    open: np.ndarray  # per frame, 0..1
    width: np.ndarray  # per frame, about 0.75..1.15
    loudness: np.ndarray  # per frame, 0..1 (the gated envelope), for head motion


def load_speech(data: bytes, *, max_seconds: float) -> Speech:
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise VideoInputError("The voice clip holds no audio.", code="invalid_audio")
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or 24000
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            chunks: list[np.ndarray] = []
            limit = int(max_seconds * rate)
            total = 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total >= limit:
                    break
    except VideoInputError:
        raise
    except (av.FFmpegError, ValueError, OSError, IndexError, EOFError):
        raise VideoInputError("The voice clip is not readable audio.",
                              code="invalid_audio") from None
    pcm = np.concatenate(chunks)[:limit] if chunks else np.zeros(0, np.int16)
    if len(pcm) < MIN_SECONDS * rate:
        raise VideoInputError("The voice clip is too short to animate.", code="invalid_audio")
    return Speech(_wav_bytes(pcm.astype(np.int16), rate), pcm.astype(np.float32) / 32768.0,
                  rate)


def _wav_bytes(pcm: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm.tobytes())
    return out.getvalue()


def frame_count(speech: Speech, fps: int) -> int:
    return max(1, round(speech.duration_s * fps))


def loudness_envelope(speech: Speech, fps: int) -> np.ndarray:
    """0..1 per frame: RMS over a 40 ms window at each frame's time, gated and scaled in dB."""
    frames = frame_count(speech, fps)
    rate = speech.sample_rate
    half = int(rate * 0.02)
    padded = np.pad(speech.samples, (half, half + rate // fps))
    centres = (np.arange(frames) * rate / fps).astype(int) + half
    windows = np.stack([padded[c - half:c + half] for c in centres])
    rms = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1)) + 1e-9
    db = 20 * np.log10(rms)
    loud = np.percentile(db, 95) if frames > 1 else db.max()
    relative = db - loud
    level = np.clip((relative - SILENCE_DB) / (FULL_DB - SILENCE_DB), 0.0, 1.0)
    level[db < -60] = 0.0  # digital silence, whatever the clip's loud level
    return level.astype(np.float32)


def _brightness(speech: Speech, fps: int) -> np.ndarray:
    """0..1 per frame: the share of spectral energy above 2.5 kHz (high for 'ee', 's')."""
    frames = frame_count(speech, fps)
    rate = speech.sample_rate
    size = 512
    padded = np.pad(speech.samples, (size, size + rate // fps))
    centres = (np.arange(frames) * rate / fps).astype(int) + size
    windows = np.stack([padded[c - size // 2:c + size // 2] for c in centres]) * np.hanning(size)
    spectrum = np.abs(np.fft.rfft(windows, axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / rate)
    high = spectrum[:, freqs >= 2500].sum(axis=1)
    return (high / (spectrum.sum(axis=1) + 1e-12)).astype(np.float32)


# (open, width) per phoneme; IPA as espeak-ng (Piper) writes it. Length marks are stripped.
_VISEMES: dict[str, tuple[float, float]] = {}
for chars, shape in (
    ("pbm", (0.0, 0.95)),  # lips pressed
    ("fv", (0.12, 1.0)),  # lower lip to teeth
    ("aɑæɐäʌa", (1.0, 1.05)),  # open vowels
    ("ɛeəɜɚœø", (0.6, 1.05)),  # mid vowels
    ("iɪyɨ", (0.32, 1.15)),  # close front, spread
    ("oɔɒ", (0.7, 0.8)),  # rounded mid
    ("uʊɯw", (0.35, 0.72)),  # rounded close
    ("tdnlɾszʃʒθðɹrjçxkgɡŋhʔʁɣ", (0.28, 1.0)),  # tongue and throat consonants
):
    for char in chars:
        _VISEMES[char] = shape
_PAUSES = set(" _^$.,;:!?-—…'\"")


def viseme(phoneme: str) -> tuple[float, float] | None:
    """The (open, width) target of a phoneme; None for a pause."""
    bare = phoneme.replace("ː", "").replace("ˈ", "").replace("ˌ", "").strip()
    if not bare or all(char in _PAUSES for char in bare):
        return None
    for char in bare:
        if char in _VISEMES:
            return _VISEMES[char]
    return (0.4, 1.0)  # an unlisted sound still moves the mouth a little


def _smooth(values: np.ndarray, fps: int, seconds: float) -> np.ndarray:
    width = max(1, round(seconds * fps))
    if width <= 1:
        return values
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= kernel.sum()
    return np.convolve(np.pad(values, (width, width), mode="edge"), kernel,
                       mode="same")[width:-width].astype(np.float32)


def mouth_curves(speech: Speech, fps: int,
                 phonemes: tuple[PhonemeTiming, ...] = ()) -> MouthCurves:
    loudness = loudness_envelope(speech, fps)
    frames = len(loudness)
    times = (np.arange(frames) + 0.5) / fps
    if phonemes:
        opening: np.ndarray = np.zeros(frames, np.float32)
        width: np.ndarray = np.ones(frames, np.float32)
        for item in phonemes:
            shape = viseme(item.phoneme)
            if shape is None:
                continue
            inside = (times >= item.start_s) & (times < max(item.end_s, item.start_s + 1 / fps))
            opening[inside], width[inside] = shape
        voiced = _smooth((loudness > 0.05).astype(np.float32), fps, 0.06)
        opening = _smooth(opening, fps, 0.08) * np.clip(voiced * 1.5, 0, 1)
        width = _smooth(width, fps, 0.1)
    else:
        opening = _smooth(loudness, fps, 0.08) ** 0.8
        bright = _smooth(_brightness(speech, fps), fps, 0.1)
        width = 0.82 + 0.33 * np.clip(bright * 2.5, 0, 1)
        width = np.where(opening > 0.05, width, 1.0).astype(np.float32)
    return MouthCurves(np.clip(opening, 0, 1).astype(np.float32), width.astype(np.float32),
                       loudness)
