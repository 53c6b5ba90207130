"""Fixtures for debate tests: chat's scripted model, scripted moderator and members with
credits (`tests/chat/conftest.py`), on settings where a turn checks for a stop after every
token. Prices as in chat: each reply token costs 1 credit, prompts are free."""

from typing import Any

import pytest

from clonechats.settings import RoomSettings, Settings
from tests.chat.conftest import (  # noqa: F401 - fixtures used by the room tests
    BLOCK_WORD,
    Member,
    ann,
    bob,
    chat_settings,
    fake_llm,
    moderator,
    parse_sse,
)
from tests.conftest import FAST_HASHING, make_settings

TURN_TOKENS = 16


def room_settings(**overrides: Any) -> RoomSettings:
    values: dict[str, Any] = {"max_turn_tokens": TURN_TOKENS, "max_summary_tokens": 32,
                              "renew_seconds": 0, "viewer_poll_seconds": 0.01}
    values.update(overrides)
    return RoomSettings(**values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         chat=chat_settings(), rooms=room_settings())


async def debate(member: Member, persona_ids: list[str], **fields: Any) -> dict[str, Any]:
    body = {"kind": "debate", "topic": "Cats or dogs?", "persona_ids": persona_ids,
            "rounds": 2, "moderator": "auto", **fields}
    response = await member.send("POST", "/api/v1/rooms", json=body)
    assert response.status_code == 201, response.text
    return response.json()["room"]


async def room_of(member: Member, room_id: str) -> dict[str, Any]:
    response = await member.send("GET", f"/api/v1/rooms/{room_id}")
    assert response.status_code == 200, response.text
    return response.json()["room"]
