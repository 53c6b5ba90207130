"""The video provider contract: a face image and a voice clip in, a lip-synced MP4 out.

A provider works like a queue: `submit()` starts a render and returns a `VideoJobRef` (the
provider's job id plus whatever else it needs later, all plain strings so the caller can keep
it in a document), `status()` says how far it got, `result()` returns the finished video and
`cancel()` stops it. A provider that renders inside this process (`local`) finishes the work in
`result()`, which waits for it; a remote one (`fal`) raises `VideoNotReady` until `status()` is
done. Failures are `ProviderError`s: a bad input (no face, a tiny or unreadable image, unreadable
audio) is a `VideoInputError`, which is never retried.

Providers never decide who may render what, never store anything and never meter: the video
jobs in the media domain do. Only the image and the voice clip leave this process.
"""

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from clonechats.providers.errors import ProviderRejected

VideoState = Literal["queued", "rendering", "done", "failed", "cancelled"]
ProgressCallback = Callable[[float], Coroutine[Any, Any, None]]
"""`await on_progress(fraction)`, called on the event loop as frames render (0..1)."""


@dataclass(frozen=True)
class PhonemeTiming:
    """One phoneme of the speech (IPA, as Piper/espeak write it) and when it sounds."""

    phoneme: str
    start_s: float
    end_s: float


@dataclass(frozen=True, kw_only=True)
class VideoRequest:
    """What to render: the face image, the voice clip and, when the TTS gave them, phonemes."""

    image: bytes
    audio: bytes
    phonemes: tuple[PhonemeTiming, ...] = ()
    max_seconds: float = 30.0
    idempotency_key: str = ""

    def __post_init__(self) -> None:
        if not self.image:
            raise ValueError("image must not be empty")
        if not self.audio:
            raise ValueError("audio must not be empty")
        if self.max_seconds <= 0:
            raise ValueError("max_seconds must be positive")


@dataclass(frozen=True)
class VideoJobRef:
    """The provider's handle on one render; `data` holds its URLs or other plain strings."""

    provider: str
    job_id: str
    data: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"provider": self.provider, "job_id": self.job_id, "data": dict(self.data)}

    @classmethod
    def from_dict(cls, value: Mapping[str, object]) -> "VideoJobRef":
        data = value.get("data") or {}
        return cls(str(value["provider"]), str(value["job_id"]),
                   {str(k): str(v) for k, v in dict(data).items()})  # type: ignore[call-overload]


@dataclass(frozen=True)
class VideoStatus:
    state: VideoState
    progress: float | None = None  # 0..1 where the provider knows; None otherwise
    queue_position: int | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class RenderedVideo:
    """A finished H.264/AAC MP4, its JPEG poster frame and what it measures."""

    video: bytes
    poster: bytes
    duration_s: float
    width: int
    height: int
    content_type: str = "video/mp4"
    poster_content_type: str = "image/jpeg"


class VideoInputError(ProviderRejected):
    """The image or audio cannot be rendered (no face, too small, unreadable)."""

    def __init__(self, message: str, *, code: str, provider: str = "video") -> None:
        super().__init__(message, provider=provider, code=code)


class NoFaceFound(VideoInputError):
    def __init__(self, provider: str = "video") -> None:
        super().__init__("No face was found in the persona's image. Use a clear, front-facing "
                         "photo or drawing of a face.", code="no_face_image", provider=provider)


class VideoNotReady(ProviderRejected):
    """`result()` was asked for before the render finished."""

    retryable = True


class VideoCancelled(ProviderRejected):
    """The render was cancelled before it finished."""


@runtime_checkable
class VideoProvider(Protocol):
    name: str

    async def submit(self, request: VideoRequest, *,
                     on_progress: ProgressCallback | None = None) -> VideoJobRef:
        """Start rendering `request`; returns at once with the provider's handle."""
        ...

    async def status(self, ref: VideoJobRef) -> VideoStatus:
        ...

    async def result(self, ref: VideoJobRef) -> RenderedVideo:
        """The finished video (waiting for an in-process render; else `VideoNotReady`)."""
        ...

    async def cancel(self, ref: VideoJobRef) -> bool:
        """Stop the render; True if it was stopped or asked to stop, False if already over."""
        ...
