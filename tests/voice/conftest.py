"""Fixtures for voice tests: the chat test members, a scripted model, and fast voices.

The default voice here is an espeak-ng one (milliseconds per sentence), so most tests speak
quickly; tests about Piper pick it explicitly. Speech costs 1 credit per started second, so the
arithmetic is plain. The local engines are shared per process (`providers.speech.worker`), so
Piper and Whisper load once for the whole test run.
"""

from decimal import Decimal
from typing import Any

import pytest

from clonechats.providers.speech.encoding import wav_bytes
from clonechats.settings import Settings, SpeechSettings
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

FAST_VOICE = "local:espeak-en-us-m"
PIPER_VOICE = "local:piper-joe"


def speech_settings(**overrides: Any) -> SpeechSettings:
    values: dict[str, Any] = {"default_voice": FAST_VOICE,
                              "credits_per_second": Decimal(1), "clip_minimum_credits": 1}
    values.update(overrides)
    return SpeechSettings(**values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         chat=chat_settings(), speech=speech_settings())


@pytest.fixture(scope="session")
def spoken_wav() -> bytes:
    """A WAV of the local Piper voice saying a known sentence (made once per run)."""
    import asyncio

    from clonechats.providers.speech.local import LocalTTS

    tts = LocalTTS()
    voice = next(v for v in tts.voices() if v.id == PIPER_VOICE)
    synthesis = asyncio.run(tts.synthesize("The quick brown fox jumps over the lazy dog.",
                                           voice=voice))
    return wav_bytes(synthesis.samples, synthesis.sample_rate)


async def reply_message(member: Member, fake: Any, chunks: list[str]) -> dict[str, Any]:
    """A finished persona reply in a new conversation; returns the reply message."""
    persona = await member.persona()
    conversation = await member.conversation(persona["_id"])
    fake.enqueue(chunks)
    response = await member.say(conversation["id"], "Hi!", stream="false")
    assert response.status_code == 201, response.text
    return response.json()["message"]
