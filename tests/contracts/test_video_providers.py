"""One contract for every video provider: a face and a voice in, a playable MP4 and poster
out; status moves forward; cancel stops a render that has not finished.

Runs against the local renderer and fal.ai (on the local fake of its queue API, whose file is
a clip the local renderer made).
"""

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import av
import pytest

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.video.base import VideoJobRef, VideoProvider, VideoRequest
from clonechats.providers.video.fal import FalVideoProvider
from clonechats.providers.video.local import LocalVideoProvider
from clonechats.providers.video.renderer import render_talking_head
from tests.fakes.fal import API_KEY, QUEUE_URL, FakeFal
from tests.video_samples import face_image, speech_plan, speech_wav

REQUEST = VideoRequest(image=face_image(400), audio=speech_wav(speech_plan(words=2)))


@dataclass
class Subject:
    provider: VideoProvider
    finish: Callable[[VideoJobRef], Awaitable[None]]  # let the vendor finish the render


@pytest.fixture(params=["local", "fal"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "local":
        async def nothing(ref: VideoJobRef) -> None:
            return None

        yield Subject(LocalVideoProvider(size=256), nothing)
        return
    fake = FakeFal(video=render_talking_head(REQUEST, size=256).video)

    async def finish(ref: VideoJobRef) -> None:
        fake.start(ref.job_id)
        fake.complete(ref.job_id)

    async with fake.client() as http:
        yield Subject(FalVideoProvider(api_key=API_KEY, model_id="fal-ai/infinitalk",
                                       http=http, queue_url=QUEUE_URL, prompt="Talking."),
                      finish)


async def test_renders_a_playable_clip_with_a_poster(subject: Subject) -> None:
    provider = subject.provider
    assert isinstance(provider, VideoProvider)
    ref = await provider.submit(REQUEST)
    assert ref.provider == provider.name and ref.job_id
    assert (await provider.status(ref)).state in ("queued", "rendering")
    await subject.finish(ref)
    video = await provider.result(ref)

    with av.open(io.BytesIO(video.video), format="mp4") as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
        assert next(container.decode(video=0)).width == video.width == 256
    assert video.poster[:3] == b"\xff\xd8\xff"
    assert 1.0 < video.duration_s < 5.0
    assert (await provider.status(ref)).state == "done"
    assert await provider.cancel(ref) is False


async def test_cancel_stops_an_unfinished_render(subject: Subject) -> None:
    ref = await subject.provider.submit(REQUEST)
    assert await subject.provider.cancel(ref) is True
    with pytest.raises(ProviderRejected) as caught:
        await subject.provider.result(ref)
    assert caught.value.retryable is False
