"""fal.ai's queue API (https://queue.fal.run) with plain httpx: submit, status, result, cancel.

  submit  POST {queue}/{model_id}[?fal_webhook=<url>]   body: the model's input JSON
          -> {"request_id", "status_url", "response_url", "cancel_url", ...}
  status  GET  status_url   -> {"status": "IN_QUEUE"|"IN_PROGRESS"|"COMPLETED", "queue_position",
                                "error"?, "error_type"?}
  result  GET  response_url -> the model output, `{"video": {"url", "content_type", ...}}`
  cancel  PUT  cancel_url   -> 202 {"status": "CANCELLATION_REQUESTED"};
                               400 {"status": "ALREADY_COMPLETED"}; 404 when unknown
Every call sends `Authorization: Key <key>`. The URLs the submit reply returns are kept in the
`VideoJobRef` and used as given: for a model id with a sub-path, status and result live under
the owner/alias only, which those URLs already account for (they are rebuilt that way when a
reply lacks them).

Only the voice clip (cut to `max_seconds`, as WAV) and the image (re-encoded as a JPEG without
metadata, at most 1024 px) are sent, inline as `data:` URIs inside the request, so no public
link to them exists; `X-Fal-Object-Lifecycle-Preference` asks fal.ai to delete the rendered file
from its CDN after `media_ttl_seconds`, and the file is copied here as soon as it is done.
Failures become `ProviderError`s: 401/403 auth, 402/quota, 408/409/429/5xx/timeouts retryable,
other 4xx rejected; a finished request that failed is reported by `status()` as `failed`.
"""

import asyncio
import base64
import io
import json
from typing import Any
from urllib.parse import quote

import httpx
from PIL import Image

from clonechats.providers.errors import ProviderError, ProviderRejected, ProviderUnavailable
from clonechats.providers.llm.vendor_http import error_for_status, retry_after_header
from clonechats.providers.video import encoding, faces, speech
from clonechats.providers.video.base import (
    ProgressCallback,
    RenderedVideo,
    VideoJobRef,
    VideoNotReady,
    VideoRequest,
    VideoStatus,
)

DEFAULT_QUEUE_URL = "https://queue.fal.run"
IMAGE_MAX_SIDE = 1024
_STATES = {"IN_QUEUE": "queued", "IN_PROGRESS": "rendering"}


def app_path(model_id: str) -> str:
    """owner/alias of a model id: where its status, result and cancel URLs live."""
    return "/".join(model_id.strip("/").split("/")[:2])


