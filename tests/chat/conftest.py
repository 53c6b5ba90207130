"""Fixtures for chat tests: a scripted model, a scripted moderator, members with credits.

Prices make the arithmetic plain: prompt tokens are free, each reply token costs 1 credit, and
a reply is at most 8 tokens, so every reply reserves 8 credits and is charged 1 per chunk.
`stop_poll_seconds=0` makes a reply check its stop flag in the database after every token, so
stops made "from another process" (written straight to the database) are seen at once.
"""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from clonechats.billing import ledger
from clonechats.providers.llm.registry import LLMRegistry
from clonechats.providers.moderation.base import ModerationResult
from clonechats.settings import ChatSettings, ModelPrice, Settings
from tests import factories
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import make_persona, new_client
from tests.fakes.llm import FAKE_MODEL, FakeLLMProvider

MAX_REPLY = 8
BLOCK_WORD = "FORBIDDEN"


def chat_settings(**overrides: Any) -> ChatSettings:
    values: dict[str, Any] = {
        "prices": {"fake:*": ModelPrice(prompt_per_1k=Decimal(0), completion_per_1k=Decimal(1000),
                                        minimum=1)},
        "max_reply_tokens": MAX_REPLY, "stop_poll_seconds": 0,
    }
    values.update(overrides)
    return ChatSettings(**values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         chat=chat_settings())


class ScriptedModerator:
    """Flags any text containing BLOCK_WORD; `checked` keeps every text it saw."""

    name = "scripted"

    def __init__(self) -> None:
        self.checked: list[str] = []

    async def check(self, text: str) -> ModerationResult:
        self.checked.append(text)
        if BLOCK_WORD in text:
            return ModerationResult(flagged=True, categories={"harassment": 0.99},
                                    reason="harassment")
        return ModerationResult(flagged=False, categories={}, reason=None)


@pytest.fixture
def fake_llm(ctx) -> FakeLLMProvider:
    fake = FakeLLMProvider()
    ctx.llm = LLMRegistry([fake], default_model=FAKE_MODEL.id)
    return fake


@pytest.fixture
def moderator(ctx) -> ScriptedModerator:
    scripted = ScriptedModerator()
    ctx.moderation = scripted
    return scripted


class Member(factories.Member):
    async def grant(self, credits: int) -> None:
        await ledger.apply(self.ctx.db, user_id=self.id, delta=credits, kind=ledger.GRANT,
                           reason="test grant", idempotency_key=f"test:{self.id}:{credits}",
                           now=self.ctx.clock.now())

    async def balance(self) -> int:
        user = await self.ctx.db.users.find_one({"_id": self.id})
        return user["credits"]

    async def persona(self, **fields: Any) -> dict[str, Any]:
        return await make_persona(self.ctx, owner_id=self.id, **fields)

    async def conversation(self, persona_id: str) -> dict[str, Any]:
        response = await self.send("POST", "/api/v1/conversations",
                                   json={"persona_id": persona_id})
        assert response.status_code == 201, response.text
        return response.json()["conversation"]

    async def say(self, conversation_id: str, text: str, **params: Any) -> httpx.Response:
        return await self.send("POST", f"/api/v1/conversations/{conversation_id}/messages",
                               json={"text": text}, params=params)


async def member(client: httpx.AsyncClient, ctx: Any, email: str) -> Member:
    return await factories.member(client, ctx, email, kind=Member)


@pytest.fixture
async def ann(client, ctx, fake_llm, moderator) -> Member:
    found = await member(client, ctx, "ann@example.com")
    await found.grant(100)
    return found


@pytest.fixture
async def bob(app, ctx, fake_llm, moderator) -> AsyncIterator[Member]:
    async with new_client(app) as client:
        found = await member(client, ctx, "bob@example.com")
        await found.grant(100)
        yield found


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of an SSE body."""
    import json

    events = []
    for block in body.strip().split("\n\n"):
        name, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
        assert name is not None and data is not None, block
        events.append((name, data))
    return events
