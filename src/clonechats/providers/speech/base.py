"""The speech provider contract: text in, audio out (TTS); audio in, text out (STT).

A `TTSProvider` lists the voices it offers (`voices()`) and turns one piece of text into a
`Synthesis` for one of them: mono 16-bit PCM samples at the provider's own rate, their length,
the language spoken, an id of the vendor's request where it has one, and timings where the
engine reports them (Piper: one per phoneme, with the word it belongs to). Encoding for the web
(loudness normalisation, Ogg/Opus) happens after, in `providers.speech.encoding`, the same for
every provider. A provider that can clone a voice from a reference recording also implements
`VoiceCloner`.

An `STTProvider` takes a `SpeechInput` (mono float32 samples at 16 kHz, already decoded and
checked by the caller) and returns a `Transcript`. Failures raise `providers.errors`
exceptions, never a vendor's or an SDK's own.

Voice ids are "provider:name" (`local:piper-joe`, `openai:alloy`, `elevenlabs:<voice id>`).
"""

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

VoiceKind = Literal["stock", "cloned"]
STT_SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class VoiceInfo:
    id: str  # "provider:name"
    provider: str
    label: str  # what the voice picker shows, honest about how it sounds
    language: str  # BCP 47, e.g. "en-US", "es", "hi"
    kind: VoiceKind = "stock"
    engine_voice: str = ""  # the provider's own name for it (model file, espeak voice, ...)

    @property
    def name(self) -> str:
        return self.id.split(":", 1)[1]


@dataclass(frozen=True)
class Timing:
    """One unit of the synthesised audio: a phoneme (with its word) or a whole word."""

    start_s: float
    end_s: float
    phoneme: str | None = None
    word: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "phoneme": self.phoneme, "word": self.word}


@dataclass(frozen=True)
class Synthesis:
    samples: np.ndarray  # int16, mono
    sample_rate: int
    language: str
    provider: str
    voice_id: str
    provider_job_id: str | None = None
    timings: tuple[Timing, ...] = ()

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class SpeechInput:
    samples: np.ndarray  # float32 in [-1, 1], mono, STT_SAMPLE_RATE
    duration_s: float
    original: bytes = b""  # the uploaded file as sent, for vendors that take a file
    content_type: str = "audio/wav"


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None
    duration_s: float
    provider: str
    words: tuple[Timing, ...] = field(default=())


@runtime_checkable
class TTSProvider(Protocol):
    name: str

    def voices(self) -> list[VoiceInfo]:
        """Every voice this provider offers on this server."""
        ...

    async def synthesize(self, text: str, *, voice: VoiceInfo, rate: float = 1.0) -> Synthesis:
        """The text spoken by `voice` at `rate` (1.0 normal, 0.5..2.0)."""
        ...


@runtime_checkable
class VoiceCloner(Protocol):
    async def clone_voice(self, *, name: str, samples: list[tuple[bytes, str]]) -> str:
        """A new voice made from reference recordings ((bytes, content type) pairs); returns
        the vendor's voice id."""
        ...

    async def delete_voice(self, voice_name: str) -> None: ...


@runtime_checkable
class STTProvider(Protocol):
    name: str

    async def transcribe(self, audio: SpeechInput, *, language: str | None = None) -> Transcript:
        """What was said; `language` (ISO 639-1) when known, else the provider detects it."""
        ...