class FalVideoProvider:
    name = "fal"

    def __init__(self, *, api_key: str, model_id: str, http: httpx.AsyncClient,
                 queue_url: str = DEFAULT_QUEUE_URL, prompt: str = "",
                 extra_input: dict[str, Any] | None = None, webhook_url: str | None = None,
                 media_ttl_seconds: int = 3600, timeout_seconds: float = 30.0,
                 max_download_bytes: int = 100 * 1024 * 1024) -> None:
        if not api_key:
            raise ValueError("fal.ai needs an API key")
        self._key = api_key
        self.model_id = model_id.strip("/")
        self._http = http
        self._queue = queue_url.rstrip("/")
        self._prompt = prompt
        self._extra = dict(extra_input or {})
        self._webhook_url = webhook_url
        self._ttl = media_ttl_seconds
        self._timeout = timeout_seconds
        self._max_download = max_download_bytes

    # --- the model input ---------------------------------------------------------------------

    def model_input(self, *, image_jpeg: bytes, wav: bytes) -> dict[str, Any]:
        body: dict[str, Any] = dict(self._extra)
        body["image_url"] = _data_uri("image/jpeg", image_jpeg)
        body["audio_url"] = _data_uri("audio/wav", wav)
        if self._prompt:
            body["prompt"] = self._prompt
        return body

    @staticmethod
    def _prepare(request: VideoRequest) -> tuple[bytes, bytes]:
        pixels = faces.decode_image(request.image)
        image = Image.fromarray(pixels)
        image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        voice = speech.load_speech(request.audio, max_seconds=request.max_seconds)
        return out.getvalue(), voice.wav

    # --- the queue ---------------------------------------------------------------------------

    async def submit(self, request: VideoRequest, *,
                     on_progress: ProgressCallback | None = None) -> VideoJobRef:
        image_jpeg, wav = await asyncio.to_thread(self._prepare, request)
        url = f"{self._queue}/{self.model_id}"
        if self._webhook_url:
            url += "?fal_webhook=" + quote(self._webhook_url, safe="")
        headers = {"X-Fal-Object-Lifecycle-Preference":
                   json.dumps({"expiration_duration_seconds": self._ttl})}
        reply = await self._call("POST", url, json=self.model_input(image_jpeg=image_jpeg,
                                                                    wav=wav), headers=headers)
        request_id = reply.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise ProviderUnavailable("the submit reply carried no request id",
                                      provider=self.name, code="bad_reply")
        base = f"{self._queue}/{app_path(self.model_id)}/requests/{request_id}"
        data = {
            "status_url": _url(reply.get("status_url"), f"{base}/status"),
            "response_url": _url(reply.get("response_url"), base),
            "cancel_url": _url(reply.get("cancel_url"), f"{base}/cancel"),
            "model_id": self.model_id,
        }
        return VideoJobRef(self.name, request_id, data)

    async def status(self, ref: VideoJobRef) -> VideoStatus:
        reply = await self._call("GET", ref.data["status_url"])
        state = reply.get("status")
        position = reply.get("queue_position")
        position = position if isinstance(position, int) else None
        if state in _STATES:
            return VideoStatus(_STATES[state], progress=None, queue_position=position)  # type: ignore[arg-type]
        if state == "COMPLETED":
            error = reply.get("error")
            if error:
                code = reply.get("error_type")
                return VideoStatus("failed", error_code=code if isinstance(code, str) else
                                   "provider_failed", error_message=str(error)[:300])
            return VideoStatus("done", progress=1.0)
        raise ProviderUnavailable(f"unexpected status {str(state)[:40]!r}", provider=self.name,
                                  code="bad_reply")

    async def result(self, ref: VideoJobRef) -> RenderedVideo:
        output = await self._call("GET", ref.data["response_url"], not_ready_ok=True)
        return await self.video_from_output(output)

    async def video_from_output(self, output: dict[str, Any]) -> RenderedVideo:
        """Downloads and checks the MP4 a finished request (or its webhook) points at."""
        video = output.get("video")
        url = video.get("url") if isinstance(video, dict) else None
        if not isinstance(url, str) or not url.startswith("https://"):
            raise ProviderRejected("the result holds no video", provider=self.name,
                                   code="no_video")
        data = await self._download(url)
        return await asyncio.to_thread(_rendered_from_mp4, data)

    async def cancel(self, ref: VideoJobRef) -> bool:
        try:
            response = await self._http.put(ref.data["cancel_url"], headers=self._auth(),
                                            timeout=self._timeout)
        except httpx.TimeoutException:
            raise ProviderUnavailable("the cancel request timed out", provider=self.name,
                                      code="timeout") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"could not reach fal.ai ({type(exc).__name__})",
                                      provider=self.name, code="connection_error") from None
        if response.status_code in (200, 202):
            return True
        if response.status_code in (400, 404):
            return False  # ALREADY_COMPLETED / NOT_FOUND: nothing left to stop
        raise self._error(response)

    # --- plumbing ----------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Key {self._key}"}

    async def _call(self, method: str, url: str, *, json: Any = None,
                    headers: dict[str, str] | None = None,
                    not_ready_ok: bool = False) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, json=json,
                                                headers={**self._auth(), **(headers or {})},
                                                timeout=self._timeout)
        except httpx.TimeoutException:
            raise ProviderUnavailable("fal.ai did not answer in time", provider=self.name,
                                      code="timeout") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"could not reach fal.ai ({type(exc).__name__})",
                                      provider=self.name, code="connection_error") from None
        if not_ready_ok and response.status_code == 400 and _still_running(response):
            raise VideoNotReady("the render is not finished", provider=self.name,
                                code="not_ready")
        if response.status_code >= 400:
            raise self._error(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderUnavailable("fal.ai answered with something other than JSON",
                                      provider=self.name, code="bad_reply")
        return body

    def _error(self, response: httpx.Response) -> ProviderError:
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            message = str(detail[0].get("msg", ""))
        else:
            message = str(detail or "")
        code = response.headers.get("x-fal-error-type") or (
            body.get("error_type") if isinstance(body, dict) else None)
        return error_for_status(self.name, response.status_code,
                                code if isinstance(code, str) else None, message[:300],
                                retry_after=retry_after_header(response))

    async def _download(self, url: str) -> bytes:
        try:
            async with self._http.stream("GET", url, timeout=self._timeout) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._error(response)
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_download:
                        raise ProviderRejected("the rendered file is too large",
                                               provider=self.name, code="too_large")
                    chunks.append(chunk)
        except httpx.TimeoutException:
            raise ProviderUnavailable("the download timed out", provider=self.name,
                                      code="timeout") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"the download failed ({type(exc).__name__})",
                                      provider=self.name, code="connection_error") from None
        return b"".join(chunks)


def _rendered_from_mp4(data: bytes) -> RenderedVideo:
    try:
        duration, width, height = encoding.probe_mp4(data)
        poster = encoding.poster_jpeg(encoding.first_frame(data))
    except Exception:
        raise ProviderRejected("the rendered file is not a playable MP4", provider="fal",
                               code="bad_video") from None
    return RenderedVideo(video=data, poster=poster, duration_s=round(duration, 3),
                         width=width, height=height)


def _data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def _url(value: object, default: str) -> str:
    return value if isinstance(value, str) and value.startswith("http") else default


def _still_running(response: httpx.Response) -> bool:
    """A result asked for too early: 400 with the queue status, or "still in progress"."""
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    return body.get("status") in ("IN_QUEUE", "IN_PROGRESS") or "in progress" in str(
        body.get("detail", "")).lower()
