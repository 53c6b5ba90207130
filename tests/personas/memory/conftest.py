"""Fixtures for memory tests: a persona owned by `ann` (tests/personas/conftest.py), helpers
to call the memories API, and embedding providers that fail or speak for another model."""

from collections.abc import Sequence
from typing import Any

import pytest

from clonechats.personas.memory import recall
from clonechats.providers.errors import ProviderUnavailable
from tests.factories import make_persona


class FailingEmbeddings:
    """An embedding provider whose model cannot run (like a missing or broken install)."""

    name = "failing"
    dimensions = 384

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.calls = 0

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        raise ProviderUnavailable("the model is not available", provider=self.name)

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        raise ProviderUnavailable("the model is not available", provider=self.name)


@pytest.fixture(autouse=True)
def empty_recall_cache():
    """Each test starts with no cached persona index in this process (as a fresh app would)."""
    recall.CACHE.clear()
    yield
    recall.CACHE.clear()


@pytest.fixture
async def persona(ctx, ann) -> dict[str, Any]:
    return await make_persona(ctx, owner_id=ann.id, name="Ada")


def memories_url(persona_id: str, memory_id: str | None = None) -> str:
    base = f"/api/v1/personas/{persona_id}/memories"
    return f"{base}/{memory_id}" if memory_id else base
