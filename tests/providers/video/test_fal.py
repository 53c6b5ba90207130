"""fal.ai adapter against a local fake of its queue API: what crosses the wire, the status
mapping, results, failures, timeouts and cancellation."""

import functools
import io
import json
import wave

import httpx
import pytest

from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.providers.video.base import VideoNotReady, VideoProvider, VideoRequest
from clonechats.providers.video.fal import FalVideoProvider
from clonechats.providers.video.renderer import render_talking_head
from tests.fakes.fal import API_KEY, QUEUE_URL, FakeFal
from tests.video_samples import face_image, speech_plan, speech_wav

MODEL = "fal-ai/infinitalk"


@functools.cache
def mp4_clip() -> bytes:
    """A short real MP4 (made once) for the fake's CDN to serve."""
    request = VideoRequest(image=face_image(256), audio=speech_wav(speech_plan(words=1)))
    return render_talking_head(request, size=128).video


@pytest.fixture
def mp4() -> bytes:
    return mp4_clip()


def _provider(http: httpx.AsyncClient, **kwargs) -> FalVideoProvider:
    return FalVideoProvider(api_key=API_KEY, model_id=kwargs.pop("model_id", MODEL), http=http,
                            queue_url=QUEUE_URL, prompt="A person talking.",
                            extra_input={"resolution": "480p"}, **kwargs)


def _request(**kwargs) -> VideoRequest:
    return VideoRequest(image=face_image(512, fmt="PNG"), audio=speech_wav(), **kwargs)


async def test_submit_sends_only_the_image_and_the_voice(mp4: bytes) -> None:
    fake = FakeFal(video=mp4)
    async with fake.client() as http:
        provider = _provider(http, webhook_url="https://app.example.com/api/v1/webhooks/fal")
        assert isinstance(provider, VideoProvider)
        ref = await provider.submit(_request())

    [submit] = fake.history
    assert submit.method == "POST"
    assert submit.url.path == f"/{MODEL}"
    assert submit.url.params["fal_webhook"] == "https://app.example.com/api/v1/webhooks/fal"
    assert submit.headers["authorization"] == f"Key {API_KEY}"
    assert json.loads(submit.headers["x-fal-object-lifecycle-preference"]) == {
        "expiration_duration_seconds": 3600}
    [received] = fake.received
    assert received["fields"] == ["audio_url", "image_url", "prompt", "resolution"]
    assert received["image"][:3] == b"\xff\xd8\xff"  # re-encoded JPEG: no PNG chunks, no EXIF
    assert received["audio"][:4] == b"RIFF"
    assert ref.job_id == received["request_id"]
    assert ref.data["status_url"].endswith(f"/{ref.job_id}/status")


async def test_queued_rendering_done_and_the_result(mp4: bytes) -> None:
    fake = FakeFal(video=mp4)
    async with fake.client() as http:
        provider = _provider(http)
        ref = await provider.submit(_request())
        assert (await provider.status(ref)).state == "queued"
        with pytest.raises(VideoNotReady):
            await provider.result(ref)
        fake.start(ref.job_id)
        assert (await provider.status(ref)).state == "rendering"
        fake.complete(ref.job_id)
        status = await provider.status(ref)
        video = await provider.result(ref)

    assert status.state == "done" and status.progress == 1.0
    assert video.video == mp4
    assert (video.width, video.height) == (128, 128)
    assert video.duration_s > 0.5
    assert video.poster[:3] == b"\xff\xd8\xff"


async def test_a_model_with_a_sub_path_polls_under_owner_and_alias(mp4: bytes) -> None:
    fake = FakeFal(video=mp4)
    async with fake.client() as http:
        provider = _provider(http, model_id="fal-ai/kling-video/lipsync/audio-to-video")
        ref = await provider.submit(_request())
        fake.complete(ref.job_id)
        assert (await provider.status(ref)).state == "done"
    assert fake.history[0].url.path == "/fal-ai/kling-video/lipsync/audio-to-video"
    assert fake.history[1].url.path == f"/fal-ai/kling-video/requests/{ref.job_id}/status"


async def test_a_failed_render_is_reported_as_failed() -> None:
    fake = FakeFal()
    async with fake.client() as http:
        provider = _provider(http)
        ref = await provider.submit(_request())
        fake.fail(ref.job_id, "face not detected", "runner_error")
        status = await provider.status(ref)
        with pytest.raises(ProviderRejected):
            await provider.result(ref)
    assert status.state == "failed"
    assert status.error_code == "runner_error"
    assert "face not detected" in (status.error_message or "")


@pytest.mark.parametrize(("status", "expected"), [
    (401, ProviderAuthError), (403, ProviderAuthError), (422, ProviderRejected),
    (429, ProviderUnavailable), (503, ProviderUnavailable), (504, ProviderUnavailable),
])
async def test_vendor_errors_become_provider_errors(status: int, expected: type) -> None:
    fake = FakeFal()
    fake.enqueue_response(status, {"detail": "Request timed out", "error_type": "x"},
                          headers={"X-Fal-Error-Type": "request_timeout"})
    async with fake.client() as http:
        with pytest.raises(expected) as caught:
            await _provider(http).submit(_request())
    assert caught.value.status == status
    assert API_KEY not in str(caught.value)
    assert fake.requests == {}


async def test_a_timeout_is_retryable() -> None:
    fake = FakeFal()
    fake.enqueue_failure(httpx.ReadTimeout)
    async with fake.client() as http:
        with pytest.raises(ProviderUnavailable) as caught:
            await _provider(http).submit(_request())
    assert caught.value.retryable and caught.value.code == "timeout"


async def test_a_wrong_key_is_an_auth_error() -> None:
    fake = FakeFal(api_key="another-key")
    async with fake.client() as http:
        with pytest.raises(ProviderAuthError):
            await _provider(http).submit(_request())


async def test_cancel_before_and_after_completion(mp4: bytes) -> None:
    fake = FakeFal(video=mp4)
    async with fake.client() as http:
        provider = _provider(http)
        ref = await provider.submit(_request())
        assert await provider.cancel(ref) is True
        assert fake.history[-1].method == "PUT"
        assert fake.history[-1].url.path.endswith(f"/requests/{ref.job_id}/cancel")
        done = await provider.submit(_request())
        fake.complete(done.job_id)
        assert await provider.cancel(done) is False


async def test_a_result_without_a_playable_video_is_rejected() -> None:
    fake = FakeFal(video=b"<html>not a video</html>")
    async with fake.client() as http:
        provider = _provider(http)
        ref = await provider.submit(_request())
        fake.complete(ref.job_id)
        with pytest.raises(ProviderRejected) as caught:
            await provider.result(ref)
    assert caught.value.code == "bad_video"


async def test_an_oversized_download_is_refused(mp4: bytes) -> None:
    fake = FakeFal(video=mp4)
    async with fake.client() as http:
        provider = _provider(http, max_download_bytes=len(mp4) // 2)
        ref = await provider.submit(_request())
        fake.complete(ref.job_id)
        with pytest.raises(ProviderRejected) as caught:
            await provider.result(ref)
    assert caught.value.code == "too_large"


async def test_the_voice_sent_is_cut_at_max_seconds() -> None:
    fake = FakeFal()
    async with fake.client() as http:
        await _provider(http).submit(VideoRequest(image=face_image(),
                                                  audio=speech_wav(speech_plan(words=8)),
                                                  max_seconds=2.0))
    with wave.open(io.BytesIO(fake.received[0]["audio"])) as clip:
        assert clip.getnframes() / clip.getframerate() == pytest.approx(2.0, abs=0.01)
