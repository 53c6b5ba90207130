"""Fixtures for video job tests: chat members on the Pro plan, a persona with a face, small
fast renders, and a fal.ai fake wired in when a test asks for it.

Renders are 128 px (the smallest size) so a job takes a fraction of a second; the default voice
is an espeak-ng one; a second of video costs 1 credit; progress streams re-read their job every
10 ms.
"""

from decimal import Decimal
from typing import Any

import pytest

from clonechats.providers.video.fal import FalVideoProvider
from clonechats.providers.video.fal_webhooks import FalWebhookVerifier
from clonechats.settings import Settings, VideoSettings
from tests.chat.conftest import (  # noqa: F401 - fixtures shared with the chat tests
    Member,
    ann,
    bob,
    chat_settings,
    fake_llm,
    moderator,
    parse_sse,
)
from tests.conftest import FAST_HASHING, make_settings
from tests.fakes.fal import API_KEY, JWKS_URL, QUEUE_URL, USER_ID, FakeFal
from tests.video_samples import face_image
from tests.voice.conftest import speech_settings


def video_settings(**overrides: Any) -> VideoSettings:
    values: dict[str, Any] = {"size": 128, "credits_per_second": Decimal(1),
                              "monthly_minutes": {"free": 0, "plus": 0.1, "pro": 5},
                              "events_poll_seconds": 0.01}
    values.update(overrides)
    return VideoSettings(**values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         chat=chat_settings(), speech=speech_settings(),
                         video=video_settings())


async def set_plan(member: Member, tier: str) -> None:
    await member.ctx.db.users.update_one({"_id": member.id}, {"$set": {"plan": tier}})


async def upload_avatar(member: Member, persona_id: str, image: bytes) -> None:
    response = await member.send("POST", f"/api/v1/personas/{persona_id}/avatar",
                                 files={"file": ("avatar.png", image, "image/png")})
    assert response.status_code == 201, response.text


async def persona_reply(member: Member, fake: Any, chunks: list[str], *,
                        image: bytes | None = None, avatar: bool = True) -> dict[str, Any]:
    """A finished reply of a persona (with `image` as its avatar, a face by default)."""
    persona = await member.persona()
    if avatar:
        await upload_avatar(member, persona["_id"], image or face_image(400))
    conversation = await member.conversation(persona["_id"])
    fake.enqueue(chunks)
    response = await member.say(conversation["id"], "Hi!", stream="false")
    assert response.status_code == 201, response.text
    return response.json()["message"]


async def ask_video(member: Member, message_id: str):
    return await member.send("POST", f"/api/v1/messages/{message_id}/video")


@pytest.fixture
async def pro(ann: Member) -> Member:  # noqa: F811 - the shared fixture, on Pro
    await set_plan(ann, "pro")
    return ann


@pytest.fixture
async def fal(ctx, clock):
    """ctx renders with fal.ai, on the fake of its queue API; yields the fake."""
    from tests.providers.video.test_fal import mp4_clip

    fake = FakeFal(video=mp4_clip())
    async with fake.client() as http:
        ctx.video = FalVideoProvider(api_key=API_KEY, model_id="fal-ai/infinitalk", http=http,
                                     queue_url=QUEUE_URL, prompt="Talking.",
                                     webhook_url="https://chat.example.com/api/v1/webhooks/fal")
        ctx.fal_webhooks = FalWebhookVerifier(http=http, clock=clock, jwks_url=JWKS_URL,
                                              user_id=USER_ID)
        yield fake
